import fc from 'fast-check';
import type postgres from 'postgres';

// Bad input, generated: the seed every fuzz file runs with, a runner that counts the cases it ran
// (and names the seed and path of a failure), and generators of nasty text, edge numbers, JSON
// values, broken JSON text and byte streams cut into arbitrary chunks.

/** BATCHLENS_FUZZ_SEED or a fixed default: CI runs the same cases every time. */
export const FUZZ_SEED = (() => {
  const raw = process.env.BATCHLENS_FUZZ_SEED;
  if (raw === undefined || raw === '') return 20_261_202;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`BATCHLENS_FUZZ_SEED must be an integer, got ${raw}`);
  return seed;
})();

/** A property's own seed: the run's seed mixed with its name (each property its own sequence). */
function seedOf(name: string): number {
  let hash = FUZZ_SEED | 0;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash | 0;
}

/** Cases run in this file, by property, for the one-line summary. */
export class FuzzTally {
  private readonly counts = new Map<string, number>();
  constructor(private readonly file: string) {}

  add(name: string, cases: number): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + cases);
  }

  get total(): number {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  /** One line: the file, the number of cases run, the seed. */
  summary(): string {
    return `fuzz ${this.file}: ${this.total} cases in ${this.counts.size} properties (BATCHLENS_FUZZ_SEED=${FUZZ_SEED})`;
  }
}

export interface FuzzOptions<T> {
  numRuns: number;
  /** Counterexamples found earlier, run first on every run (regressions). */
  examples?: T[];
}

function failure<T>(name: string, details: fc.RunDetails<T>): Error {
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const report = `${fc.defaultReportMessage(details) ?? 'failed'}\n${cause.slice(0, 3000)}`;
  return new Error(
    `fuzz property "${name}" failed (BATCHLENS_FUZZ_SEED=${FUZZ_SEED}, seed ${details.seed}, path "${details.counterexamplePath}"):\n${report}`,
  );
}

/** Runs a synchronous property with the file's seed; counts its cases; a failure names seed and path. */
export function fuzz<T>(
  tally: FuzzTally,
  name: string,
  arb: fc.Arbitrary<T>,
  predicate: (value: T) => void,
  options: FuzzOptions<T>,
): void {
  const details = fc.check(
    fc.property(arb, (value) => {
      predicate(value);
    }),
    { seed: seedOf(name), numRuns: options.numRuns, examples: (options.examples ?? []).map((example) => [example] as [T]) },
  );
  tally.add(name, details.numRuns);
  if (details.failed) throw failure(name, details);
}

/** The same for an asynchronous property (requests to a server); no shrinking beyond a few steps, to stay fast. */
export async function fuzzAsync<T>(
  tally: FuzzTally,
  name: string,
  arb: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  options: FuzzOptions<T>,
): Promise<void> {
  const details = await fc.check(
    fc.asyncProperty(arb, async (value) => {
      await predicate(value);
    }),
    {
      seed: seedOf(name),
      numRuns: options.numRuns,
      examples: (options.examples ?? []).map((example) => [example] as [T]),
      endOnFailure: false,
      interruptAfterTimeLimit: 120_000,
      markInterruptAsFailure: true,
    },
  );
  tally.add(name, details.numRuns);
  if (details.failed) throw failure(name, details);
}

// ---------------------------------------------------------------------------------------------
// Text

/** Characters that break naive code: NUL, lone surrogates, BOMs, line breaks of every kind, quotes, delimiters, astral characters. */
export const NASTY_CHARACTERS = [
  '\u0000',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\uFEFF',
  '\uFFFE',
  '\uFFFD',
  '\r',
  '\n',
  '\r\n',
  '\n\r',
  '\u2028',
  '\u2029',
  '\u0085',
  '\t',
  ' ',
  '"',
  "'",
  ',',
  ';',
  '\\',
  '/',
  '%',
  '%00',
  '{',
  '}',
  '[',
  ']',
  '$',
  '.',
  '😀',
  '👩‍👩‍👧',
  'é',
  'é',
  'ß',
  'İ',
  '\u202E',
  '\u200B',
  '\u0001',
  '\u001F',
  '\u007F',
  '__proto__',
  'constructor',
];

/** One unit of a nasty string: a nasty character, any UTF-16 code unit (lone surrogates included), any code point, or plain ASCII. */
export const nastyUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_CHARACTERS) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }) },
);

export const nastyString = (maxLength = 24): fc.Arbitrary<string> => fc.string({ unit: nastyUnit, maxLength });

/** Well-formed text (no lone surrogates): what survives a UTF-8 round trip. */
export const wellFormedString = (maxLength = 24): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(...NASTY_CHARACTERS.filter((c) => !/[\uD800-\uDFFF]/.test(c) || /^(?:[\uD800-\uDBFF][\uDC00-\uDFFF])+$/.test(c))),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 2 }),
    ),
    maxLength,
  });

