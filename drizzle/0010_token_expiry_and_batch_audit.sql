CREATE TYPE "public"."batch_audit_action" AS ENUM('CREATED', 'UPDATED', 'MODEL_HISTORY_CHANGED', 'LOCKED', 'UNLOCKED', 'DELETED');--> statement-breakpoint
CREATE TABLE "batch_audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "batch_audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organization_id" text NOT NULL,
	"deployment_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"action" "batch_audit_action" NOT NULL,
	"actor_id" text NOT NULL,
	"token_id" text,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"model_id" text,
	"changes" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "expires_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "batch_audit_events" ADD CONSTRAINT "batch_audit_events_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "batch_audit_events_batch_idx" ON "batch_audit_events" USING btree ("batch_id","id");