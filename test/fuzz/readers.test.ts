import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesOf, type ParsedItem } from '../../src/formats/bytes.js';
import { type CsvRecord, csvCell, csvRecords } from '../../src/formats/csv.js';
import { parseNdjson } from '../../src/formats/ndjson.js';
import { parseCsv } from '../../src/modules/rows/csv.js';
import { MAX_ABS_ROW_NUMBER, MAX_ASSOCIATION_ID_LENGTH, normalizeRow, ROW_NUMBER_RANGE_MESSAGE } from '../../src/modules/rows/normalize.js';
import type { TargetShape } from '../../src/modules/rows/shape.js';
import { unstorableText } from '../../src/validation.js';
import {
  chunked,
  collect,
  cuts,
  FuzzTally,
  fuzz,
  fuzzAsync,
  jsonValue,
  nastyString,
  numberText,
  randomBytes,
  rowItem,
  splitAt,
  wellFormedString,
} from '../helpers/fuzz.js';
import { binary, binaryPositiveFirst, multiclass, newContext, regression } from '../helpers/rows.js';

// The byte readers (NDJSON, CSV, the BOM) and the row layer (CSV headers → items, normalizeRow),
// fed generated input: nasty unicode, edge numbers, random bytes, streams cut at any byte and split
// into arbitrary chunks. No input throws; the same bytes give the same items however they are cut;
// every error names its line or field; whatever is accepted is storable.

const tally = new FuzzTally('readers');
afterAll(() => {
  console.log(tally.summary());
});

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** NDJSON as the reader documents it, written the plainest way: split on LF, one JSON.parse a line. */
function referenceNdjson(input: Buffer, max: number): ParsedItem[] {
  const bytes = input.subarray(0, 3).equals(BOM) ? input.subarray(3) : input;
  const out: ParsedItem[] = [];
  let start = 0;
  let line = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    const next = end === -1 ? bytes.length : end + 1;
    if (end === -1) end = bytes.length;
    line++;
    if (end > start && bytes[end - 1] === 0x0d) end--;
    const raw = bytes.subarray(start, end);
    start = next;
    if (raw.length > max) out.push({ line, error: `is longer than ${max} bytes` });
    else if (raw.length === 0) continue;
    else if (!isUtf8(raw)) out.push({ line, error: 'is not valid UTF-8' });
    else {
      const text = raw.toString('utf8');
      try {
        out.push({ line, item: JSON.parse(text) });
      } catch (error) {
        if (text.trim() !== '') out.push({ line, error: `is not valid JSON: ${(error as Error).message}` });
      }
    }
  }
  return out;
}

/** NDJSON lines: JSON values, blank and whitespace lines, broken JSON, invalid UTF-8, any line ending. */
const ndjsonLine = fc.oneof(
  { weight: 6, arbitrary: jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', '\t', '\r', '\u00a0', '{', '"a', '1e999', '-', 'NaN', '[1,]').map((text) => Buffer.from(text)),
  },
  { weight: 1, arbitrary: randomBytes(30) },
  { weight: 1, arbitrary: nastyString().map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }).map((depth) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)) },
);
const ndjsonStream = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(ndjsonLine, fc.constantFrom('\n', '\r\n', '\n\n', '\r\r\n')), { maxLength: 12 }), fc.boolean())
  .map(([bom, lines, lastNewline]) => {
    const parts = lines.flatMap(([line, end], i) => (i === lines.length - 1 && !lastNewline ? [line] : [line, Buffer.from(end)]));
    return Buffer.concat([bom ? BOM : Buffer.alloc(0), ...parts]);
  });

describe('NDJSON reader', () => {
  it('reads any stream like the plain reference, cut at any byte, in any chunks', async () => {
    await fuzzAsync(
      tally,
      'ndjson: reference',
      fc.record({
        input: fc.oneof(ndjsonStream, randomBytes(300)),
        cut: fc.option(fc.nat()),
        cuts,
        max: fc.constantFrom(1024 * 1024, 16, 40, 200),
      }),
      async ({ input, cut, cuts: at, max }) => {
        const bytes = cut === null ? input : input.subarray(0, cut % (input.length + 1));
        const got = await collect(parseNdjson(chunked(splitAt(bytes, at)), { maxLineBytes: max }));
        expect(got).toEqual(referenceNdjson(bytes, max));
      },
      { numRuns: 1500 },
    );
  });

  it('gives back every value written, whatever the line endings and chunks', async () => {
    await fuzzAsync(
      tally,
      'ndjson: round trip',
      fc.record({ values: fc.array(jsonValue(4), { maxLength: 10 }), crlf: fc.boolean(), cuts }),
      async ({ values, crlf, cuts: at }) => {
        const text = values.map((value) => `${JSON.stringify(value)}${crlf ? '\r\n' : '\n'}`).join('');
        const got = await collect(parseNdjson(chunked(splitAt(Buffer.from(text), at))));
        expect(got).toEqual(values.map((value, i) => ({ line: i + 1, item: JSON.parse(JSON.stringify(value)) })));
      },
      { numRuns: 800 },
    );
  });

  it('skips exactly one leading byte order mark, even split into single bytes', async () => {
    await fuzzAsync(
      tally,
      'bytes: BOM',
      fc.record({ boms: fc.integer({ min: 0, max: 3 }), rest: randomBytes(8), cuts }),
      async ({ boms, rest, cuts: at }) => {
        const input = Buffer.concat([...Array.from({ length: boms }, () => BOM), rest]);
        const got = Buffer.concat(await collect(bytesOf(chunked(splitAt(input, at)))));
        expect(got.equals(boms ? input.subarray(3) : input)).toBe(true);
      },
      { numRuns: 400 },
    );
  });
});

