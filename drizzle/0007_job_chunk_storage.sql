-- A job's chunks are written once and read a few times: compressing each ~1 MB value (pglz) cost
-- more PostgreSQL CPU than the rows' own ingest. Stored out of line, uncompressed.
ALTER TABLE "batch_prediction_job_chunks" ALTER COLUMN "input" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "batch_prediction_job_chunks" ALTER COLUMN "output" SET STORAGE EXTERNAL;
