import type postgres from 'postgres';
import type { FeatureSpec } from './api.js';
import { Prng } from './prng.js';

/**
 * Deterministic synthetic prediction rows for a REGRESSION deployment, generated on the fly and in
 * chunks (never all in memory). The same seed gives the same rows; `idTag` only changes the
 * association ids, so the same rows can be loaded again into the same deployment (ids are unique
 * per deployment).
 *
 * Shape (20 features, the issue-3 benchmark): n0…n14 numeric, c0…c4 categorical.
 * - n0: an integer 18–90 (age-like); n1–n4: two decimals (amounts); n5–n14: full-precision doubles
 *   (what Python's json.dumps writes for float64), ~2% of numeric values null;
 * - c0…c4: strings from vocabularies of 3, 12, 50, 200 and 1,000 values (skewed), ~1% null;
 * - prediction: a full-precision double; timestamp: distinct per row (1 ms apart);
 * - associationId: a random-looking UUID (what agents send): the unique index sees random keys.
 * See FEATURE_POOL_SIZE for how rows are drawn.
 */
export const NUMERIC_FEATURES = 15;
export const CATEGORICAL_FEATURES = 5;
/** Vocabulary sizes of c0…c4; value k of feature f is `c{f}_v{k}`. */
export const CARDINALITIES = [3, 12, 50, 200, 1000];

export const FEATURES: FeatureSpec[] = [
  ...Array.from({ length: NUMERIC_FEATURES }, (_, i) => ({ name: `n${i}`, type: 'NUMERIC' as const })),
  ...Array.from({ length: CATEGORICAL_FEATURES }, (_, i) => ({ name: `c${i}`, type: 'CATEGORICAL' as const })),
];

const BASE_TIME = Date.UTC(2026, 0, 15, 8, 0, 0);

/** COPY's null. */
const COPY_NULL = '\\N';

