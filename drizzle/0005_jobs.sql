CREATE TYPE "public"."batch_prediction_job_status" AS ENUM('INITIALIZING', 'RUNNING', 'COMPLETED', 'ABORTED', 'FAILED');--> statement-breakpoint
CREATE TABLE "batch_prediction_job_chunks" (
	"job_id" text NOT NULL,
	"chunk" integer NOT NULL,
	"deployment_id" text NOT NULL,
	"first_line" bigint NOT NULL,
	"row_count" integer NOT NULL,
	"input" text NOT NULL,
	"output" text,
	"claimed_until" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "batch_prediction_job_chunks_job_id_chunk_pk" PRIMARY KEY("job_id","chunk")
);
--> statement-breakpoint
CREATE TABLE "batch_prediction_job_definitions" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"deployment_id" text NOT NULL,
	"created_by_id" text NOT NULL,
	"name" text NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"schedule" jsonb,
	"spec" jsonb NOT NULL,
	"next_scheduled_run_at" timestamp (3) with time zone,
	"last_scheduled_run_at" timestamp (3) with time zone,
	"last_started_job_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "batch_prediction_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"deployment_id" text NOT NULL,
	"created_by_id" text NOT NULL,
	"definition_id" text,
	"status" "batch_prediction_job_status" DEFAULT 'INITIALIZING' NOT NULL,
	"spec" jsonb NOT NULL,
	"batch_id" text,
	"input_columns" jsonb,
	"input_rows" bigint,
	"chunk_count" integer,
	"scored_rows" bigint DEFAULT 0 NOT NULL,
	"failed_rows" bigint DEFAULT 0 NOT NULL,
	"status_details" text DEFAULT 'Job created; waiting for input' NOT NULL,
	"logs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	"results_deleted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "model_backend" jsonb;--> statement-breakpoint
ALTER TABLE "batch_prediction_job_chunks" ADD CONSTRAINT "batch_prediction_job_chunks_job_id_batch_prediction_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."batch_prediction_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_prediction_job_definitions" ADD CONSTRAINT "batch_prediction_job_definitions_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_prediction_job_definitions" ADD CONSTRAINT "batch_prediction_job_definitions_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_prediction_jobs" ADD CONSTRAINT "batch_prediction_jobs_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_prediction_jobs" ADD CONSTRAINT "batch_prediction_jobs_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_prediction_jobs" ADD CONSTRAINT "batch_prediction_jobs_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "batch_prediction_job_definitions_organization_idx" ON "batch_prediction_job_definitions" USING btree ("organization_id","created_at","id");--> statement-breakpoint
CREATE INDEX "batch_prediction_job_definitions_due_idx" ON "batch_prediction_job_definitions" USING btree ("next_scheduled_run_at") WHERE enabled and deleted_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "batch_prediction_job_definitions_name_idx" ON "batch_prediction_job_definitions" USING btree ("organization_id","name") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "batch_prediction_jobs_organization_idx" ON "batch_prediction_jobs" USING btree ("organization_id","created_at","id");--> statement-breakpoint
CREATE INDEX "batch_prediction_jobs_deployment_idx" ON "batch_prediction_jobs" USING btree ("deployment_id","created_at","id");--> statement-breakpoint
CREATE INDEX "batch_prediction_jobs_batch_idx" ON "batch_prediction_jobs" USING btree ("batch_id");