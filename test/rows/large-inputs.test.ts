import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { FeatureDefinition } from '../../src/db/tables.js';
import { parseNdjson } from '../../src/formats/ndjson.js';
import { parseCsv } from '../../src/modules/rows/csv.js';
import { normalizeRow } from '../../src/modules/rows/normalize.js';
import type { TargetShape } from '../../src/modules/rows/shape.js';
import { binary, feature, newContext } from '../helpers/rows.js';

// The parsers and normalizeRow over 200,000 rows × 20 features streamed in small chunks: memory
// stays flat (the parser reads at most a chunk ahead of its output), and the throughput is printed.

const ROWS = 200_000;
const wideFeatures: FeatureDefinition[] = [
  ...Array.from({ length: 15 }, (_, i) => feature(`num${i}`, 'NUMERIC')),
  ...Array.from({ length: 5 }, (_, i) => feature(`cat${i}`, 'CATEGORICAL')),
];
const wideBinary: TargetShape = { ...binary, features: wideFeatures };
const CATEGORIES = ['red', 'green', 'blue', 'cyan', 'magenta', 'yellow'];

function ndjsonLine(i: number): string {
  const features: Record<string, number | string> = {};
  for (let f = 0; f < 15; f++) features[`num${f}`] = Math.round(((i * 7919 + f * 104729) % 100_000) * 1.37) / 100;
  for (let f = 0; f < 5; f++) features[`cat${f}`] = CATEGORIES[(i + f) % CATEGORIES.length]!;
  const p = ((i * 31) % 1000) / 1000;
  return `${JSON.stringify({ features, probabilities: { no: 1 - p, yes: p }, associationId: `id-${i}`, timestamp: '2024-05-01T12:00:00Z' })}\n`;
}

const CSV_HEADER = `${wideFeatures.map((f) => f.name).join(',')},no,yes,associationId,timestamp\n`;
function csvLine(i: number): string {
  const cells: string[] = [];
  for (let f = 0; f < 15; f++) cells.push(String(Math.round(((i * 7919 + f * 104729) % 100_000) * 1.37) / 100));
  for (let f = 0; f < 5; f++)
    cells.push(i % 10 === 0 ? `"${CATEGORIES[(i + f) % CATEGORIES.length]}, quoted"` : CATEGORIES[(i + f) % CATEGORIES.length]!);
  const p = ((i * 31) % 1000) / 1000;
  cells.push(String(1 - p), String(p), `id-${i}`, '2024-05-01T12:00:00Z');
  return `${cells.join(',')}\n`;
}

/**
 * Generates `rows` lines on the fly in chunks of about chunkSize bytes (cut anywhere, even inside a
 * character), recording where each line ends so a test can see how far ahead of its output the
 * parser reads.
 */
function generated(header: string, line: (i: number) => string, chunkSize: number) {
  const lineEnds = new Float64Array(ROWS + 2);
  const state = { bytesProduced: 0, done: false };
  async function* input(): AsyncGenerator<Buffer> {
    let pending = Buffer.from(header);
    let offset = pending.length;
    lineEnds[1] = offset;
    const parts: Buffer[] = [pending];
    let size = pending.length;
    for (let i = 0; i < ROWS; i++) {
      const bytes = Buffer.from(line(i));
      offset += bytes.length;
      lineEnds[header ? i + 2 : i + 1] = offset;
      parts.push(bytes);
      size += bytes.length;
      while (size >= chunkSize) {
        pending = Buffer.concat(parts);
        parts.length = 0;
        state.bytesProduced += chunkSize;
        yield pending.subarray(0, chunkSize);
        parts.push(pending.subarray(chunkSize));
        size -= chunkSize;
      }
    }
    state.bytesProduced += size;
    yield Buffer.concat(parts);
    state.done = true;
  }
  return { input, lineEnds, state };
}

/**
 * A full garbage collection, so heapUsed counts live objects only. Vitest gives no --expose-gc, but
 * V8 can still be asked for its gc function at run time; without it, sampled heapUsed also counts
 * garbage not yet collected (tens of MB), and the bound below is only a loose one.
 */
