/**
 * Issue 6, the merge statements alone: how the per-batch count arrays of a batch selection are
 * merged, each way timed against the others on the same seeded data, in the same run (ratios
 * hold on a busy machine where absolute times do not).
 *
 *   npx tsx bench/metrics-sums.ts [--targets BINARY,MULTICLASS] [--batches 100] [--rows-per-batch 20000]
 *                                 [--features 3] [--classes 5] [--actuals 0.1] [--runs 30] [--seed 1] [--reuse]
 *
 * --reuse (with DATABASE_URL): measure the deployments an earlier run seeded there (same labels)
 * instead of seeding again — for measuring a change to the statements without a new seeding.
 *
 * Seeds one deployment per target type through the server (bench/lib/metrics-seed.ts; the issue's
 * case: 100 batches × 20,000 rows, 3 features), selects all its batches, and times, as round
 * trips from this process (results turned into numbers as src/ does):
 *
 * - drift (`columnSums`, 100 batches × (features + 1) rows of bin_counts): the statement as sent
 *   (a built-in sum per bin position) against the same statement with the bin merge written as
 *   the previous `bl_array_sum` (LANGUAGE sql transition, recreated here as bench_legacy_*), as
 *   the new `bl_array_sum` (STRICT plpgsql transition) and as unnest … WITH ORDINALITY + sum
 *   grouped by position;
 * - accuracy (`accuracySums`): the statement as sent (binary bins packed, merged by
 *   sum(numeric)) against the previous statement over the previous representation (bigint[]
 *   histograms: a copy of batch_accuracy_stats unpacked into bench_legacy_accuracy) with the
 *   previous bl_array_sum, the new bl_array_sum and unnest + sum per position;
 * - labels (`labelSums`, classification): new against previous bl_array_sum.
 *
 * Every variant's result is compared with the statement as sent (counts exactly, floats to 1e-12
 * relative). The last line is the JSON of the figures.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as tables from '../src/db/tables.js';
import { accuracySums, columnSums, labelSums, type Selection } from '../src/modules/metrics/sums.js';
import { PROBABILITY_BINS, unpackCounts } from '../src/modules/predictions/aggregates.js';
import { createOrganization } from './lib/api.js';
import { Flags } from './lib/args.js';
import { type BenchDatabase, startDatabase } from './lib/database.js';
import { type SeededDataset, seedDataset } from './lib/metrics-seed.js';
import { p50, relativeDifference } from './lib/metrics-stats.js';
import { TARGET_TYPES, type TargetType, targetSpec } from './lib/metrics-targets.js';
import { onShutdown, printResult, progress, round, runBenchmark } from './lib/report.js';
import { type BenchServer, startServer } from './lib/server.js';

const flags = new Flags().allow(['targets', 'batches', 'rows-per-batch', 'features', 'classes', 'actuals', 'runs', 'seed', 'reuse']);
const TARGETS = flags
  .string('targets', 'BINARY,MULTICLASS')
  .split(',')
  .map((t) => t.trim().toUpperCase()) as TargetType[];
for (const target of TARGETS) if (!TARGET_TYPES.includes(target)) throw new Error(`--targets: unknown target type ${target}`);
const BATCHES = flags.int('batches', 100, 1);
const ROWS_PER_BATCH = flags.int('rows-per-batch', 20_000, 1);
const FEATURE_COUNT = flags.int('features', 3, 1);
const CLASSES = flags.int('classes', 5, 2);
const ACTUALS_FRACTION = Number(flags.string('actuals', '0.1'));
const RUNS = flags.int('runs', 30, 1);
const SEED = flags.int('seed', 1);
const REUSE = flags.bool('reuse');
if (REUSE && !process.env.DATABASE_URL) throw new Error('--reuse needs DATABASE_URL (an embedded cluster is new every run)');
const FLOAT_TOLERANCE = 1e-12;

// The previous merge, verbatim from drizzle/0001 (bl_array_add / bl_array_sum), under other names.
const LEGACY_SETUP = [
  `create function bench_legacy_array_add(a bigint[], b bigint[]) returns bigint[]
   language sql immutable parallel safe as $$
     select case
       when a is null then b
       when b is null then a
       else (select array_agg(coalesce(x, 0) + coalesce(y, 0) order by i) from unnest(a, b) with ordinality as t(x, y, i))
     end
   $$`,
  `create aggregate bench_legacy_array_sum(bigint[]) (sfunc = bench_legacy_array_add, stype = bigint[], combinefunc = bench_legacy_array_add, parallel = safe)`,
  // The previous representation of the binary histograms: bigint[] of PROBABILITY_BINS counts.
  `create function bench_legacy_unpack(v numeric) returns bigint[] language sql immutable strict as $$
     select array_agg(substr(t, length(t) - 16 * i + 1, 16)::bigint order by i)
     from (select lpad(v::text, 16 * ${PROBABILITY_BINS}, '0') as t) s, generate_series(1, ${PROBABILITY_BINS}) as i
   $$`,
  `create table bench_legacy_accuracy as
     select batch_id, model_id, count, log_loss_sum, bench_legacy_unpack(positive_bins) as positive_bins,
            bench_legacy_unpack(negative_bins) as negative_bins, true_positives, false_positives, true_negatives, false_negatives,
            sum_error, sum_absolute_error, sum_squared_error, sum_actual, sum_squared_actual, sum_absolute_percentage_error,
            non_zero_actual_count, confusion
     from batch_accuracy_stats`,
  `alter table bench_legacy_accuracy add primary key (batch_id, model_id)`,
  `analyze bench_legacy_accuracy`,
];
const LEGACY_TEARDOWN = [
  'drop table if exists bench_legacy_accuracy',
  'drop aggregate if exists bench_legacy_array_sum(bigint[])',
  'drop function if exists bench_legacy_array_add(bigint[], bigint[])',
  'drop function if exists bench_legacy_unpack(numeric)',
];

/** Unnest + sum per position of a group's arrays (of one length per group): an aggregate expression. */
const unnestSum = (arrays: string) =>
  `(select array_agg(s::bigint order by i) from (select (o - 1) % array_length(${arrays}, 2) + 1 as i, sum(x) as s
     from unnest(${arrays}) with ordinality as u(x, o) group by 1) t)`;