/** A long string (up to `max` characters), mostly one repeated unit: big, but cheap to make. */
export const hugeString = (max: number): fc.Arbitrary<string> =>
  fc.tuple(nastyUnit, fc.integer({ min: 1, max })).map(([unit, n]) => unit.repeat(Math.max(1, Math.floor(n / Math.max(1, unit.length)))));

// ---------------------------------------------------------------------------------------------
// Numbers

export const INT32_EDGES = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53)];
export const FLOAT_EDGES = [
  0,
  -0,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308,
  Number.EPSILON,
  1 - Number.EPSILON,
  1 + Number.EPSILON,
  0.1 + 0.2,
  1e-7,
  0.5,
  1,
  -1,
];

/** A finite number at the edges, or any double (no NaN / Infinity: JSON has none). */
export const edgeNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...FLOAT_EDGES, ...INT32_EDGES),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.double({ min: 0, max: 1, noNaN: true }),
);

/** Numbers spelled as text: exponents, huge and tiny ones, NaN / Infinity, hex, long digit strings, junk. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'NaN',
    'nan',
    'Infinity',
    '-Infinity',
    '+Infinity',
    'inf',
    '1e308',
    '1e309',
    '-1e-324',
    '1e-324',
    '4.9e-324',
    '-0',
    '+0',
    '0.0',
    '-0.0e-0',
    '0x10',
    '0b1',
    '0o7',
    '-0x10',
    '1_000',
    '1,5',
    '١٢',
    '１２',
    '.',
    '-',
    '+',
    'e5',
    '1e',
    '1e+',
    '.5',
    '5.',
    '--1',
    '  12  ',
    '\t3\n',
    '\u00a07',
    '12abc',
    '',
    ' ',
    '9007199254740993',
    '123456789012345678901234567890',
    '0.1234567890123456789',
    '1.7976931348623157e308',
    '1.7976931348623159e308',
  ),
  edgeNumber.map(String),
  fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), minLength: 1, maxLength: 400 }),
  fc
    .tuple(
      fc.constantFrom('', '-', '+'),
      fc.string({ unit: fc.constantFrom('0', '7', '9'), maxLength: 20 }),
      fc.constantFrom('', '.'),
      fc.string({ unit: fc.constantFrom('0', '3', '9'), maxLength: 25 }),
      fc.constantFrom('', 'e', 'E', 'e-', 'e+'),
      fc.integer({ min: -400, max: 400 }).map(String),
    )
    .map((parts) => parts.join('')),
);

// ---------------------------------------------------------------------------------------------
// JSON

/** Any JSON value (as JSON.parse could give it), with nasty keys and strings and edge numbers. */
export const jsonValue = (maxDepth = 3): fc.Arbitrary<unknown> =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth },
      fc.constant(null),
      fc.boolean(),
      edgeNumber,
      nastyString(),
      numberText,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(fc.oneof(nastyString(8), fc.constantFrom('data', 'features', 'prediction', 'id', 'name', '__proto__')), tie('value'), {
        maxKeys: 5,
      }),
    ),
  })).value;

/** JSON text nested `depth` levels deep (arrays or objects), around `inner`. */
export function deepJson(depth: number, inner = '1', kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

/** Random bytes, biased to bytes that matter to UTF-8, JSON and CSV readers. */
export const randomBytes = (maxLength = 200): fc.Arbitrary<Buffer> =>
  fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(0x00, 0x0a, 0x0d, 0x22, 0x2c, 0x7b, 0x7d, 0x5b, 0x5d, 0x5c, 0xef, 0xbb, 0xbf, 0xc0, 0xed, 0xa0, 0xf4, 0x80, 0xff),
      ),
      { maxLength },
    )
    .map((bytes) => Buffer.from(bytes));

/** Cut points for a buffer of `length` bytes: chunks of any sizes, empty ones included. */
export function splitAt(buffer: Buffer, cuts: number[]): Buffer[] {
  const points = cuts.map((cut) => cut % (buffer.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(buffer.subarray(start, point));
    start = point;
  }
  chunks.push(buffer.subarray(start));
  return chunks;
}

export const cuts: fc.Arbitrary<number[]> = fc.array(fc.nat(), { maxLength: 8 });

export async function* chunked(chunks: (Buffer | string)[]): AsyncGenerator<Buffer | string> {
  for (const chunk of chunks) yield chunk;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * A request body: JSON of any value, JSON cut short, random bytes, deep nesting, a huge string or
 * array. `shaped` are well-formed bodies of the route (mutated elsewhere), mixed in.
 */
export const bodyText = (shaped: fc.Arbitrary<unknown>): fc.Arbitrary<string | Buffer> =>
  fc.oneof(
    { weight: 6, arbitrary: shaped.map((value) => JSON.stringify(value)) },
    { weight: 3, arbitrary: jsonValue().map((value) => JSON.stringify(value)) },
    {
      weight: 2,
      arbitrary: fc.tuple(shaped, fc.nat()).map(([value, cut]) => {
        const text = JSON.stringify(value);
        return text.slice(0, cut % Math.max(1, text.length));
      }),
    },
    { weight: 1, arbitrary: randomBytes() },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.integer({ min: 1, max: 10_000 }),
          fc.constantFrom<'array' | 'object'>('array', 'object'),
          fc.constantFrom('1', '"\\u0000"', '{}'),
        )
        .map(([depth, kind, inner]) => deepJson(depth, inner, kind)),
    },
    { weight: 1, arbitrary: hugeString(200_000).map((value) => JSON.stringify({ data: value, name: value })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 50_000 }).map((n) => `{"data":[${'{},'.repeat(n)}{}]}`) },
  );

