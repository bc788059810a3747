CREATE TYPE "public"."target_type" AS ENUM('BINARY', 'MULTICLASS', 'REGRESSION');--> statement-breakpoint
CREATE TYPE "public"."user_role" AS ENUM('ADMIN', 'MEMBER');--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"organization_id" text NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "batch_model_history" (
	"deployment_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"model_id" text NOT NULL,
	"prediction_count" bigint DEFAULT 0 NOT NULL,
	"earliest_prediction_at" timestamp (3) with time zone,
	"latest_prediction_at" timestamp (3) with time zone,
	"start_time" timestamp (3) with time zone,
	"end_time" timestamp (3) with time zone,
	CONSTRAINT "batch_model_history_batch_id_model_id_pk" PRIMARY KEY("batch_id","model_id")
);
--> statement-breakpoint
CREATE TABLE "batch_quota_usage" (
	"deployment_id" text NOT NULL,
	"day" date NOT NULL,
	"used" integer NOT NULL,
	CONSTRAINT "batch_quota_usage_deployment_id_day_pk" PRIMARY KEY("deployment_id","day")
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"label" text NOT NULL,
	"description" text,
	"target_type" "target_type" NOT NULL,
	"target_name" text NOT NULL,
	"class_names" text[],
	"positive_class" text,
	"prediction_threshold" double precision DEFAULT 0.5 NOT NULL,
	"features" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"model_id" text NOT NULL,
	"batch_monitoring_enabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "monitoring_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"deployment_id" text NOT NULL,
	"organization_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"external_url" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_by_id" text NOT NULL,
	"is_locked" boolean DEFAULT false NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"earliest_prediction_at" timestamp (3) with time zone,
	"latest_prediction_at" timestamp (3) with time zone,
	"prediction_count" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"daily_batch_limit" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organizations_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"name" text NOT NULL,
	"role" "user_role" DEFAULT 'MEMBER' NOT NULL,
	"is_server_admin" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_model_history" ADD CONSTRAINT "batch_model_history_batch_id_monitoring_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."monitoring_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batch_quota_usage" ADD CONSTRAINT "batch_quota_usage_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "monitoring_batches" ADD CONSTRAINT "monitoring_batches_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "monitoring_batches" ADD CONSTRAINT "monitoring_batches_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_tokens_user_idx" ON "api_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "deployments_organization_idx" ON "deployments" USING btree ("organization_id","created_at","id");--> statement-breakpoint
CREATE INDEX "monitoring_batches_deployment_created_idx" ON "monitoring_batches" USING btree ("deployment_id","created_at","id");--> statement-breakpoint
CREATE INDEX "monitoring_batches_deployment_name_idx" ON "monitoring_batches" USING btree ("deployment_id","name","id");--> statement-breakpoint
CREATE INDEX "monitoring_batches_deleted_idx" ON "monitoring_batches" USING btree ("deleted_at") WHERE deleted_at is not null;--> statement-breakpoint
CREATE INDEX "users_organization_idx" ON "users" USING btree ("organization_id");