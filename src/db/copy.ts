import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type postgres from 'postgres';
import { observeCopy } from '../observability/metrics.js';

// COPY … FROM STDIN through postgres.js: the one way batchlens writes many rows (predictions,
// training-baseline samples). Text format: tab-separated columns, \N for null, backslash escapes.

/** Bytes of COPY text sent per write. */
const COPY_CHUNK_BYTES = 256 * 1024;

/** A null column in COPY text. */
export const COPY_NULL = '\\N';

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const escapeCopyChar = (ch: string): string => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r');

/** A text value escaped for COPY text (only backslash, tab, newline and carriage return need it). */
export function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIALS, escapeCopyChar) : value;
}

/** How many of the last rows handed to COPY are remembered, to name the one PostgreSQL refuses (≫ rows in flight). */
const COPY_POSITIONS_KEPT = 1 << 18;

/**
 * Writes COPY data in chunks with backpressure and learns PostgreSQL's verdict. postgres.js hands
 * a refusal to the COPY query's promise, which has already resolved (to the stream), so the error
 * would be lost when it arrives after the last chunk; the writer catches it at `reject` instead.
 */
export class CopyWriter {
  private chunk = '';
  private failure: unknown;
  private readonly failed: Promise<never>;
  /** Input position (item index or line) of the n-th copied row, for the last COPY_POSITIONS_KEPT rows (grows up to that). */
  private positions = new Float64Array(1024);
  private copied = 0;
  private readonly opened = performance.now();
  private observed = false;

  private constructor(
    private readonly stream: Writable,
    private readonly pg: postgres.TransactionSql,
    failed: Promise<never>,
  ) {
    this.failed = failed;
    // A refusal mid-stream also destroys the stream: keep it for push/end rather than let an
    // unhandled 'error' event end the process.
    stream.on('error', (error) => (this.failure ??= error));
  }

  static async open(pg: postgres.TransactionSql, query: postgres.PendingQuery<postgres.Row[]>): Promise<CopyWriter> {
    const pending = query as unknown as { reject: (error: unknown) => void };
    const rejectQuery = pending.reject;
    let fail!: (error: unknown) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => {});
    pending.reject = (error) => {
      fail(error);
      rejectQuery(error);
    };
    const writer = new CopyWriter(await query.writable(), pg, failed);
    failed.catch((error: unknown) => (writer.failure ??= error));
    return writer;
  }

  /** Queues one row (`line` ends with a newline) read from input position `position`. */
  async push(line: string, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.copied === this.positions.length && this.copied < COPY_POSITIONS_KEPT) {
      const larger = new Float64Array(this.positions.length * 2);
      larger.set(this.positions);
      this.positions = larger;
    }
    this.positions[this.copied++ % this.positions.length] = position;
    this.chunk += line;
    if (this.chunk.length >= COPY_CHUNK_BYTES) await this.flush();
  }

  /** The input position of COPY's 1-based data line `line`, if still remembered. */
  positionOf(line: number): number | null {
    const kept = this.positions.length;
    if (!(line >= 1 && line <= this.copied && line > this.copied - kept)) return null;
    return this.positions[(line - 1) % kept]!;
  }

  /** After a refusal: stop writing; the transaction is rolled back. */
  abandon(): void {
    this.chunk = '';
    this.observe('failed');
  }

  /** The COPY's time, once. */
  private observe(outcome: 'ok' | 'failed'): void {
    if (this.observed) return;
    this.observed = true;
    observeCopy(outcome, (performance.now() - this.opened) / 1000);
  }

  private async flush(): Promise<void> {
    if (this.chunk.length === 0) return;
    const chunk = this.chunk;
    this.chunk = '';
    if (!this.stream.write(chunk)) await Promise.race([once(this.stream, 'drain'), this.failed]);
  }

  /**
   * Ends the COPY and waits for PostgreSQL's verdict: 'finish' once it stored the rows, or its
   * error. As a last resort (no verdict arrives at all) the connection is probed: once the COPY is
   * over, the next statement succeeds if it committed its rows and fails if it did not.
   */
  async end(): Promise<void> {
    try {
      await this.finish();
      this.observe('ok');
    } catch (error) {
      this.observe('failed');
      throw error;
    }
  }

  private async finish(): Promise<void> {
    await this.flush();
    if (this.failure) throw this.failure;
    const finished = new Promise<'finished'>((resolve) => this.stream.once('finish', () => resolve('finished')));
    this.stream.end();
    for (;;) {
      const outcome = await Promise.race([
        finished,
        this.failed,
        new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 50)),
      ]);
      if (outcome === 'finished') return;
      try {
        await this.pg`select 1`;
        return;
      } catch (error) {
        if (this.failure) throw this.failure;
        if ((error as { code?: string }).code !== 'COPY_IN_PROGRESS') throw error;
      }
    }
  }
}
