import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type postgres from 'postgres';
import { observeCopy } from '../observability/metrics.js';

// COPY … FROM STDIN through postgres.js: the one way batchlens writes many rows (predictions,
// training-baseline samples). Text format (tab-separated columns, \N for null, backslash escapes)
// or binary format (`BinaryCopyRows`: each value in PostgreSQL's send/receive form, nothing for
// the server to parse; what prediction rows use).

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

/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01), in milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
/** The binary COPY signature, flags and header extension length. */
const BINARY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** Element type oid of float8. */
const FLOAT8_OID = 701;

/**
 * Rows in COPY's binary format, written value by value into one growing buffer (no string per row,
 * no parsing on the server). Each row: `row(fields)`, then exactly that many values or nulls.
 */
export class BinaryCopyRows {
  private buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES * 2);
  size = 0;

  constructor() {
    this.bytes(BINARY_HEADER);
  }

  private ensure(more: number): void {
    if (this.size + more <= this.buffer.length) return;
    const larger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.size + more));
    this.buffer.copy(larger, 0, 0, this.size);
    this.buffer = larger;
  }

  private bytes(data: Buffer): void {
    this.ensure(data.length);
    data.copy(this.buffer, this.size);
    this.size += data.length;
  }

  row(fields: number): void {
    this.ensure(2);
    this.size = this.buffer.writeInt16BE(fields, this.size);
  }

  null(): void {
    this.ensure(4);
    this.size = this.buffer.writeInt32BE(-1, this.size);
  }

  int4(value: number): void {
    this.ensure(8);
    this.size = this.buffer.writeInt32BE(value, this.buffer.writeInt32BE(4, this.size));
  }

  /** An int8 from a safe integer. */
  int8(value: number): void {
    this.ensure(12);
    const high = Math.floor(value / TWO_32);
    this.writeInt8Parts(high, value - high * TWO_32);
  }

  private writeInt8Parts(high: number, low: number): void {
    let at = this.buffer.writeInt32BE(8, this.size);
    at = this.buffer.writeInt32BE(high, at);
    this.size = this.buffer.writeUInt32BE(low, at);
  }

  float8(value: number): void {
    this.ensure(12);
    this.size = this.buffer.writeDoubleBE(value, this.buffer.writeInt32BE(8, this.size));
  }

  /** A timestamptz at millisecond precision (microseconds since 2000-01-01, exact for every year 1–9999). */
  timestamp(ms: number): void {
    this.ensure(12);
    const since = ms - PG_EPOCH_MS;
    const high = Math.floor(since / TWO_32);
    const low = (since - high * TWO_32) * 1000; // < 2^42: exact
    const carry = Math.floor(low / TWO_32);
    this.writeInt8Parts(high * 1000 + carry, low - carry * TWO_32);
  }

  /** text (or any type whose binary form is its UTF-8 text); the caller keeps NUL out. */
  text(value: string): void {
    this.ensure(4 + value.length * 3);
    const length = this.buffer.write(value, this.size + 4, 'utf8');
    this.buffer.writeInt32BE(length, this.size);
    this.size += 4 + length;
  }

  /** jsonb: a version byte, then the JSON text. */
  jsonb(json: string): void {
    this.ensure(5 + json.length * 3);
    const length = this.buffer.write(json, this.size + 5, 'utf8');
    this.buffer.writeInt32BE(length + 1, this.size);
    this.buffer[this.size + 4] = 1;
    this.size += 5 + length;
  }

  /** A uuid from its canonical text (8-4-4-4-12 hex digits). */
  uuid(canonical: string): void {
    this.ensure(20);
    const at = this.buffer.writeInt32BE(16, this.size);
    this.buffer.write(canonical.slice(0, 8), at, 'hex');
    this.buffer.write(canonical.slice(9, 13), at + 4, 'hex');
    this.buffer.write(canonical.slice(14, 18), at + 6, 'hex');
    this.buffer.write(canonical.slice(19, 23), at + 8, 'hex');
    this.buffer.write(canonical.slice(24, 36), at + 10, 'hex');
    this.size = at + 16;
  }

  /** A one-dimensional float8[] whose elements are numbers or null. */
  float8Array(values: readonly (number | null)[]): void {
    const n = values.length;
    this.ensure(24 + n * 12);
    const start = this.size;
    let at = start + 4;
    let hasNull = 0;
    at = this.buffer.writeInt32BE(1, at); // dimensions
    const nullFlagAt = at;
    at = this.buffer.writeInt32BE(0, at);
    at = this.buffer.writeInt32BE(FLOAT8_OID, at);
    at = this.buffer.writeInt32BE(n, at);
    at = this.buffer.writeInt32BE(1, at); // lower bound
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (value === null || value === undefined) {
        at = this.buffer.writeInt32BE(-1, at);
        hasNull = 1;
      } else at = this.buffer.writeDoubleBE(value, this.buffer.writeInt32BE(8, at));
    }
    this.buffer.writeInt32BE(hasNull, nullFlagAt);
    this.buffer.writeInt32BE(at - start - 4, start);
    this.size = at;
  }

  /** The end-of-data marker. */
  trailer(): void {
    this.ensure(2);
    this.size = this.buffer.writeInt16BE(-1, this.size);
  }

  /** A copy of the bytes written so far (the stream may keep it); then empty. */
  take(): Buffer {
    const out = Buffer.from(this.buffer.subarray(0, this.size));
    this.size = 0;
    return out;
  }
}

