CREATE TABLE "batch_daily_counts" (
	"deployment_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"day" date NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "batch_daily_counts_batch_id_day_pk" PRIMARY KEY("batch_id","day")
);
--> statement-breakpoint
ALTER TABLE "batch_model_history" ADD COLUMN "label_counts" bigint[];--> statement-breakpoint
ALTER TABLE "batch_daily_counts" ADD CONSTRAINT "batch_daily_counts_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "batch_daily_counts_deployment_day_idx" ON "batch_daily_counts" USING btree ("deployment_id","day");