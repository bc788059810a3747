/**
 * Streaming readers for bulk prediction uploads (NDJSON and CSV). Memory stays bounded whatever the
 * input size: they hold the current chunk, at most one partial line/record (up to maxLineBytes) and
 * the item being yielded. Lines are cut on bytes, before decoding, so a multi-byte UTF-8 character
 * split between chunks is decoded whole, and invalid UTF-8 is reported on its line rather than
 * silently replaced. Every item goes through normalizeRow afterwards; these only split and decode.
 */
import { isUtf8 } from 'node:buffer';
import type { TargetShape } from './rows.js';

export type ParsedItem = { line: number; item: unknown } | { line: number; error: string };

export interface ParseOptions {
  /** A line (NDJSON) or record (CSV, quoted newlines included) longer than this is an error. Default 1 MiB. */
  maxLineBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const EMPTY = Buffer.alloc(0);
const LF = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;

/**
 * V8 copies substrings shorter than this and makes longer ones views that keep their whole parent
 * alive; cells at least this long are decoded on their own, so a row kept by the caller (say, its
 * association id) never pins a chunk.
 */
const SLICE_COPY_LIMIT = 13;

const tooLong = (max: number) => `is longer than ${max} bytes`;
const NOT_UTF8 = 'is not valid UTF-8';

/** The input as non-empty Buffers, without a leading UTF-8 byte order mark (even one split between chunks). */
async function* bytesOf(input: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<Buffer> {
  let head: Buffer | null = EMPTY; // the first bytes, until we know whether they start with a BOM
  for await (const raw of input) {
    let chunk =
      typeof raw === 'string'
        ? Buffer.from(raw, 'utf8')
        : Buffer.isBuffer(raw)
          ? raw
          : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (head !== null) {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      if (head.length < 3) continue;
      chunk = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head;
      head = null;
    }
    if (chunk.length) yield chunk;
  }
  if (head?.length) yield head;
}

/** Copies a slice that outlives its chunk, so a small remainder does not pin a large (or pooled) buffer. */
const keep = (slice: Buffer): Buffer => Buffer.from(slice);

// ---------------------------------------------------------------------------------------------
// NDJSON

class NdjsonReader {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Lines up to this newline index of buf were checked as UTF-8 together (validRegion). */
  private regionEnd = -1;
  private regionValid = false;
  /** The start of a line that began in earlier chunks. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside a line already reported as too long: drop bytes until its newline. */
  private skipping = false;
  /** Lines completed so far. */
  private line = 0;

  constructor(private readonly max: number) {}

  feed(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
    this.regionEnd = -1;
  }

  /** The next item or error of the fed chunk; undefined when the chunk is used up. */
  next(): ParsedItem | undefined {
    const buf = this.buf;
    const length = buf.length;
    while (this.pos < length) {
      const start = this.pos;
      const newline = buf.indexOf(LF, start);
      if (newline === -1) {
        this.pos = length;
        return this.hold(buf.subarray(start));
      }
      this.pos = newline + 1;
      let parsed: ParsedItem | undefined;
      if (this.skipping) {
        this.skipping = false;
        this.line++;
        continue;
      } else if (this.pending.length) {
        this.pending.push(buf.subarray(start, newline));
        const joined = Buffer.concat(this.pending, this.pendingBytes + newline - start);
        this.pending = [];
        this.pendingBytes = 0;
        parsed = this.parseLine(joined, 0, joined.length, false);
      } else {
        if (newline > this.regionEnd) {
          // Check every complete line of this chunk as UTF-8 at once; only a failure checks them one by one.
          this.regionEnd = buf.lastIndexOf(LF);
          this.regionValid = isUtf8(buf.subarray(start, this.regionEnd));
        }
        parsed = this.parseLine(buf, start, newline, this.regionValid);
      }
      if (parsed) return parsed;
    }
    return undefined;
  }

  /** The last line, when the input does not end with a newline. */
  finish(): ParsedItem | undefined {
    if (this.skipping || !this.pending.length) return undefined;
    const joined = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return this.parseLine(joined, 0, joined.length, false);
  }

  private hold(part: Buffer): ParsedItem | undefined {
    if (this.skipping) return undefined;
    const bytes = this.pendingBytes + part.length;
    if (bytes > this.max + 1 /* room for a CR before the newline */) {
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = true;
      return { line: this.line + 1, error: tooLong(this.max) };
    }
    this.pending.push(keep(part));
    this.pendingBytes = bytes;
    return undefined;
  }

  private parseLine(buf: Buffer, start: number, end: number, knownValid: boolean): ParsedItem | undefined {
    const line = ++this.line;
    if (end > start && buf[end - 1] === CR) end--;
    if (end - start > this.max) return { line, error: tooLong(this.max) };
    if (end === start) return undefined;
    if (!knownValid && !isUtf8(buf.subarray(start, end))) return { line, error: NOT_UTF8 };
    const text = buf.toString('utf8', start, end);
    try {
      return { line, item: JSON.parse(text) as unknown };
    } catch (error) {
      if (text.trim() === '') return undefined;
      return { line, error: `is not valid JSON: ${(error as Error).message}` };
    }
  }
}

/**
 * One JSON value per line (blank lines skipped; CRLF ok). A bad line yields {line, error: 'is not
 * valid JSON: …'}; a line longer than maxLineBytes yields an error without buffering the rest of it.
 * `line` is the 1-based line number.
 */
export async function* parseNdjson(input: AsyncIterable<Buffer | string>, options: ParseOptions = {}): AsyncGenerator<ParsedItem> {
  const reader = new NdjsonReader(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  for await (const chunk of bytesOf(input)) {
    reader.feed(chunk);
    for (let parsed = reader.next(); parsed; parsed = reader.next()) yield parsed;
  }
  const last = reader.finish();
  if (last) yield last;
}

// ---------------------------------------------------------------------------------------------
// CSV

type CsvRecord = { line: number; cells: (string | null)[] } | { line: number; error: string };

const START = 0; // at the start of a cell
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_SEEN = 3; // a quote inside a quoted cell: an escaped quote or the closing one
const AFTER_CR = 4; // a record ended with CR; swallow a following LF
const BROKEN = 5; // after a malformed cell: skip to the end of the record

/** RFC 4180 records, read byte by byte (the delimiters are ASCII, so this is safe on UTF-8). */
class CsvReader {
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

interface CsvHeader {
  columns: number;
  featureColumns: number[];
  featureNames: string[];
  /** Every feature column as null: each row's features start as a copy (one shared layout, and a column named __proto__ stays a plain key). */
  featureTemplate: Record<string, null>;
  predictionColumn: number;
  classColumns: number[];
  classNames: string[];
  associationIdColumn: number;
  timestampColumn: number;
}

const quote = (name: string) => JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);

function listOf(names: string[]): string {
  const shown = names.slice(0, 10).map(quote).join(', ');
  return names.length > 10 ? `${shown}, … (${names.length} in all)` : shown;
}

const RESERVED = new Set(['prediction', 'associationId', 'timestamp']);

function readHeader(cells: (string | null)[], shape: TargetShape): CsvHeader | string {
  const features = new Set(shape.features.map((f) => f.name));
  const classes = shape.targetType === 'REGRESSION' ? [] : (shape.classNames ?? []);
  const classSet = new Set(classes);
  const header: CsvHeader = {
    columns: cells.length,
    featureColumns: [],
    featureNames: [],
    featureTemplate: {},
    predictionColumn: -1,
    classColumns: [],
    classNames: [],
    associationIdColumn: -1,
    timestampColumn: -1,
  };
  const seen = new Set<string>();
  for (let column = 0; column < cells.length; column++) {
    const name = (cells[column] ?? '').trim();
    if (name === '') return cells.length === 1 ? 'the header row is empty' : `column ${column + 1} of the header is empty`;
    if (name.includes('\u0000')) return `column ${column + 1} of the header must not contain the NUL character (\\u0000)`;
    if (seen.has(name)) return `column ${quote(name)} appears more than once in the header`;
    seen.add(name);
    // A declared feature wins over the reserved names, in case a feature is called e.g. "timestamp";
    // an undeclared column is passed on as a feature, for normalizeRow to list as unknown.
    if (features.has(name) || !(classSet.has(name) || RESERVED.has(name))) {
      header.featureColumns.push(column);
      header.featureNames.push(name);
    } else if (classSet.has(name)) {
      header.classColumns.push(column);
      header.classNames.push(name);
    } else if (name === 'prediction') {
      header.predictionColumn = column;
    } else if (name === 'associationId') {
      header.associationIdColumn = column;
    } else {
      header.timestampColumn = column;
    }
  }
  header.featureTemplate = Object.fromEntries(header.featureNames.map((name) => [name, null]));
  const missing = classes.filter((name) => !seen.has(name));
  if (shape.targetType === 'REGRESSION' && header.predictionColumn === -1) return 'the header has no "prediction" column';
  if (shape.targetType === 'MULTICLASS' && missing.length) {
    return `the header needs one probability column per class; missing: ${listOf(missing)}`;
  }
  if (shape.targetType === 'BINARY') {
    if (header.classColumns.length === 0 && header.predictionColumn === -1) {
      return `the header needs a "prediction" column (the probability of ${quote(shape.positiveClass ?? '')}) or one probability column per class (${listOf(classes)})`;
    }
    if (header.classColumns.length && missing.length) {
      return `the header needs one probability column per class; missing: ${listOf(missing)}`;
    }
  }
  return header;
}

function csvItem(header: CsvHeader, cells: (string | null)[]): Record<string, unknown> {
  const features: Record<string, string | null> = { ...header.featureTemplate };
  const { featureColumns, featureNames } = header;
  for (let j = 0; j < featureColumns.length; j++) {
    const value = cells[featureColumns[j]!];
    if (value != null) features[featureNames[j]!] = value;
  }
  const item: Record<string, unknown> = { features };
  if (header.predictionColumn !== -1) item.prediction = cells[header.predictionColumn] ?? null;
  if (header.classColumns.length) {
    let probabilities: Record<string, string | null> | null = null;
    for (let j = 0; j < header.classColumns.length; j++) {
      if (cells[header.classColumns[j]!] != null) {
        probabilities = {};
        for (let k = 0; k < header.classColumns.length; k++) probabilities[header.classNames[k]!] = cells[header.classColumns[k]!] ?? null;
        break;
      }
    }
    item.probabilities = probabilities; // every class cell empty → null, as if the column were absent
  }
  if (header.associationIdColumn !== -1) item.associationId = cells[header.associationIdColumn] ?? null;
  if (header.timestampColumn !== -1) item.timestamp = cells[header.timestampColumn] ?? null;
  return item;
}

/**
 * RFC 4180 CSV (quotes, escaped quotes, quoted newlines, CRLF, UTF-8 BOM). Header row: feature
 * names, then `prediction` (regression, or binary positive-class probability) or one column per
 * class name (classification), optional `associationId` and `timestamp` columns, in any order.
 * Each data row becomes the JSON item shape normalizeRow takes, cells as strings (empty → null).
 * `line` is the physical line a record starts on. A row with a different number of cells than the
 * header → error. Header problems → one error on the header's line, and nothing else.
 */
export async function* parseCsv(
  input: AsyncIterable<Buffer | string>,
  shape: TargetShape,
  options: ParseOptions = {},
): AsyncGenerator<ParsedItem> {
  const reader = new CsvReader(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const rows = new CsvRows(shape);
  for await (const chunk of bytesOf(input)) {
    reader.feed(chunk);
    for (let record = reader.next(); record; record = reader.next()) {
      const parsed = rows.take(record);
      if (parsed) yield parsed;
      if (rows.done) return;
    }
  }
  const last = reader.finish();
  const parsed = last && rows.take(last);
  if (parsed) yield parsed;
  if (!rows.done && !rows.header) yield { line: 1, error: 'the CSV has no header row' };
}

/** Turns records into items once the header is read. */
class CsvRows {
  header: CsvHeader | null = null;
  /** The header was refused (or unreadable): nothing more is read. */
  done = false;

  constructor(private readonly shape: TargetShape) {}

  take(record: CsvRecord): ParsedItem | undefined {
    if ('error' in record) {
      if (!this.header) this.done = true;
      return record;
    }
    if (!this.header) {
      const parsed = readHeader(record.cells, this.shape);
      if (typeof parsed === 'string') {
        this.done = true;
        return { line: record.line, error: parsed };
      }
      this.header = parsed;
      return undefined;
    }
    if (record.cells.length !== this.header.columns) {
      return { line: record.line, error: `has ${record.cells.length} cells, but the header has ${this.header.columns} columns` };
    }
    return { line: record.line, item: csvItem(this.header, record.cells) };
  }
}
