import { once } from 'node:events';
import type postgres from 'postgres';

/**
 * Streams chunks of COPY text into `copy … from stdin` on one connection of `sql` (autocommit: the
 * COPY is its own transaction) with backpressure; resolves when PostgreSQL has confirmed it.
 * Returns the wall time in ms.
 */
export async function copyFrom(
  sql: postgres.Sql,
  statement: string,
  chunks: AsyncIterable<Buffer>,
): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const stream = await sql.unsafe(statement).writable();
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => {});
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), failed]);
  }
  const finished = once(stream, 'finish');
  stream.end();
  await Promise.race([finished, failed]);
  return { ms: performance.now() - started, bytes };
}
