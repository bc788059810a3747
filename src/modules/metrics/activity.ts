import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';

/** Batch predictions per UTC day of their timestamp over the last 7 days (today last), deleted batches left out. */
export async function activity(db: Db, deploymentId: string): Promise<{ day: string; predictionCount: number }[]> {
  const rows = await db.execute<{ day: string; count: string }>(sql`
    select d.day::text as day, coalesce(sum(c.count), 0) as count
    from generate_series((now() at time zone 'utc')::date - 6, (now() at time zone 'utc')::date, interval '1 day') as d(day)
    left join batch_daily_counts c on c.deployment_id = ${deploymentId} and c.day = d.day::date
      and exists (select 1 from monitoring_batches b where b.id = c.batch_id and b.deleted_at is null)
    group by d.day order by d.day`);
  return rows.map((row) => ({ day: row.day.slice(0, 10), predictionCount: Number(row.count) }));
}
