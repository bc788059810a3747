CREATE TABLE "actuals" (
	"deployment_id" text NOT NULL,
	"association_id" text NOT NULL,
	"actual_value" double precision,
	"actual_label" text,
	"was_acted_on" boolean,
	"timestamp" timestamp (3) with time zone NOT NULL,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "actuals_deployment_id_association_id_pk" PRIMARY KEY("deployment_id","association_id")
);
--> statement-breakpoint
CREATE TABLE "batch_accuracy_stats" (
	"deployment_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"model_id" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	"log_loss_sum" double precision DEFAULT 0 NOT NULL,
	"positive_bins" bigint[],
	"negative_bins" bigint[],
	"true_positives" bigint DEFAULT 0 NOT NULL,
	"false_positives" bigint DEFAULT 0 NOT NULL,
	"true_negatives" bigint DEFAULT 0 NOT NULL,
	"false_negatives" bigint DEFAULT 0 NOT NULL,
	"sum_error" double precision DEFAULT 0 NOT NULL,
	"sum_absolute_error" double precision DEFAULT 0 NOT NULL,
	"sum_squared_error" double precision DEFAULT 0 NOT NULL,
	"sum_actual" double precision DEFAULT 0 NOT NULL,
	"sum_squared_actual" double precision DEFAULT 0 NOT NULL,
	"sum_absolute_percentage_error" double precision DEFAULT 0 NOT NULL,
	"non_zero_actual_count" bigint DEFAULT 0 NOT NULL,
	"confusion" bigint[],
	CONSTRAINT "batch_accuracy_stats_batch_id_model_id_pk" PRIMARY KEY("batch_id","model_id")
);
--> statement-breakpoint
CREATE TABLE "batch_column_stats" (
	"deployment_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"model_id" text NOT NULL,
	"column_name" text NOT NULL,
	"is_prediction" boolean NOT NULL,
	"baseline_version" integer,
	"bin_counts" bigint[],
	"row_count" bigint NOT NULL,
	"missing_count" bigint NOT NULL,
	"sum" double precision DEFAULT 0 NOT NULL,
	"sum_of_squares" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "batch_column_stats_batch_id_model_id_is_prediction_column_name_pk" PRIMARY KEY("batch_id","model_id","is_prediction","column_name")
);
--> statement-breakpoint
CREATE TABLE "batch_consumers" (
	"deployment_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"model_id" text NOT NULL,
	"user_id" text NOT NULL,
	"request_count" bigint NOT NULL,
	CONSTRAINT "batch_consumers_batch_id_model_id_user_id_pk" PRIMARY KEY("batch_id","model_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "batch_execution_time_buckets" (
	"deployment_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"model_id" text NOT NULL,
	"bucket" integer NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "batch_execution_time_buckets_batch_id_model_id_bucket_pk" PRIMARY KEY("batch_id","model_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "batch_service_stats" (
	"deployment_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"model_id" text NOT NULL,
	"request_count" bigint DEFAULT 0 NOT NULL,
	"prediction_count" bigint DEFAULT 0 NOT NULL,
	"user_error_count" bigint DEFAULT 0 NOT NULL,
	"server_error_count" bigint DEFAULT 0 NOT NULL,
	"execution_time_count" bigint DEFAULT 0 NOT NULL,
	"execution_time_sum" double precision DEFAULT 0 NOT NULL,
	"execution_time_min" double precision,
	"execution_time_max" double precision,
	CONSTRAINT "batch_service_stats_batch_id_model_id_pk" PRIMARY KEY("batch_id","model_id")
);
--> statement-breakpoint
CREATE TABLE "predictions" (
	"deployment_id" text NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "predictions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"batch_id" text NOT NULL,
	"model_id" text NOT NULL,
	"timestamp" timestamp (3) with time zone NOT NULL,
	"features" jsonb NOT NULL,
	"prediction" double precision,
	"probabilities" double precision[],
	"predicted_label" text,
	"association_id" text,
	CONSTRAINT "predictions_deployment_id_id_pk" PRIMARY KEY("deployment_id","id")
);
--> statement-breakpoint
CREATE TABLE "training_baselines" (
	"deployment_id" text NOT NULL,
	"version" integer NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by_id" text NOT NULL,
	"row_count" bigint NOT NULL,
	"columns" jsonb NOT NULL,
	CONSTRAINT "training_baselines_deployment_id_version_pk" PRIMARY KEY("deployment_id","version")
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "baseline_version" integer;--> statement-breakpoint
ALTER TABLE "actuals" ADD CONSTRAINT "actuals_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_accuracy_stats" ADD CONSTRAINT "batch_accuracy_stats_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_column_stats" ADD CONSTRAINT "batch_column_stats_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_consumers" ADD CONSTRAINT "batch_consumers_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_execution_time_buckets" ADD CONSTRAINT "batch_execution_time_buckets_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_service_stats" ADD CONSTRAINT "batch_service_stats_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "training_baselines" ADD CONSTRAINT "training_baselines_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "predictions_batch_idx" ON "predictions" USING btree ("batch_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "predictions_association_idx" ON "predictions" USING btree ("deployment_id","association_id") WHERE association_id is not null;--> statement-breakpoint
-- Element-wise addition of count arrays (bin counts, confusion matrices): how aggregates merge.
-- A null side is an empty array; the shorter array counts as zero-padded.
CREATE FUNCTION bl_array_add(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN a IS NULL THEN b
    WHEN b IS NULL THEN a
    ELSE (SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i) FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i))
  END
$$;
--> statement-breakpoint
-- sum() for count arrays: merges per-batch aggregates over a batch selection.
CREATE AGGREGATE bl_array_sum(bigint[]) (SFUNC = bl_array_add, STYPE = bigint[], COMBINEFUNC = bl_array_add, PARALLEL = SAFE);
