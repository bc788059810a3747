-- Rate limit counters: UNLOGGED (no WAL, no fsync on every request; a crash only resets the
-- windows) and half-empty pages so that the constant updates of a hot key stay HOT.
CREATE UNLOGGED TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"points" bigint NOT NULL,
	"expire" timestamp (3) with time zone
) WITH (fillfactor = 50);
