/**
 * Byte-level pieces shared by the streaming readers (NDJSON, CSV). Memory stays bounded whatever the
 * input size: a reader holds the current chunk, at most one partial line/record (up to maxLineBytes)
 * and the item being yielded. Lines are cut on bytes, before decoding, so a multi-byte UTF-8
 * character split between chunks is decoded whole, and invalid UTF-8 is reported on its line rather
 * than silently replaced.
 */

export type ParsedItem = { line: number; item: unknown } | { line: number; error: string };

export interface ParseOptions {
  /** A line (NDJSON) or record (CSV, quoted newlines included) longer than this is an error. Default 1 MiB. */
  maxLineBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export const EMPTY = Buffer.alloc(0);
export const LF = 10;
export const CR = 13;
export const QUOTE = 34;
export const COMMA = 44;

/**
 * V8 copies substrings shorter than this and makes longer ones views that keep their whole parent
 * alive; cells at least this long are decoded on their own, so a row kept by the caller (say, its
 * association id) never pins a chunk.
 */
export const SLICE_COPY_LIMIT = 13;

export const tooLong = (max: number) => `is longer than ${max} bytes`;
export const NOT_UTF8 = 'is not valid UTF-8';

/** The input as non-empty Buffers, without a leading UTF-8 byte order mark (even one split between chunks). */
export async function* bytesOf(input: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<Buffer> {
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
export const keep = (slice: Buffer): Buffer => Buffer.from(slice);