/** One row as the text pieces both the NDJSON line and the COPY lines are made of. */
export interface RowText {
  /** The features object as JSON, keys in declaration order: exactly what the client sends. */
  features: string;
  /** The NUMERIC features in declaration order as COPY text of a float8[] (`{45,12.3,NULL,…}`); `\N` when none. */
  numeric: string;
  /** The CATEGORICAL features in declaration order as COPY text of a jsonb array (`["c0_v1",null,…]`); `\N` when none. */
  categorical: string;
  prediction: string;
  associationId: string;
  /** ISO 8601 with milliseconds, UTC (Date#toISOString). */
  timestamp: string;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex8 = (n: number) => HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
const hex4 = (n: number) => HEX[(n >>> 8) & 255]! + HEX[n & 255]!;

function hashTag(tag: string): number {
  let h = 2166136261;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Feature vectors (with their prediction) are drawn from a pool generated from the seed at start:
 * formatting 11 full-precision doubles costs ~9 µs a row, which on a 2-core machine shared with the
 * server and PostgreSQL would take CPU from what is measured. Each row still picks its vector with
 * the seeded PRNG, and its association id and timestamp are its own.
 */
export const FEATURE_POOL_SIZE = 16_384;

export class PredictionRowSource {
  private readonly pick: Prng;
  private readonly ids: Prng;
  private readonly pool: { features: string; numeric: string; categorical: string; prediction: string }[] = [];
  private index = 0;
  private second = -1;
  private secondPrefix = '';

  /** `featureCount`: only the first N of FEATURES go into the rows (the draws, hence the values, stay those of all 20). */
  constructor(seed: number, idTag: string, featureCount: number = FEATURES.length) {
    const r = new Prng(seed);
    const vocabularies = CARDINALITIES.map((n, f) => Array.from({ length: n }, (_, k) => `c${f}_v${k}`));
    for (let p = 0; p < FEATURE_POOL_SIZE; p++) {
      const members: string[] = [];
      const numeric: string[] = [];
      const categorical: (string | null)[] = [];
      for (let f = 0; f < NUMERIC_FEATURES; f++) {
        let value: string;
        if (r.next() < 0.02) value = 'null';
        else if (f === 0) value = String(18 + r.int(73));
        else if (f < 5) value = String(Math.round(Math.exp(3 + 1.5 * r.normal())) / 100);
        else value = String(r.normal() * f * 3.7 + f * 10);
        members.push(`"n${f}":${value}`);
        if (members.length <= featureCount) numeric.push(value === 'null' ? 'NULL' : value);
      }
      for (let f = 0; f < CATEGORICAL_FEATURES; f++) {
        const vocabulary = vocabularies[f]!;
        const u = r.next(); // skewed: the square of a uniform favours the first values
        const value = r.next() < 0.01 ? null : vocabulary[Math.floor(u * u * vocabulary.length)]!;
        members.push(value === null ? `"c${f}":null` : `"c${f}":"${value}"`);
        if (members.length <= featureCount) categorical.push(value);
      }
      const features = `{${members.slice(0, featureCount).join(',')}}`;
      this.pool.push({
        features,
        numeric: numeric.length ? `{${numeric.join(',')}}` : COPY_NULL,
        categorical: categorical.length ? JSON.stringify(categorical) : COPY_NULL,
        prediction: String(100 + r.normal() * 25.3),
      });
    }
    this.pick = new Prng(seed + 1);
    this.ids = new Prng(seed ^ hashTag(idTag));
  }

  next(): RowText {
    const { features, numeric, categorical, prediction } = this.pool[this.pick.uint32() & (FEATURE_POOL_SIZE - 1)]!;
    const id = this.ids;
    const b = id.uint32();
    const c = id.uint32();
    const associationId = `${hex8(id.uint32())}-${hex4(b >>> 16)}-4${hex4(b).slice(1)}-${hex4(c >>> 16)}-${hex4(c)}${hex8(id.uint32())}`;
    // ISO timestamps 1 ms apart, without a Date per row.
    const ms = BASE_TIME + this.index++;
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.secondPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    }
    const milli = ms - second * 1000;
    const timestamp = `${this.secondPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
    return { features, numeric, categorical, prediction, associationId, timestamp };
  }
}

/** Appends ASCII text to a growing Buffer (piece by piece: building one string per line and encoding it costs ~3 µs a row). */
export class AsciiChunk {
  private buffer = Buffer.allocUnsafe(1 << 20);
  size = 0;

  write(text: string): void {
    if (this.size + text.length > this.buffer.length) {
      this.buffer = Buffer.concat([this.buffer.subarray(0, this.size)], Math.max(this.buffer.length * 2, this.size + text.length));
    }
    this.size += this.buffer.write(text, this.size, 'latin1');
  }

  /** A copy of the bytes so far (the consumer may keep it), then empty. */
  take(): Buffer {
    const out = Buffer.from(this.buffer.subarray(0, this.size));
    this.size = 0;
    return out;
  }
}

export type RowFormat = (row: RowText, out: AsciiChunk) => void;

/** The NDJSON line the bulk route takes, with its newline. */
export const ndjsonFormat: RowFormat = (row, out) => {
  out.write('{"features":');
  out.write(row.features);
  out.write(',"prediction":');
  out.write(row.prediction);
  out.write(',"associationId":"');
  out.write(row.associationId);
  out.write('","timestamp":"');
  out.write(row.timestamp);
  out.write('"}\n');
};

/**
 * COPY into our `predictions` table (src/db/tables.ts), by its columns only: the keys of the
 * deployment, batch and model first (one prefix shared by every row, see predictionCopyPrefix), then
 * the row. Features in the deployment's declaration order (NUMERIC as float8[], CATEGORICAL as a
 * jsonb array); an association id in `association_uuid` when it is a canonical lowercase UUID (its
 * text form is then the id sent), else in `association_text` — the table's rule.
 */
export const PREDICTION_COPY_STATEMENT =
  'copy predictions (deployment_key, batch_key, model_key, timestamp, prediction, numeric_features, categorical_features, probabilities, predicted_label, association_uuid, association_text) from stdin';

/**
 * The prefix of copyFormat for rows of `batchId`: the integer keys, read as the server would (the
 * model's key is created if this is the model's first row, as the server's first ingest does).
 */
export async function predictionCopyPrefix(
  sql: postgres.Sql,
  ids: { deploymentId: string; batchId: string; modelId: string },
): Promise<string> {
  const [deployment] = await sql<{ key: number }[]>`select key from deployments where id = ${ids.deploymentId}`;
  const [batch] = await sql<{ key: string }[]>`select key from monitoring_batches where id = ${ids.batchId}`;
  if (!deployment || !batch) throw new Error(`deployment ${ids.deploymentId} or batch ${ids.batchId} not found`);
  const [model] = await sql<{ key: number }[]>`
    insert into prediction_models (deployment_id, model_id) values (${ids.deploymentId}, ${ids.modelId})
    on conflict (deployment_id, model_id) do update set model_id = excluded.model_id
    returning key`;
  return `${deployment.key}\t${batch.key}\t${model!.key}\t`;
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The COPY text line for PREDICTION_COPY_STATEMENT, with its newline; `prefix` is
 * `deployment_key\tbatch_key\tmodel_key\t` (predictionCopyPrefix). The generated text has no tab,
 * newline or backslash: no escaping.
 */
export const copyFormat =
  (prefix: string): RowFormat =>
  (row, out) => {
    out.write(prefix);
    out.write(row.timestamp);
    out.write('\t');
    out.write(row.prediction);
    out.write('\t');
    out.write(row.numeric);
    out.write('\t');
    out.write(row.categorical);
    out.write('\t\\N\t\\N\t');
    if (CANONICAL_UUID.test(row.associationId)) {
      out.write(row.associationId);
      out.write('\t\\N\n');
    } else {
      out.write('\\N\t');
      out.write(row.associationId);
      out.write('\n');
    }
  };

/**
 * What a user would load with psql `\copy` into a plain table (the issue-14 baseline): the same rows
 * with the features as the JSON object sent, no probabilities (regression), the association id as
 * text and the timestamp.
 */
export const PLAIN_TABLE_DDL =
  'create table plain_predictions (id bigint generated always as identity primary key, features jsonb, probabilities float8[], association_id text, timestamp timestamptz)';
export const PLAIN_COPY_STATEMENT = 'copy plain_predictions (features, probabilities, association_id, timestamp) from stdin';

/** The COPY text line for PLAIN_COPY_STATEMENT, with its newline. */
export const plainCopyFormat: RowFormat = (row, out) => {
  out.write(row.features);
  out.write('\t\\N\t');
  out.write(row.associationId);
  out.write('\t');
  out.write(row.timestamp);
  out.write('\n');
};

/** `rows` rows formatted by `format`, in Buffers of `chunkRows` rows. */
export async function* rowChunks(
  options: { rows: number; seed: number; idTag: string; chunkRows?: number },
  format: RowFormat,
): AsyncGenerator<Buffer> {
  const source = new PredictionRowSource(options.seed, options.idTag);
  const chunkRows = options.chunkRows ?? 1000;
  const out = new AsciiChunk();
  for (let done = 0; done < options.rows; ) {
    const n = Math.min(chunkRows, options.rows - done);
    for (let i = 0; i < n; i++) format(source.next(), out);
    done += n;
    yield out.take();
  }
}
