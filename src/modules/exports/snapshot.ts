import type { Readable } from 'node:stream';
import type postgres from 'postgres';
import { associationIdSql } from '../rows/storage.js';
import { csvSelectList, type ExportPlan, sqlLiteral, valueSelectList } from './columns.js';

// One consistent read of a batch selection's rows (C12). Everything is read in ONE repeatable-read,
// read-only transaction on a connection of its own, so an upload that commits while the export
// runs is either wholly in it (committed before the snapshot) or wholly out: an ingest request is
// one transaction. postgres.js directly (not drizzle): COPY … TO STDOUT and a cursor on a reserved
// connection; COPY takes no bind parameters, so ids and feature names are written as literals.

export interface SnapshotBatch {
  id: string;
  /** `monitoring_batches.key`: what its stored rows carry. */
  key: number;
  name: string;
  /** Rows of this batch (of the selected model) in the snapshot. */
  rowCount: number;
}

export interface SnapshotScope {
  organizationId: string;
  deploymentId: string;
  /** In export order (oldest first); ids that are not live batches of the deployment are left out. */
  batchIds: readonly string[];
  modelId: string | null;
}

/**
 * postgres.js pauses its socket when a CopyData push finds the stream full, and resumes it only
 * from the stream's read(); when that push was the last one, read() is never called again and the
 * connection stalls before CommandComplete. One more read() resumes it.
 */
function resumeAfterCopy(stream: Readable): void {
  (stream as unknown as { _read: () => void })._read();
}

/** Reads a stream to its end (or error), throwing nothing away but the data. */
async function drain(stream: Readable): Promise<void> {
  try {
    for await (const _ of stream) resumeAfterCopy(stream);
  } catch {
    // The cancelled COPY ends with an error: expected.
  }
}

/** Bytes gathered before a CSV chunk is handed on (PostgreSQL sends one message per row). */
const CSV_CHUNK_BYTES = 256 * 1024;

/**
 * Counts the CSV records (line ends outside quotes) in PostgreSQL's CSV output as it streams by:
 * a quoted field may hold line breaks, and an escaped quote ("") toggles the state twice.
 */
export class CsvRowCounter {
  private inQuotes = false;

  count(data: Buffer): number {
    let rows = 0;
    let at = 0;
    while (at < data.length) {
      if (this.inQuotes) {
        const close = data.indexOf(34, at);
        if (close === -1) return rows;
        this.inQuotes = false;
        at = close + 1;
        continue;
      }
      const newline = data.indexOf(10, at);
      const quote = data.indexOf(34, at);
      if (quote !== -1 && (newline === -1 || quote < newline)) {
        this.inQuotes = true;
        at = quote + 1;
      } else if (newline !== -1) {
        rows++;
        at = newline + 1;
      } else {
        return rows;
      }
    }
    return rows;
  }
}

export class ExportSnapshot {
  private closed = false;
  /** Rows read so far. */
  rowsRead = 0;

  private constructor(
    private readonly conn: postgres.ReservedSql,
    readonly scope: SnapshotScope,
    readonly batches: SnapshotBatch[],
  ) {}

  get rowCount(): number {
    return this.batches.reduce((sum, b) => sum + b.rowCount, 0);
  }

  /** Takes the snapshot: the batch list and row counts are its first read. */
  static async open(pg: postgres.Sql, scope: SnapshotScope): Promise<ExportSnapshot> {
    const conn = await pg.reserve();
    try {
      await conn.unsafe('begin isolation level repeatable read, read only');
      await conn.unsafe('set local standard_conforming_strings = on');
      const rows = await conn<{ id: string; key: string | number; name: string; rowCount: string | number }[]>`
        select b.id, b.key, b.name, ${scope.modelId === null ? conn`b.prediction_count` : conn`coalesce(h.prediction_count, 0)`} as "rowCount"
        from monitoring_batches b
        ${scope.modelId === null ? conn`` : conn`left join batch_model_history h on h.batch_id = b.id and h.model_id = ${scope.modelId}`}
        where b.id = any(${scope.batchIds as string[]}) and b.deployment_id = ${scope.deploymentId}
          and b.organization_id = ${scope.organizationId} and b.deleted_at is null`;
      const byId = new Map(rows.map((r) => [r.id, { id: r.id, key: Number(r.key), name: r.name, rowCount: Number(r.rowCount) }]));
      const batches = scope.batchIds.flatMap((id) => byId.get(id) ?? []);
      return new ExportSnapshot(conn, scope, batches);
    } catch (error) {
      await conn.unsafe('rollback').catch(() => {});
      conn.release();
      throw error;
    }
  }

  /** The batch's rows (`p`), with their model (`m`) and, when asked for, their actuals (`a`), in ingest order. */
  private from(plan: ExportPlan, batch: SnapshotBatch): string {
    const { deploymentId, modelId } = this.scope;
    const actuals = plan.includeActuals
      ? ` left join actuals a on a.deployment_id = ${sqlLiteral(deploymentId)} and a.association_id = ${associationIdSql('p')}`
      : '';
    const model = modelId === null ? '' : ` and m.model_id = ${sqlLiteral(modelId)}`;
    return `from predictions p join prediction_models m on m.key = p.model_key${actuals} where p.batch_key = ${batch.key}${model} order by p.id`;
  }

  /** The rows as CSV lines (no header), made by PostgreSQL, in chunks of about 256 KB. */
  async *csv(plan: ExportPlan): AsyncGenerator<Buffer> {
    let parts: Buffer[] = [];
    let bytes = 0;
    for (const batch of this.batches) {
      if (batch.rowCount === 0) continue;
      const query = this.conn.unsafe(`copy (select ${csvSelectList(plan, batch)} ${this.from(plan, batch)}) to stdout with (format csv)`);
      const stream = (await query.readable()) as Readable;
      const counter = new CsvRowCounter();
      let complete = false;
      try {
        for await (const data of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
          parts.push(data);
          bytes += data.length;
          this.rowsRead += counter.count(data);
          if (bytes >= CSV_CHUNK_BYTES) {
            yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
            parts = [];
            bytes = 0;
          }
        }
        complete = true;
      } finally {
        if (!complete) {
          // The consumer stopped (a client hung up): PostgreSQL stops sending, what it sent is read away.
          void query.cancel();
          await drain(stream);
        }
        resumeAfterCopy(stream);
      }
    }
    if (bytes > 0) yield Buffer.concat(parts, bytes);
  }

  /**
   * The rows as typed values (numbers, strings, Dates, booleans, null) in the order of the plan's
   * columns without the batch columns, `rows` at a time, with the batch they belong to.
   */
  async *values(plan: ExportPlan, rows: number): AsyncGenerator<{ batch: SnapshotBatch; rows: unknown[][] }> {
    const list = valueSelectList(plan);
    for (const batch of this.batches) {
      if (batch.rowCount === 0) continue;
      const cursor = this.conn
        .unsafe(`select ${list} ${this.from(plan, batch)}`)
        .values()
        .cursor(rows);
      for await (const page of cursor as AsyncIterable<unknown[][]>) {
        this.rowsRead += page.length;
        yield { batch, rows: page };
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.conn.unsafe('commit');
    } catch {
      await this.conn.unsafe('rollback').catch(() => {});
    } finally {
      this.conn.release();
    }
  }
}
