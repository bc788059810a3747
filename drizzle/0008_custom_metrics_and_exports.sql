CREATE TYPE "public"."custom_metric_directionality" AS ENUM('higherIsBetter', 'lowerIsBetter');--> statement-breakpoint
CREATE TYPE "public"."custom_metric_type" AS ENUM('average', 'sum', 'gauge');--> statement-breakpoint
CREATE TYPE "public"."data_export_format" AS ENUM('CSV', 'PARQUET');--> statement-breakpoint
CREATE TYPE "public"."data_export_status" AS ENUM('CREATED', 'RUNNING', 'SUCCEEDED', 'FAILED');--> statement-breakpoint
CREATE TABLE "batch_custom_metric_values" (
	"deployment_id" text NOT NULL,
	"metric_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"model_id" text NOT NULL,
	"bucket_count" bigint NOT NULL,
	"sample_size" bigint NOT NULL,
	"value_sum" double precision NOT NULL,
	"value_min" double precision NOT NULL,
	"value_max" double precision NOT NULL,
	"gauge_value" double precision NOT NULL,
	"gauge_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "batch_custom_metric_values_metric_id_batch_id_model_id_pk" PRIMARY KEY("metric_id","batch_id","model_id")
);
--> statement-breakpoint
CREATE TABLE "custom_metrics" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"deployment_id" text NOT NULL,
	"name" text NOT NULL,
	"units" text NOT NULL,
	"type" "custom_metric_type" NOT NULL,
	"directionality" "custom_metric_directionality" NOT NULL,
	"baseline_value" double precision,
	"is_model_specific" boolean NOT NULL,
	"time_step" text DEFAULT 'hour' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_by_id" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "data_exports" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"deployment_id" text NOT NULL,
	"created_by_id" text NOT NULL,
	"batch_ids" text[] NOT NULL,
	"model_id" text,
	"period_start" timestamp (3) with time zone,
	"period_end" timestamp (3) with time zone,
	"format" "data_export_format" NOT NULL,
	"include_actuals" boolean NOT NULL,
	"status" "data_export_status" DEFAULT 'CREATED' NOT NULL,
	"row_count" bigint,
	"rows_written" bigint DEFAULT 0 NOT NULL,
	"size_bytes" bigint,
	"file_name" text,
	"error" text,
	"claimed_until" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	"expires_at" timestamp (3) with time zone,
	"file_deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "batch_custom_metric_values" ADD CONSTRAINT "batch_custom_metric_values_metric_id_custom_metrics_id_fk" FOREIGN KEY ("metric_id") REFERENCES "public"."custom_metrics"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_custom_metric_values" ADD CONSTRAINT "batch_custom_metric_values_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "custom_metrics" ADD CONSTRAINT "custom_metrics_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "custom_metrics" ADD CONSTRAINT "custom_metrics_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "data_exports" ADD CONSTRAINT "data_exports_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "data_exports" ADD CONSTRAINT "data_exports_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "batch_custom_metric_values_batch_idx" ON "batch_custom_metric_values" USING btree ("batch_id");--> statement-breakpoint
CREATE INDEX "custom_metrics_deployment_idx" ON "custom_metrics" USING btree ("deployment_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "custom_metrics_name_idx" ON "custom_metrics" USING btree ("deployment_id","name");--> statement-breakpoint
CREATE INDEX "data_exports_deployment_idx" ON "data_exports" USING btree ("deployment_id","created_at","id");--> statement-breakpoint
CREATE INDEX "data_exports_pending_idx" ON "data_exports" USING btree ("created_at") WHERE status in ('CREATED', 'RUNNING');--> statement-breakpoint
CREATE INDEX "data_exports_expiry_idx" ON "data_exports" USING btree ("expires_at") WHERE not file_deleted and expires_at is not null;