const collectGarbage: (() => void) | null = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
})();

describe('large inputs', () => {
  for (const format of ['NDJSON', 'CSV'] as const) {
    it(`parses ${ROWS} ${format} rows × 20 features streamed in small chunks, reading at most a chunk ahead`, async () => {
      const chunkSize = 4096;
      const { input, lineEnds, state } =
        format === 'NDJSON' ? generated('', ndjsonLine, chunkSize) : generated(CSV_HEADER, csvLine, chunkSize);
      const parsed = format === 'NDJSON' ? parseNdjson(input()) : parseCsv(input(), wideBinary);
      const context = newContext();
      collectGarbage?.();
      const heapBefore = process.memoryUsage().heapUsed;
      let heapPeak = heapBefore;
      let rows = 0;
      let maxLead = 0;
      let firstItemBeforeInputDone = false;
      for await (const item of parsed) {
        if (!('item' in item)) throw new Error(`line ${item.line}: ${item.error}`);
        if (rows === 0) firstItemBeforeInputDone = !state.done;
        const normalized = normalizeRow(wideBinary, item.item, `line ${item.line}`, context);
        if (!('predictedLabel' in normalized)) throw new Error(`${normalized.field}: ${normalized.message}`);
        maxLead = Math.max(maxLead, state.bytesProduced - lineEnds[item.line]!);
        if (++rows % 20_000 === 0) {
          collectGarbage?.();
          heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        }
      }
      expect(rows).toBe(ROWS);
      expect(firstItemBeforeInputDone).toBe(true);
      // When a row comes out, the parser has read no more than the chunk that ends it.
      expect(maxLead).toBeLessThan(chunkSize);
      expect(context.unknownFeatures.size).toBe(0);
      const growth = heapPeak - heapBefore;
      expect(growth).toBeLessThan(collectGarbage ? 10 * 1024 * 1024 : 50 * 1024 * 1024);
      console.log(
        `${format}: ${ROWS} rows; live heap growth at most ${(growth / 1024 / 1024).toFixed(2)} MB${collectGarbage ? '' : ' (no gc: includes garbage)'}`,
      );
    });
  }

  it('measures normalizeRow + parseNdjson throughput (printed, not asserted)', async () => {
    /** ROWS lines from a pool of 1000 prepared ones, in 64 KiB chunks, so generating costs next to nothing. */
    function pooled(header: string, line: (i: number) => string) {
      const pool = Array.from({ length: 1000 }, (_, i) => Buffer.from(line(i)));
      return async function* input(): AsyncGenerator<Buffer> {
        const parts: Buffer[] = [Buffer.from(header)];
        let size = parts[0]!.length;
        for (let i = 0; i < ROWS; i++) {
          const bytes = pool[i % pool.length]!;
          parts.push(bytes);
          size += bytes.length;
          if (size >= 64 * 1024) {
            yield Buffer.concat(parts, size);
            parts.length = 0;
            size = 0;
          }
        }
        if (size) yield Buffer.concat(parts, size);
      };
    }
    for (const format of ['NDJSON', 'CSV'] as const) {
      const context = newContext();
      const parsed = format === 'NDJSON' ? parseNdjson(pooled('', ndjsonLine)()) : parseCsv(pooled(CSV_HEADER, csvLine)(), wideBinary);
      const started = performance.now();
      let rows = 0;
      for await (const item of parsed) {
        if (!('item' in item)) throw new Error(item.error);
        const normalized = normalizeRow(wideBinary, item.item, `line ${item.line}`, context);
        if ('predictedLabel' in normalized) rows++;
      }
      const seconds = (performance.now() - started) / 1000;
      expect(rows).toBe(ROWS);
      console.log(
        `normalizeRow + parse${format === 'NDJSON' ? 'Ndjson' : 'Csv'}: ${ROWS} rows × 20 features in ${seconds.toFixed(2)} s = ${Math.round(ROWS / seconds).toLocaleString('en-US')} rows/s`,
      );
    }
  });
});
