import { isUtf8 } from 'node:buffer';
import { bytesOf, COMMA, CR, EMPTY, keep, LF, NOT_UTF8, QUOTE, SLICE_COPY_LIMIT, tooLong } from './bytes.js';

// ---------------------------------------------------------------------------------------------
// CSV

export type CsvRecord = { line: number; cells: (string | null)[] } | { line: number; error: string };

const START = 0; // at the start of a cell
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_SEEN = 3; // a quote inside a quoted cell: an escaped quote or the closing one
const AFTER_CR = 4; // a record ended with CR; swallow a following LF
const BROKEN = 5; // after a malformed cell: skip to the end of the record

/** RFC 4180 records, read byte by byte (the delimiters are ASCII, so this is safe on UTF-8). */
export class CsvReader {
  private buf: Buffer = EMPTY;
  /** buf decoded as Latin-1, one character per byte: ASCII cells are sliced from it (faster than decoding each). */
  private text = '';
  private pos = 0;
  private state = START;
  private cells: (string | null)[] = [];
  /** Where the current cell's content starts in buf (after the opening quote of a quoted cell). */
  private cellStart = 0;
  /** The current cell's bytes from earlier chunks. */
  private carry: Buffer[] = [];
  private cellNonAscii = false;
  private cellEscapes = false;
  private recordStart = 0;
  /** Bytes of the current record in earlier chunks. */
  private recordCarried = 0;
  private line = 1;
  private recordLine = 1;
  private recordError: string | null = null;
  /** The current record was reported as too long: keep tracking quotes, keep nothing. */
  private overflow = false;

  constructor(private readonly max: number) {}

  feed(buf: Buffer): void {
    this.buf = buf;
    this.text = buf.toString('latin1');
    this.pos = 0;
    this.cellStart = 0;
    this.recordStart = 0;
  }

  /** The next record of the fed chunk; undefined when the chunk is used up. */
  next(): CsvRecord | undefined {
    const buf = this.buf;
    const length = buf.length;
    let i = this.pos;
    while (i < length) {
      switch (this.state) {
        case START: {
          const b = buf[i]!;
          if (b === QUOTE) {
            this.state = QUOTED;
            this.cellStart = i + 1;
            this.cellNonAscii = false;
            this.cellEscapes = false;
            i++;
          } else if (b === COMMA) {
            this.pushCell(null);
            i++;
          } else if (b === LF || b === CR) {
            // An empty last cell (or a blank line, which endRecord skips).
            if (this.cells.length || this.recordBytes(i) > 0) this.pushCell(null);
            const record = this.endRecord(i, b);
            i++;
            if (record) {
              this.pos = i;
              return record;
            }
          } else {
            this.state = UNQUOTED;
            this.cellStart = i;
            this.cellNonAscii = false;
            this.cellEscapes = false;
          }
          break;
        }
        case UNQUOTED: {
          let b = 0;
          let nonAscii = false;
          for (; i < length; i++) {
            b = buf[i]!;
            if (b === COMMA || b === LF || b === CR) break;
            if (b >= 0x80) nonAscii = true;
          }
          if (nonAscii) this.cellNonAscii = true;
          if (i === length) break;
          this.endCell(i, false);
          if (b === COMMA) {
            this.state = START;
            i++;
          } else {
            const record = this.endRecord(i, b);
            i++;
            if (record) {
              this.pos = i;
              return record;
            }
          }
          break;
        }
        case QUOTED: {
          let nonAscii = false;
          for (; i < length; i++) {
            const b = buf[i]!;
            if (b === QUOTE) break;
            if (b === LF) this.line++;
            else if (b >= 0x80) nonAscii = true;
          }
          if (nonAscii) this.cellNonAscii = true;
          if (i === length) break;
          this.state = QUOTE_SEEN;
          i++;
          break;
        }
        case QUOTE_SEEN: {
          const b = buf[i]!;
          if (b === QUOTE) {
            this.cellEscapes = true;
            this.state = QUOTED;
            i++;
          } else if (b === COMMA) {
            this.endCell(i, true);
            this.state = START;
            i++;
          } else if (b === LF || b === CR) {
            this.endCell(i, true);
            const record = this.endRecord(i, b);
            i++;
            if (record) {
              this.pos = i;
              return record;
            }
          } else {
            this.recordError ??= `has a character after the closing quote of cell ${this.cells.length + 1}`;
            this.state = BROKEN;
          }
          break;
        }
        case AFTER_CR: {
          this.state = START;
          if (buf[i] === LF) {
            i++;
            this.recordStart = i;
          }
          break;
        }
        case BROKEN: {
          let b = 0;
          for (; i < length; i++) {
            b = buf[i]!;
            if (b === LF || b === CR) break;
          }
          if (i === length) break;
          const record = this.endRecord(i, b);
          i++;
          if (record) {
            this.pos = i;
            return record;
          }
          break;
        }
      }
    }
    // The chunk is used up: keep the unfinished cell's bytes, account for the unfinished record.
    this.pos = 0;
    this.buf = EMPTY;
    this.text = '';
    const inCell = this.state === UNQUOTED || this.state === QUOTED || this.state === QUOTE_SEEN;
    if (inCell && !this.overflow && length > this.cellStart) this.carry.push(keep(buf.subarray(this.cellStart, length)));
    this.recordCarried += length - this.recordStart;
    this.cellStart = 0;
    this.recordStart = 0;
    if (!this.overflow && this.recordCarried > this.max) {
      this.overflow = true;
      this.carry = [];
      return { line: this.recordLine, error: tooLong(this.max) };
    }
    return undefined;
  }