let db: BenchDatabase | undefined;
let server: BenchServer | undefined;
let client: postgres.Sql | undefined;
const cleanup = onShutdown(async () => {
  if (db) for (const statement of LEGACY_TEARDOWN) await db.sql.unsafe(statement).catch(() => {});
  await client?.end({ timeout: 5 });
  await server?.stop();
  await db?.stop();
});

interface Captured {
  query: string;
  params: unknown[];
}

/** A result row as comparable values: arrays of numbers, numbers, strings, null. */
type Canonical = (number | string | boolean | null | number[])[];

function canonical(value: unknown): number | string | boolean | null | number[] {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(Number);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  const n = Number(value);
  return Number.isFinite(n) && String(value).trim() !== '' ? n : String(value);
}

/** Equal rows (as sets): counts exactly, floats to FLOAT_TOLERANCE relative. */
function sameRows(a: Canonical[], b: Canonical[]): boolean {
  if (a.length !== b.length) return false;
  const key = (row: Canonical) => JSON.stringify(row.filter((v) => typeof v === 'string' || typeof v === 'boolean'));
  const sorted = (rows: Canonical[]) => [...rows].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  const [x, y] = [sorted(a), sorted(b)];
  return x.every((row, r) =>
    row.every((v, i) => {
      const w = y[r]![i];
      if (Array.isArray(v) || Array.isArray(w)) return JSON.stringify(v) === JSON.stringify(w);
      if (typeof v === 'number' && typeof w === 'number')
        return Number.isInteger(v) ? v === w : relativeDifference(v, w) <= FLOAT_TOLERANCE;
      return v === w;
    }),
  );
}

/** A deployment an earlier run seeded (label `bench metrics <label>`), its batches oldest first. */
async function seededBefore(sql: postgres.Sql, label: string, target: TargetType): Promise<SeededDataset | null> {
  const [deployment] = await sql<{ id: string; model_id: string }[]>`
    select id, model_id from deployments where label = ${`bench metrics ${label}`} order by created_at desc limit 1`;
  if (!deployment) return null;
  const batches = await sql<{ id: string }[]>`
    select id from monitoring_batches where deployment_id = ${deployment.id} and deleted_at is null order by created_at, id`;
  const zero = { baseline: 0, predictions: 0, actuals: 0, total: 0 };
  return {
    label,
    target: targetSpec(target, CLASSES),
    deploymentId: deployment.id,
    modelId: deployment.model_id,
    batchIds: batches.map((b) => b.id),
    rows: 0,
    actuals: 0,
    requests: 0,
    seconds: zero,
  };
}

interface VariantResult {
  p50_ms: number;
  /** The fastest run: less exposed to other processes' load than the p50. */
  min_ms: number;
  same_result: boolean;
  vs_as_sent: number;
}