/**
 * Writes COPY data in chunks with backpressure and learns PostgreSQL's verdict. postgres.js hands
 * a refusal to the COPY query's promise, which has already resolved (to the stream), so the error
 * would be lost when it arrives after the last chunk; the writer catches it at `reject` instead.
 */
export class CopyWriter {
  private chunk = '';
  /** Binary format: the rows are written here (see `binaryRows`), not pushed as lines. */
  private binary: BinaryCopyRows | null = null;
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

  /** `binary`: the query is a COPY `with (format binary)`; rows are written to `binaryRows()`. */
  static async open(pg: postgres.TransactionSql, query: postgres.PendingQuery<postgres.Row[]>, binary = false): Promise<CopyWriter> {
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
    if (binary) writer.binary = new BinaryCopyRows(); // the header goes out even when no row follows
    failed.catch((error: unknown) => (writer.failure ??= error));
    return writer;
  }

  /** For a COPY opened `binary`: where each row's values are written, before `pushed` records it. */
  binaryRows(): BinaryCopyRows {
    if (!this.binary) throw new Error('not a binary COPY');
    return this.binary;
  }

  /**
   * Records a row just written to `binaryRows()`, read from input position `position`; a promise
   * only when a chunk is sent (wait for it: backpressure), so most rows cost no promise.
   */
  pushed(position: number): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    this.remember(position);
    return this.binary!.size >= COPY_CHUNK_BYTES ? this.flush() : undefined;
  }

  private remember(position: number): void {
    if (this.copied === this.positions.length && this.copied < COPY_POSITIONS_KEPT) {
      const larger = new Float64Array(this.positions.length * 2);
      larger.set(this.positions);
      this.positions = larger;
    }
    this.positions[this.copied++ % this.positions.length] = position;
  }

  /** Queues one row (`line` ends with a newline) read from input position `position`. */
  async push(line: string, position: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.remember(position);
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
    this.binary?.take();
    this.observe('failed');
  }

  /** The COPY's time, once. */
  private observe(outcome: 'ok' | 'failed'): void {
    if (this.observed) return;
    this.observed = true;
    observeCopy(outcome, (performance.now() - this.opened) / 1000);
  }

  private async flush(): Promise<void> {
    let chunk: string | Buffer;
    if (this.binary) {
      if (this.binary.size === 0) return;
      chunk = this.binary.take();
    } else {
      if (this.chunk.length === 0) return;
      chunk = this.chunk;
      this.chunk = '';
    }
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
    this.binary?.trailer();
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