  /** The last record, when the input does not end with a newline. */
  finish(): CsvRecord | undefined {
    switch (this.state) {
      case QUOTED:
        if (this.overflow) return undefined;
        return { line: this.recordLine, error: `has a quoted cell that is never closed (cell ${this.cells.length + 1})` };
      case UNQUOTED:
      case QUOTE_SEEN:
        this.endCell(0, this.state === QUOTE_SEEN);
        return this.endRecord(0, 0);
      case START:
        if (!this.cells.length) return undefined;
        this.pushCell(null);
        return this.endRecord(0, 0);
      case BROKEN:
        return this.endRecord(0, 0);
      default:
        return undefined;
    }
  }

  private recordBytes(end: number): number {
    return this.recordCarried + end - this.recordStart;
  }

  private pushCell(value: string | null): void {
    if (!this.overflow) this.cells.push(value);
  }

  /** Ends the current cell at `end` in buf (the delimiter's index); a quoted cell's closing quote is the byte before it. */
  private endCell(end: number, quoted: boolean): void {
    this.state = START;
    if (this.overflow) return;
    let source = this.buf;
    let start = this.cellStart;
    let text: string | null = this.text;
    if (this.carry.length) {
      this.carry.push(source.subarray(start, end));
      source = Buffer.concat(this.carry);
      this.carry = [];
      text = null;
      start = 0;
      end = source.length;
    }
    if (quoted) end--;
    let value: string | null = null;
    if (end > start) {
      if (!this.cellNonAscii) {
        value = text !== null && end - start < SLICE_COPY_LIMIT ? text.slice(start, end) : source.toString('latin1', start, end);
      } else if (isUtf8(source.subarray(start, end))) value = source.toString('utf8', start, end);
      else this.recordError ??= `cell ${this.cells.length + 1} ${NOT_UTF8}`;
      if (this.cellEscapes && value !== null) value = value.replaceAll('""', '"');
    }
    this.cells.push(value === '' ? null : value);
  }

  /** Ends the record at the line break `b` at `end` (0 at the end of input). */
  private endRecord(end: number, b: number): CsvRecord | undefined {
    const bytes = this.recordBytes(end);
    const line = this.recordLine;
    const overflow = this.overflow;
    const error = this.recordError;
    const cells = this.cells;
    if (b === LF || b === CR) this.line++;
    this.state = b === CR ? AFTER_CR : START;
    this.cells = [];
    this.carry = [];
    this.recordError = null;
    this.overflow = false;
    this.recordCarried = 0;
    this.recordStart = end + 1;
    this.recordLine = this.line;
    if (overflow) return undefined;
    if (bytes > this.max) return { line, error: tooLong(this.max) };
    if (error) return { line, error };
    if (bytes === 0) return undefined; // a blank line
    return { line, cells };
  }
}

/** Every record of a CSV byte stream (UTF-8 BOM skipped), header included, as the reader finds them. */
export async function* csvRecords(input: AsyncIterable<Buffer | Uint8Array | string>, maxLineBytes: number): AsyncGenerator<CsvRecord> {
  const reader = new CsvReader(maxLineBytes);
  for await (const chunk of bytesOf(input)) {
    reader.feed(chunk);
    for (let record = reader.next(); record; record = reader.next()) yield record;
  }
  const last = reader.finish();
  if (last) yield last;
}

/** One CSV cell: quoted when it holds the delimiter, a quote or a line break; null → empty. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