async function main() {
  let org: { id: string; token: string } | undefined;
  db = await startDatabase({ log: progress });
  progress(`PostgreSQL: ${db.version.split(' ').slice(0, 2).join(' ')}`);
  const datasets: SeededDataset[] = [];
  for (const [t, target] of TARGETS.entries()) {
    const label = `${target} ${BATCHES}×${ROWS_PER_BATCH}`;
    const earlier = REUSE ? await seededBefore(db.sql, label, target) : null;
    if (earlier) {
      progress(`${label}: reusing deployment ${earlier.deploymentId} (${earlier.batchIds.length} batches)`);
      datasets.push(earlier);
      continue;
    }
    if (!server) {
      server = await startServer({ databaseUrl: db.url });
      org = await createOrganization(server.url, server.adminToken);
    }
    datasets.push(
      await seedDataset({
        url: server.url,
        token: org!.token,
        label,
        batches: BATCHES,
        rowsPerBatch: ROWS_PER_BATCH,
        actualsFraction: ACTUALS_FRACTION,
        baselineRows: 50_000,
        seed: SEED + t,
        concurrency: 2,
        target: targetSpec(target, CLASSES),
        featureCount: FEATURE_COUNT,
        onProgress: progress,
      }),
    );
  }
  await db.sql`vacuum analyze`;
  for (const statement of LEGACY_TEARDOWN) await db.sql.unsafe(statement);
  for (const statement of LEGACY_SETUP) await db.sql.unsafe(statement);

  // The statements src/ sends, captured from its own functions.
  let captured: Captured[] = [];
  client = postgres(db.url, {
    max: 1,
    onnotice: () => {},
    transform: { undefined: null },
    debug: (_connection, query, parameters) => captured.push({ query, params: [...(parameters as unknown[])] }),
  });
  const srcDb = drizzle(client, { schema: tables });
  await client`select 1`; // postgres.js reads the server's array types on its first connection: not captured
  const statementOf = async (run: () => Promise<unknown>): Promise<Captured> => {
    captured = [];
    await run();
    if (captured.length !== 1) throw new Error(`expected one statement, got ${captured.map((c) => c.query.slice(0, 80)).join(' | ')}`);
    return captured[0]!;
  };
  // One run of a statement; rows as arrays (drizzle reads them so too: the columns have no unique names).
  const once = async (query: string, params: unknown[], decode: (rows: unknown[][]) => Canonical[]) => {
    const t0 = performance.now();
    const result = decode((await client!.unsafe(query, params as never[]).values()) as unknown[][]);
    return { ms: performance.now() - t0, result };
  };
  const asArrays = (rows: unknown[][]) => rows.map((row) => row.map(canonical));
  // Packed histograms decoded as accuracySums does: its 4th and 5th columns (key, count,
  // logLossSum, positiveBins, negativeBins, …).
  const decodePacked = (rows: unknown[][]) =>
    rows.map((row) => row.map((v, i) => (i === 3 || i === 4 ? unpackCounts(v as string | null, PROBABILITY_BINS) : canonical(v))));

  const figures: Record<string, Record<string, unknown>> = {};
  for (const dataset of datasets) {
    const selection: Selection = { deploymentId: dataset.deploymentId, batchIds: dataset.batchIds, modelId: null };
    const out: Record<string, unknown> = {};
    figures[dataset.label] = out;
    const compareAll = async (
      what: string,
      sent: Captured,
      variants: Record<string, string>,
      decodeSent: (rows: unknown[][]) => Canonical[],
      srcCall: () => Promise<unknown>,
    ) => {
      // Interleaved, round-robin: the statement as sent, each variant, the src function; 3 warm-up
      // rounds, then RUNS timed ones (load from other processes hits all of them alike).
      const names = Object.keys(variants);
      const times: Record<string, number[]> = Object.fromEntries([...names, 'as_sent', 'src'].map((n) => [n, [] as number[]]));
      const last: Record<string, Canonical[]> = {};
      for (let i = -3; i < RUNS; i++) {
        const sentRun = await once(sent.query, sent.params, decodeSent);
        last.as_sent = sentRun.result;
        if (i >= 0) times.as_sent!.push(sentRun.ms);
        for (const name of names) {
          const run = await once(variants[name]!, sent.params, asArrays);
          last[name] = run.result;
          if (i >= 0) times[name]!.push(run.ms);
        }
        const t0 = performance.now();
        await srcCall();
        if (i >= 0) times.src!.push(performance.now() - t0);
      }
      const asSent = { p50: p50(times.as_sent!) };
      const calls = times.src!;
      const results: Record<string, VariantResult | number> = {};
      for (const name of names) {
        const ms = p50(times[name]!);
        results[name] = {
          p50_ms: round(ms, 2),
          min_ms: round(Math.min(...times[name]!), 2),
          same_result: sameRows(last[name]!, last.as_sent!),
          vs_as_sent: round(ms / asSent.p50, 1),
        };
      }
      results.as_sent_ms = round(asSent.p50, 2);
      results.as_sent_min_ms = round(Math.min(...times.as_sent!), 2);
      results.src_function_ms = round(p50(calls), 2);
      out[what] = results;
      progress(
        `${dataset.label} ${what}: as sent p50 ${asSent.p50.toFixed(2)} / min ${Math.min(...times.as_sent!).toFixed(2)} ms (src function ${p50(calls).toFixed(2)} ms); ${Object.entries(
          results,
        )
          .filter(([, v]) => typeof v === 'object')
          .map(([name, v]) => {
            const r = v as VariantResult;
            return `${name} ${r.p50_ms} / ${r.min_ms} ms (${r.vs_as_sent}×, same result: ${r.same_result})`;
          })
          .join('; ')}`,
      );
    };

    // --- drift: columnSums ---------------------------------------------------------------------------
    const drift = await statementOf(() => columnSums(srcDb, selection, false));
    const start = drift.query.indexOf('case when count(case when ');
    const end = drift.query.indexOf('], null) end', start) + '], null) end'.length;
    if (start < 0 || end < start) throw new Error(`columnSums statement not recognised: ${drift.query.slice(0, 300)}`);
    const current = '"batch_column_stats"."baseline_version" = "deployments"."baseline_version"';
    const bins = `case when ${current} then "batch_column_stats"."bin_counts" end`;
    const driftWith = (expression: string) => drift.query.slice(0, start) + expression + drift.query.slice(end);
    await compareAll(
      'drift',
      drift,
      {
        previous_sql_function: driftWith(`bench_legacy_array_sum(${bins})`),
        strict_plpgsql: driftWith(`bl_array_sum(${bins})`),
        unnest_sum_by_position: driftWith(
          `case when count(${bins}) > 0 then ${unnestSum(`array_agg("batch_column_stats"."bin_counts") filter (where ${current} and "batch_column_stats"."bin_counts" is not null)`)} end`,
        ),
      },
      asArrays,
      () => columnSums(srcDb, selection, false),
    );

    // --- accuracy: accuracySums -----------------------------------------------------------------------
    const accuracy = await statementOf(() => accuracySums(srcDb, selection, false));
    const legacy = accuracy.query.replaceAll('"batch_accuracy_stats"', '"bench_legacy_accuracy"');
    const packed = /sum\(((?:"bench_legacy_accuracy"\.)?"(?:positive|negative)_bins")\)::text/g;
    if (!packed.test(legacy)) throw new Error(`accuracySums statement not recognised: ${accuracy.query.slice(0, 300)}`);
    // The histograms merged by `merge`; the confusion matrix by `confusion` (an aggregate's name).
    const accuracyWith = (merge: (column: string) => string, confusion = 'bl_array_sum') =>
      legacy.replace(packed, (_m, column: string) => merge(column)).replace(/\bbl_array_sum\(/g, `${confusion}(`);
    await compareAll(
      'accuracy',
      accuracy,
      {
        previous_representation_and_sql_function: accuracyWith((c) => `bench_legacy_array_sum(${c})`, 'bench_legacy_array_sum'),
        previous_representation_strict_plpgsql: accuracyWith((c) => `bl_array_sum(${c})`),
        previous_representation_unnest_sum_by_position: accuracyWith((c) => unnestSum(`array_agg(${c}) filter (where ${c} is not null)`)),
      },
      decodePacked,
      () => accuracySums(srcDb, selection, false),
    );

    // --- labels: labelSums (classification) -------------------------------------------------------------
    if (dataset.target.type !== 'REGRESSION') {
      const labels = await statementOf(() => labelSums(srcDb, selection, false));
      await compareAll(
        'labels',
        labels,
        { previous_sql_function: labels.query.replace(/\bbl_array_sum\(/g, 'bench_legacy_array_sum(') },
        asArrays,
        () => labelSums(srcDb, selection, false),
      );
    }
  }

  const allSame = Object.values(figures).every((out) =>
    Object.values(out).every((results) =>
      Object.values(results as Record<string, unknown>).every((v) => typeof v !== 'object' || (v as VariantResult).same_result),
    ),
  );
  printResult({
    targets: TARGETS,
    batches: BATCHES,
    rows_per_batch: ROWS_PER_BATCH,
    features: FEATURE_COUNT,
    classes: CLASSES,
    runs: RUNS,
    figures,
    every_variant_same_result: allSame,
  });
  if (!allSame) throw new Error('a variant gave another result than the statement as sent');
}

await runBenchmark(main, cleanup);
