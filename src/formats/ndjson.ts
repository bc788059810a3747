import { isUtf8 } from 'node:buffer';
import { bytesOf, CR, DEFAULT_MAX_LINE_BYTES, EMPTY, keep, LF, NOT_UTF8, type ParsedItem, type ParseOptions, tooLong } from './bytes.js';

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
