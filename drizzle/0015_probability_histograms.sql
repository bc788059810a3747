-- Label-free performance estimates (issue 15): every prediction's positive-class probability of a
-- binary deployment counted per batch and model in 1,000 equal-width bins, on the prediction row of
-- batch_column_stats, packed into one integer like batch_accuracy_stats' bins (count i in the decimal
-- digits [16·i, 16·i + 16); packCounts in src/modules/predictions/aggregates.ts). Null for every
-- other row and target type.
ALTER TABLE "batch_column_stats" ADD COLUMN "probability_bins" numeric;
--> statement-breakpoint
-- ===== BACKFILL (issue 15) ======================================================================
-- Existing binary deployments' batches, from their stored rows: the bin of a probability p is
-- least(999, floor(p · 1000)) — the float8 product, as ingest computes it in JavaScript — and a
-- count n in bin i packs as the text n followed by 16·i zeros (exact; no numeric power()). Rows
-- of batches deleted but not yet purged are counted too (their aggregates go with them). Batches
-- without rows keep null (none has a prediction row in batch_column_stats anyway).
WITH "counts" AS (
  SELECT p."batch_key", p."model_key", least(999, floor(p."prediction" * 1000))::int AS "bin", count(*) AS "n"
  FROM "predictions" p
  JOIN "deployments" d ON d."key" = p."deployment_key"
  WHERE d."target_type" = 'BINARY' AND p."prediction" IS NOT NULL
  GROUP BY 1, 2, 3
), "packed" AS (
  SELECT "batch_key", "model_key", sum(("n"::text || repeat('0', 16 * "bin"))::numeric) AS "bins"
  FROM "counts"
  GROUP BY 1, 2
)
UPDATE "batch_column_stats" s SET "probability_bins" = "packed"."bins"
FROM "packed"
JOIN "monitoring_batches" b ON b."key" = "packed"."batch_key"
JOIN "prediction_models" m ON m."key" = "packed"."model_key"
WHERE s."batch_id" = b."id" AND s."model_id" = m."model_id" AND s."is_prediction" AND s."column_name" = '';
-- ===== END BACKFILL =============================================================================
