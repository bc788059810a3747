-- Issue 14, step 2 of 2: the narrow predictions table (see src/db/tables.ts), filled from the old
-- one in place: ids kept (so ingest order and export order stay), text ids turned into keys,
-- features split by the deployment's declared types in declaration order, association ids that are
-- canonical lowercase UUIDs stored as uuid (their text form is the same string). Rows of batches
-- already purged (no batch row) are not carried over. Indexes are built after the copy.
CREATE TABLE "prediction_models" (
	"deployment_id" text NOT NULL,
	"model_id" text NOT NULL,
	"key" integer GENERATED ALWAYS AS IDENTITY (sequence name "prediction_models_key_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	CONSTRAINT "prediction_models_deployment_id_model_id_pk" PRIMARY KEY("deployment_id","model_id")
);
--> statement-breakpoint
CREATE TABLE "predictions" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "predictions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"batch_key" bigint NOT NULL,
	"timestamp" timestamp (3) with time zone NOT NULL,
	"prediction" double precision,
	"deployment_key" integer NOT NULL,
	"model_key" integer NOT NULL,
	"numeric_features" double precision[],
	"categorical_features" jsonb,
	"probabilities" double precision[],
	"predicted_label" text,
	"association_uuid" uuid,
	"association_text" text
);
--> statement-breakpoint
INSERT INTO "prediction_models" ("deployment_id", "model_id")
SELECT DISTINCT "deployment_id", "model_id" FROM "predictions_before_narrow" ORDER BY 1, 2;--> statement-breakpoint
INSERT INTO "predictions" ("id", "batch_key", "timestamp", "prediction", "deployment_key", "model_key", "numeric_features",
  "categorical_features", "probabilities", "predicted_label", "association_uuid", "association_text")
OVERRIDING SYSTEM VALUE
WITH "declared" AS (
  SELECT d."id", d."key",
    (SELECT array_agg(f->>'name' ORDER BY o) FROM jsonb_array_elements(d."features") WITH ORDINALITY AS x(f, o) WHERE f->>'type' = 'NUMERIC') AS "numeric_names",
    (SELECT array_agg(f->>'name' ORDER BY o) FROM jsonb_array_elements(d."features") WITH ORDINALITY AS x(f, o) WHERE f->>'type' <> 'NUMERIC') AS "categorical_names"
  FROM "deployments" d
)
SELECT p."id", b."key", p."timestamp", p."prediction", d."key", m."key",
  CASE WHEN d."numeric_names" IS NOT NULL THEN
    ARRAY(SELECT (p."features"->>n)::float8 FROM unnest(d."numeric_names") WITH ORDINALITY AS u(n, o) ORDER BY o) END,
  CASE WHEN d."categorical_names" IS NOT NULL THEN
    (SELECT jsonb_agg(coalesce(p."features"->c, 'null'::jsonb) ORDER BY o) FROM unnest(d."categorical_names") WITH ORDINALITY AS u(c, o)) END,
  p."probabilities", p."predicted_label",
  CASE WHEN p."association_id" ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN p."association_id"::uuid END,
  CASE WHEN p."association_id" !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN p."association_id" END
FROM "predictions_before_narrow" p
JOIN "declared" d ON d."id" = p."deployment_id"
JOIN "monitoring_batches" b ON b."id" = p."batch_id"
JOIN "prediction_models" m ON m."deployment_id" = p."deployment_id" AND m."model_id" = p."model_id"
ORDER BY p."id";--> statement-breakpoint
SELECT setval(pg_get_serial_sequence('"predictions"', 'id'), coalesce((SELECT max("id") FROM "predictions_before_narrow"), 0) + 1, false);--> statement-breakpoint
DROP TABLE "predictions_before_narrow";--> statement-breakpoint
ALTER TABLE "prediction_models" ADD CONSTRAINT "prediction_models_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "prediction_models_key_idx" ON "prediction_models" USING btree ("key");--> statement-breakpoint
CREATE INDEX "predictions_batch_idx" ON "predictions" USING btree ("batch_key","id");--> statement-breakpoint
CREATE UNIQUE INDEX "predictions_association_uuid_idx" ON "predictions" USING btree ("deployment_key","association_uuid") WHERE association_uuid is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "predictions_association_text_idx" ON "predictions" USING btree ("deployment_key","association_text") WHERE association_text is not null;
--> statement-breakpoint
-- The stored rows as they were sent, for people and scripts reading the database (and the tests):
-- text ids, the features as one JSON object. Not for the server's own reads (they use the keys).
CREATE VIEW "prediction_rows" AS
SELECT p."id", d."id" AS "deployment_id", b."id" AS "batch_id", m."model_id", p."timestamp",
  (SELECT coalesce(jsonb_object_agg(x.f->>'name',
      CASE WHEN x.f->>'type' = 'NUMERIC' THEN coalesce(to_jsonb(p."numeric_features"[x.n]), 'null'::jsonb)
           ELSE coalesce(p."categorical_features"->(x.c::int - 1), 'null'::jsonb) END), '{}'::jsonb)
   FROM (SELECT e.f, count(*) FILTER (WHERE e.f->>'type' = 'NUMERIC') OVER w AS n, count(*) FILTER (WHERE e.f->>'type' <> 'NUMERIC') OVER w AS c
         FROM jsonb_array_elements(d."features") WITH ORDINALITY AS e(f, o) WINDOW w AS (ORDER BY e.o)) x) AS "features",
  p."prediction", p."probabilities", p."predicted_label",
  coalesce(p."association_text", p."association_uuid"::text) AS "association_id"
FROM "predictions" p
JOIN "deployments" d ON d."key" = p."deployment_key"
JOIN "monitoring_batches" b ON b."key" = p."batch_key"
JOIN "prediction_models" m ON m."key" = p."model_key";
