-- Faster merges of per-batch count arrays over a batch selection (src/modules/metrics/sums.ts).
--
-- 1. bl_array_sum gets a STRICT plpgsql transition. The LANGUAGE sql bl_array_add it used is not
--    inlined in an aggregate: the SQL-function executor (an unnest/array_agg subquery) ran once
--    per row, and also for the null arrays of target types that never have them. A strict
--    transition is never called for a null input (the first non-null input becomes the state), and
--    the loop costs a fraction of the subquery. Same result as before: element-wise sum, the
--    shorter array zero-padded, null elements counted as 0. bl_array_add (ingest upserts) is kept.
CREATE FUNCTION bl_array_sum_step(s bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n int := greatest(cardinality(s), cardinality(b));
BEGIN
  IF cardinality(b) > cardinality(s) THEN
    FOR i IN 1 .. n LOOP b[i] := coalesce(b[i], 0) + coalesce(s[i], 0); END LOOP;
    RETURN b;
  END IF;
  FOR i IN 1 .. n LOOP s[i] := coalesce(s[i], 0) + coalesce(b[i], 0); END LOOP;
  RETURN s;
END
$$;
--> statement-breakpoint
DROP AGGREGATE bl_array_sum(bigint[]);
--> statement-breakpoint
CREATE AGGREGATE bl_array_sum(bigint[]) (SFUNC = bl_array_sum_step, STYPE = bigint[], COMBINEFUNC = bl_array_sum_step, PARALLEL = SAFE);
--> statement-breakpoint
-- 2. Binary accuracy's 1,000-bin positive / negative counts become one packed integer each: count i
--    in the decimal digits [16·i, 16·i + 16) of Σ countᵢ·10^(16·i) (packCounts in
--    src/modules/predictions/aggregates.ts), so sum(numeric) — built in, C — merges all bins of a
--    selection at once. Existing arrays are converted here: positive and negative elements packed
--    apart (lpad only takes non-negative digits), then subtracted; null stays null. Exact for counts
--    below 10^16 (as the packed form itself).
CREATE FUNCTION bl_pack_counts_0004(a bigint[]) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT coalesce(string_agg(lpad(greatest(coalesce(x, 0), 0)::text, 16, '0'), '' ORDER BY i DESC)::numeric, 0)
       - coalesce(string_agg(lpad(greatest(-coalesce(x, 0), 0)::text, 16, '0'), '' ORDER BY i DESC)::numeric, 0)
  FROM unnest(a) WITH ORDINALITY AS t(x, i)
$$;
--> statement-breakpoint
ALTER TABLE "batch_accuracy_stats" ALTER COLUMN "positive_bins" SET DATA TYPE numeric USING bl_pack_counts_0004("positive_bins");
--> statement-breakpoint
ALTER TABLE "batch_accuracy_stats" ALTER COLUMN "negative_bins" SET DATA TYPE numeric USING bl_pack_counts_0004("negative_bins");
--> statement-breakpoint
DROP FUNCTION bl_pack_counts_0004(bigint[]);