/** CSV records of well-formed cells, written with csvCell and any line ending; the records expected back with their lines. */
const csvFile = fc
  .tuple(
    fc.array(fc.array(fc.option(wellFormedString(12), { nil: null }), { minLength: 1, maxLength: 5 }), { maxLength: 8 }),
    fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 8, maxLength: 8 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([rows, ends, bom, lastEnd]) => {
    // A record of one empty cell is a blank line, which readers skip.
    const records = rows.filter((cells) => cells.length > 1 || (cells[0] ?? '') !== '');
    let text = '';
    let line = 1;
    const expected: CsvRecord[] = [];
    records.forEach((cells, i) => {
      const written = cells.map(csvCell).join(',');
      expected.push({ line, cells: cells.map((cell) => (cell === '' ? null : cell)) });
      line += (written.match(/\n/g)?.length ?? 0) + 1;
      text += written;
      if (i < records.length - 1 || lastEnd) text += ends[i]!;
    });
    // Without a BOM of our own, a first cell starting with U+FEFF would lose it: write one then.
    const withBom = bom || text.startsWith('\uFEFF');
    return { bytes: Buffer.concat([withBom ? BOM : Buffer.alloc(0), Buffer.from(text)]), expected };
  });

const csvNoise = fc
  .array(
    fc.oneof(
      fc.constantFrom('"', '""', ',', '\n', '\r', '\r\n', 'a', 'é', ' ', '"a"b', '\uFEFF'),
      nastyString(4),
      randomBytes(6).map((b) => b.toString('latin1')),
    ),
    { maxLength: 30 },
  )
  .map((parts) => Buffer.from(parts.join('')));

describe('CSV reader', () => {
  it('gives back every record written, with its line, however it is cut into chunks', async () => {
    await fuzzAsync(
      tally,
      'csv: round trip',
      fc.record({ file: csvFile, cuts }),
      async ({ file, cuts: at }) => {
        expect(await collect(csvRecords(chunked(splitAt(file.bytes, at)), 1024 * 1024))).toEqual(file.expected);
      },
      { numRuns: 1200 },
    );
  });

  it('reads any bytes, cut anywhere, the same in any chunks, and every error names its line', async () => {
    await fuzzAsync(
      tally,
      'csv: any bytes',
      fc.record({
        input: fc.oneof(
          csvNoise,
          randomBytes(200),
          csvFile.map((f) => f.bytes),
        ),
        cut: fc.option(fc.nat()),
        cuts,
        max: fc.constantFrom(1024 * 1024, 8, 30, 100),
      }),
      async ({ input, cut, cuts: at, max }) => {
        const bytes = cut === null ? input : input.subarray(0, cut % (input.length + 1));
        const whole = await collect(csvRecords(chunked([bytes]), max));
        const split = await collect(csvRecords(chunked(splitAt(bytes, at)), max));
        expect(split).toEqual(whole);
        const newlines = (bytes.toString('latin1').match(/\r\n|\r|\n/g)?.length ?? 0) + 1;
        let last = 0;
        for (const record of whole) {
          expect(record.line).toBeGreaterThanOrEqual(Math.max(1, last));
          expect(record.line).toBeLessThanOrEqual(newlines);
          last = record.line;
          if ('error' in record) expect(record.error).toMatch(/\S/);
          else for (const cell of record.cells) if (cell !== null) expect(cell.length).toBeGreaterThan(0);
        }
      },
      { numRuns: 1500 },
    );
  });
});

const SHAPES: TargetShape[] = [regression, binary, binaryPositiveFirst, multiclass];
const HEADER_NAMES = [
  'age',
  'city',
  'income',
  'prediction',
  'associationId',
  'timestamp',
  'no',
  'yes',
  'a',
  'b',
  'c',
  'other',
  ' age ',
  '',
];

