ALTER TYPE "public"."batch_audit_action" ADD VALUE 'ROWS_ADDED';--> statement-breakpoint
ALTER TYPE "public"."batch_audit_action" ADD VALUE 'STATS_REPORTED';--> statement-breakpoint
ALTER TYPE "public"."batch_audit_action" ADD VALUE 'ACTUALS_MATCHED';--> statement-breakpoint
ALTER TABLE "batch_audit_events" ADD COLUMN "row_count" bigint;--> statement-breakpoint
ALTER TABLE "batch_audit_events" ADD COLUMN "fingerprint" text;--> statement-breakpoint
ALTER TABLE "monitoring_batches" ADD COLUMN "fingerprint" text;--> statement-breakpoint
ALTER TABLE "monitoring_batches" ADD COLUMN "accuracy_fingerprint" text;--> statement-breakpoint
ALTER TABLE "monitoring_batches" ADD COLUMN "sealed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "monitoring_batches" ADD COLUMN "sealed_by_id" text;--> statement-breakpoint
ALTER TABLE "monitoring_batches" ADD CONSTRAINT "monitoring_batches_sealed_by_id_users_id_fk" FOREIGN KEY ("sealed_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;