import type postgres from 'postgres';
import { csvSelectList, type ExportPlan, sqlLiteral, valueSelectList } from './columns.js';

// One consistent read of a batch selection's rows (C12). Everything is read in ONE repeatable-read,
// read-only transaction on a connection of its own, so an upload that commits while the export
// runs is either wholly in it (committed before the snapshot) or wholly out: an ingest request is
// one transaction. postgres.js directly (not drizzle): COPY … TO STDOUT and a cursor on a reserved
// connection; COPY takes no bind parameters, so ids and feature names are written as literals.

export interface SnapshotBatch {
  id: string;
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

/** Bytes gathered before a CSV chunk is handed on (PostgreSQL sends one message per row). */
const CSV_CHUNK_BYTES = 256 * 1024;

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
      const rows = await conn<{ id: string; name: string; rowCount: string | number }[]>`
        select b.id, b.name, ${scope.modelId === null ? conn`b.prediction_count` : conn`coalesce(h.prediction_count, 0)`} as "rowCount"
        from monitoring_batches b
        ${scope.modelId === null ? conn`` : conn`left join batch_model_history h on h.batch_id = b.id and h.model_id = ${scope.modelId}`}
        where b.id = any(${scope.batchIds as string[]}) and b.deployment_id = ${scope.deploymentId}
          and b.organization_id = ${scope.organizationId} and b.deleted_at is null`;
      const byId = new Map(rows.map((r) => [r.id, { id: r.id, name: r.name, rowCount: Number(r.rowCount) }]));
      const batches = scope.batchIds.flatMap((id) => byId.get(id) ?? []);
      return new ExportSnapshot(conn, scope, batches);
    } catch (error) {
      await conn.unsafe('rollback').catch(() => {});
      conn.release();
      throw error;
    }
  }

  private from(plan: ExportPlan, batchId: string): string {
    const { deploymentId, modelId } = this.scope;
    const actuals = plan.includeActuals
      ? ' left join actuals a on a.deployment_id = p.deployment_id and a.association_id = p.association_id'
      : '';
    const model = modelId === null ? '' : ` and p.model_id = ${sqlLiteral(modelId)}`;
    return `from predictions p${actuals} where p.deployment_id = ${sqlLiteral(deploymentId)} and p.batch_id = ${sqlLiteral(batchId)}${model} order by p.id`;
  }

  /** The rows as CSV lines (no header), made by PostgreSQL, in chunks of about 256 KB. */
  async *csv(plan: ExportPlan): AsyncGenerator<Buffer> {
    let parts: Buffer[] = [];
    let bytes = 0;
    for (const batch of this.batches) {
      if (batch.rowCount === 0) continue;
      const stream = await this.conn
        .unsafe(`copy (select ${csvSelectList(plan, batch)} ${this.from(plan, batch.id)}) to stdout with (format csv)`)
        .readable();
      for await (const row of stream as AsyncIterable<Buffer>) {
        parts.push(row);
        bytes += row.length;
        this.rowsRead++;
        if (bytes >= CSV_CHUNK_BYTES) {
          yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
          parts = [];
          bytes = 0;
        }
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
        .unsafe(`select ${list} ${this.from(plan, batch.id)}`)
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