/** Content types a client might send instead of the right one. */
export const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.api+json',
  'text/plain',
  'text/csv',
  'application/x-ndjson',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=latin1',
  '',
  'application/jsön',
);

// ---------------------------------------------------------------------------------------------
// Rows

export const featureValue = fc.oneof(
  edgeNumber,
  numberText,
  nastyString(),
  fc.boolean(),
  fc.constant(null),
  jsonValue(2),
  hugeString(2000),
);
/** One prediction row as a client might send it (features age, city, income; any target), or any JSON value. */
export const rowItem = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        features: fc.oneof(
          {
            weight: 6,
            arbitrary: fc.dictionary(
              fc.oneof(fc.constantFrom('age', 'city', 'income', '__proto__', 'constructor', 'toString'), nastyString(6)),
              featureValue,
              { maxKeys: 6 },
            ),
          },
          { weight: 1, arbitrary: jsonValue(2) },
        ),
        prediction: fc.oneof(edgeNumber, numberText, jsonValue(1)),
        probabilities: fc.oneof(
          fc.array(fc.oneof(edgeNumber, numberText, fc.constantFrom(0, 0.5, 1, 1 / 3)), { maxLength: 4 }),
          fc.dictionary(fc.constantFrom('no', 'yes', 'a', 'b', 'c', 'x', ''), fc.oneof(edgeNumber, numberText, fc.constantFrom(0, 0.5, 1))),
          jsonValue(1),
        ),
        associationId: fc.oneof(nastyString(), hugeString(400), edgeNumber, jsonValue(1)),
        timestamp: fc.oneof(
          fc
            .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
            .map((d) => d.toISOString()),
          fc.constantFrom(
            '2024-02-30T00:00:00Z',
            '0000-01-01T00:00:00Z',
            '0001-01-01T00:00:00+01:00',
            '9999-12-31T23:59:59-01:00',
            '+275760-09-13T00:00:00Z',
            '2024-01-01',
            '2024-01-01T24:00:00Z',
          ),
          nastyString(),
          edgeNumber,
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: jsonValue(3) },
);

// ---------------------------------------------------------------------------------------------
// What is stored

/** A table's rows as one hash: any change to any row changes it. */
const hashOf = (table: string, order: string, where = 'true') =>
  `(select md5(coalesce(string_agg(t::text, '|' order by ${order}), '')) from ${table} t where ${where})`;

/**
 * What requests can store, as counts and hashes, leaving out the deployments in `skip` (whose
 * background work — job runs — writes while requests are sent) and deleted batches (purged in the
 * background). Equal before and after a refused request: nothing half-stored.
 */
export async function storedFigures(sql: postgres.Sql, skip: string[] = []): Promise<Record<string, unknown>> {
  const deployments = skip.length ? `deployment_id not in (${skip.map((id) => `'${id.replaceAll("'", "''")}'`).join(', ')})` : 'true';
  const live = `${deployments} and batch_id in (select id from monitoring_batches where deleted_at is null)`;
  const [row] = await sql.unsafe(`select
    ${hashOf('monitoring_batches', 'id', `${deployments} and deleted_at is null`)} as batches,
    (select count(*)::int from predictions where batch_key in (select key from monitoring_batches where ${deployments} and deleted_at is null)) as predictions,
    ${hashOf('prediction_models', 'deployment_id, model_id', deployments)} as prediction_models,
    ${hashOf('actuals', 'deployment_id, association_id', deployments)} as actuals,
    ${hashOf('batch_service_stats', 'batch_id, model_id', live)} as service_stats,
    ${hashOf('batch_column_stats', 'batch_id, model_id, column_name, is_prediction', live)} as column_stats,
    ${hashOf('batch_quota_usage', 'deployment_id', deployments)} as quota,
    ${hashOf('batch_model_history', 'batch_id, model_id', live)} as model_history,
    ${hashOf('custom_metrics', 'id', deployments)} as custom_metrics,
    ${hashOf('batch_custom_metric_values', 'metric_id, batch_id, model_id', live)} as custom_metric_values,
    (select count(*)::int from training_baselines where ${deployments}) as baselines,
    (select count(*)::int from batch_prediction_jobs where definition_id is null) as jobs,
    (select count(*)::int from batch_prediction_job_definitions) as definitions,
    (select count(*)::int from data_exports) as exports,
    ${hashOf('deployments', 'id')} as deployments,
    ${hashOf('organizations', 'id')} as organizations,
    (select count(*)::int from api_tokens where revoked_at is null) as tokens,
    (select count(*)::int from users) as users`);
  return row!;
}
