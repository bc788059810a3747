-- Issue 14, step 1 of 2: integer surrogate keys for deployments and batches (existing rows are
-- numbered as they are stored), and the old predictions table set aside for 0013 to convert
-- (its indexes and key go first: 0013 creates ones of the same names on the new table).
ALTER TABLE "predictions" RENAME TO "predictions_before_narrow";--> statement-breakpoint
ALTER SEQUENCE "predictions_id_seq" RENAME TO "predictions_before_narrow_id_seq";--> statement-breakpoint
DROP INDEX "predictions_batch_idx";--> statement-breakpoint
DROP INDEX "predictions_association_idx";--> statement-breakpoint
ALTER TABLE "predictions_before_narrow" DROP CONSTRAINT "predictions_deployment_id_id_pk";--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "key" integer NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "deployments_key_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1);--> statement-breakpoint
ALTER TABLE "monitoring_batches" ADD COLUMN "key" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "monitoring_batches_key_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_key_idx" ON "deployments" USING btree ("key");--> statement-breakpoint
CREATE UNIQUE INDEX "monitoring_batches_key_idx" ON "monitoring_batches" USING btree ("key");