describe('prediction rows in CSV', () => {
  it('turns any header and records into items or errors naming the line, the same in any chunks', async () => {
    await fuzzAsync(
      tally,
      'rows: csv',
      fc.record({
        shape: fc.constantFrom(...SHAPES),
        header: fc.array(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...HEADER_NAMES) }, nastyString(6)), {
          minLength: 0,
          maxLength: 7,
        }),
        rows: fc.array(fc.array(fc.oneof(numberText, nastyString(6), fc.constant('')), { maxLength: 8 }), { maxLength: 6 }),
        ending: fc.constantFrom('\n', '\r\n'),
        cut: fc.option(fc.nat()),
        cuts,
      }),
      async ({ shape, header, rows, ending, cut, cuts: at }) => {
        const text = [header, ...rows].map((cells) => cells.map(csvCell).join(',')).join(ending);
        const full = Buffer.from(text);
        const bytes = cut === null ? full : full.subarray(0, cut % (full.length + 1));
        const whole = await collect(parseCsv(chunked([bytes]), shape));
        expect(await collect(parseCsv(chunked(splitAt(bytes, at)), shape))).toEqual(whole);
        const context = newContext();
        for (const parsed of whole) {
          expect(parsed.line).toBeGreaterThanOrEqual(1);
          if ('error' in parsed) {
            expect(parsed.error).toMatch(/\S/);
            continue;
          }
          const row = normalizeRow(shape, parsed.item, `line ${parsed.line}`, context);
          if ('field' in row) expect(row.field.startsWith(`line ${parsed.line}`)).toBe(true);
        }
      },
      { numRuns: 1200 },
    );
  });
});

describe('normalizeRow', () => {
  it('accepts only storable rows and names the field of every refusal', () => {
    fuzz(
      tally,
      'rows: normalizeRow',
      fc.record({ shape: fc.constantFrom(...SHAPES), item: rowItem }),
      ({ shape, item }) => {
        const result = normalizeRow(shape, item, 'rows.7', newContext());
        if ('field' in result) {
          expect(result.field === 'rows.7' || result.field.startsWith('rows.7.')).toBe(true);
          expect(result.message).toMatch(/\S/);
          return;
        }
        expect(Object.keys(result.features)).toEqual(shape.features.map((f) => f.name));
        for (const f of shape.features) {
          const value = result.features[f.name];
          if (value === null) continue;
          if (f.type === 'NUMERIC') expect(Math.abs(value as number)).toBeLessThanOrEqual(MAX_ABS_ROW_NUMBER);
          else expect(typeof value === 'string' && value !== '' && unstorableText(value) === null).toBe(true);
          // A numeric feature given as text reads as Number() reads it.
          const given = (item as { features?: unknown }).features;
          const raw = typeof given === 'object' && given !== null ? (given as Record<string, unknown>)[f.name] : undefined;
          if (f.type === 'NUMERIC' && typeof raw === 'string') expect(Object.is(value, Number(raw.trim()))).toBe(true);
        }
        if (shape.targetType === 'REGRESSION') expect(Math.abs(result.prediction!)).toBeLessThanOrEqual(MAX_ABS_ROW_NUMBER);
        else {
          const probabilities = result.probabilities!;
          expect(probabilities).toHaveLength(shape.classNames!.length);
          for (const p of probabilities) expect(p >= 0 && p <= 1).toBe(true);
          expect(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-6 + 1e-12);
          expect(shape.classNames).toContain(result.predictedLabel);
        }
        if (result.associationId !== null) {
          expect(result.associationId.length).toBeGreaterThan(0);
          expect(result.associationId.length).toBeLessThanOrEqual(MAX_ASSOCIATION_ID_LENGTH);
          expect(unstorableText(result.associationId)).toBeNull();
        }
        if (result.timestamp !== null) {
          const year = result.timestamp.getUTCFullYear();
          expect(year >= 1 && year <= 9999).toBe(true);
        }
      },
      { numRuns: 3000 },
    );
  });

  it('reads a numeric feature given as text exactly as Number() does, or refuses it', () => {
    fuzz(
      tally,
      'rows: numbers as text',
      numberText,
      (text) => {
        const result = normalizeRow(regression, { features: { age: text }, prediction: text }, 'rows.0', newContext());
        const trimmed = text.trim();
        const expected = trimmed === '' ? null : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
        if (expected === null) {
          expect(result).toEqual({ field: 'rows.0.prediction', message: 'is required' });
        } else if (!Number.isFinite(expected)) {
          expect(result).toMatchObject({ field: 'rows.0.features.age', message: expect.stringContaining('finite number') });
        } else if (Math.abs(expected) > MAX_ABS_ROW_NUMBER) {
          expect(result).toEqual({ field: 'rows.0.features.age', message: ROW_NUMBER_RANGE_MESSAGE });
        } else {
          expect('field' in result).toBe(false);
          if (!('field' in result)) {
            expect(Object.is(result.features.age, expected)).toBe(true);
            expect(Object.is(result.prediction, expected)).toBe(true);
          }
        }
      },
      { numRuns: 1500 },
    );
  });
});

it('ran at least 10,000 cases here', () => {
  expect(tally.total).toBeGreaterThanOrEqual(10_000);
});
