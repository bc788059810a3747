import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBABILITY_BINS, unpackCounts } from '../src/modules/predictions/aggregates.js';
import {
  LockMonitoringBatchDocument,
  type PredictionRowInput,
  ReportDeploymentStatsDocument,
  ReportPredictionsDocument,
  SubmitActualsDocument,
  UnlockMonitoringBatchDocument,
  UpdateDeploymentSettingsDocument,
} from './generated/graphql.js';
import { createBatch, createDeployment, createOrganization } from './helpers/fixtures.js';
import { random } from './helpers/random.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const count = async (table: string, batchId: string) =>
  (await server.sql.unsafe(`select count(*)::int as n from ${table} where batch_id = $1`, [batchId]))[0]!.n as number;

function regressionRows(n: number, seed = 1): PredictionRowInput[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    features: { age: i % 7 === 0 ? null : Math.round(next() * 800) / 10, city: ['Paris', 'Oslo', 'Lima'][i % 3] },
    prediction: Math.round(next() * 10_000) / 100,
    associationId: `r-${seed}-${i}`,
  }));
}

describe('reportPredictions into a batch (C6)', () => {
  it('stores every row, updates the batch counters and model history, and records one request', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(50);
    const result = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, modelId: 'model-a', executionTimeMs: 120.5, rows },
    });
    expect(result.reportPredictions).toMatchObject({
      __typename: 'ReportPredictionsSuccess',
      rowCount: 50,
      unknownFeatures: [],
      batch: {
        predictionCount: 50,
        earliestPredictionAt: '2026-01-01T00:00:00.000Z',
        latestPredictionAt: '2026-01-01T00:49:00.000Z',
        modelHistory: [
          { modelId: 'model-a', predictionCount: 50, startTime: '2026-01-01T00:00:00.000Z', endTime: '2026-01-01T00:49:00.000Z' },
        ],
      },
    });
    expect(await count('predictions', batch.id)).toBe(50);
    const [service] = await server.sql`select * from batch_service_stats where batch_id = ${batch.id}`;
    expect(service).toMatchObject({
      model_id: 'model-a',
      request_count: '1',
      prediction_count: '50',
      execution_time_count: '1',
      execution_time_sum: 120.5,
    });
    const consumers = await server.sql`select user_id, request_count from batch_consumers where batch_id = ${batch.id}`;
    expect(consumers).toHaveLength(1);
  });

  it('keeps per-column sums equal to the same quantities computed from the raw rows', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(200, 7);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows.slice(0, 120) } });
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: rows.slice(120) } });
    const ages = rows.map((r) => (r.features as { age: number | null }).age);
    const present = ages.filter((a): a is number => a !== null);
    const [age] = await server.sql`select * from batch_column_stats where batch_id = ${batch.id} and column_name = 'age'`;
    expect(Number(age!.row_count)).toBe(200);
    expect(Number(age!.missing_count)).toBe(ages.length - present.length);
    expect(age!.sum).toBeCloseTo(
      present.reduce((a, b) => a + b, 0),
      9,
    );
    expect(age!.sum_of_squares).toBeCloseTo(
      present.reduce((a, b) => a + b * b, 0),
      6,
    );
    const [prediction] = await server.sql`select * from batch_column_stats where batch_id = ${batch.id} and is_prediction`;
    expect(prediction!.sum).toBeCloseTo(
      rows.reduce((a, r) => a + r.prediction!, 0),
      9,
    );
    // No baseline yet: nothing is binned, and it says so.
    expect(prediction!.bin_counts).toBeNull();
    expect(prediction!.baseline_version).toBeNull();
  });

  it('lists unknown feature columns and ignores them', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const result = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: [{ features: { age: 3, colour: 'red', zip: 1 }, prediction: 1 }] },
    });
    expect(result.reportPredictions).toMatchObject({ rowCount: 1, unknownFeatures: ['colour', 'zip'] });
    const [row] = await server.sql`select features from predictions where batch_id = ${batch.id}`;
    expect(row!.features).toEqual({ age: 3, city: null });
  });

  it('creates the batch from a prefix in the same transaction and counts it against the quota', async () => {
    const org = await createOrganization(server, 1);
    const deployment = await createDeployment(server, org.token);
    const first = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchPrefix: 'nightly', rows: regressionRows(3) } },
      org.token,
    );
    expect(first.reportPredictions.__typename).toBe('ReportPredictionsSuccess');
    if (first.reportPredictions.__typename !== 'ReportPredictionsSuccess') return;
    expect(first.reportPredictions.batch.name).toMatch(/^nightly - \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const second = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchPrefix: 'nightly', rows: regressionRows(3, 2) } },
      org.token,
    );
    expect(second.reportPredictions.__typename).toBe('BatchQuotaExceededError');
    expect((await server.sql`select count(*)::int as n from predictions where deployment_id = ${deployment.id}`)[0]!.n).toBe(3);
  });
});

describe('atomicity and row errors', () => {
  it('stores nothing when one row in the middle is bad, and names the row and field', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(500);
    rows[250] = { ...rows[250]!, features: { age: 'forty', city: 'Oslo' } };
    const result = await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    expect(result.reportPredictions).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'rows.250.features.age' }] });
    expect(await count('predictions', batch.id)).toBe(0);
    expect(await count('batch_column_stats', batch.id)).toBe(0);
    expect(await count('batch_service_stats', batch.id)).toBe(0);
    expect(await count('batch_model_history', batch.id)).toBe(0);
    const [stored] = await server.sql`select prediction_count, earliest_prediction_at from monitoring_batches where id = ${batch.id}`;
    expect(stored).toEqual({ prediction_count: '0', earliest_prediction_at: null });
  });

  const badRows: [string, PredictionRowInput, string][] = [
    ['a missing regression prediction', { features: { age: 1 } }, 'rows.1.prediction'],
    ['class probabilities on a regression target', { features: {}, prediction: 1, probabilities: [0.5, 0.5] }, 'rows.1.probabilities'],
    ['an association id used twice in the request', { features: {}, prediction: 1, associationId: 'dup' }, 'rows.1.associationId'],
  ];
  it.each(badRows)('refuses %s', async (_what, bad, field) => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows: PredictionRowInput[] = [{ features: {}, prediction: 1, associationId: 'dup' }, bad];
    const result = await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    expect(result.reportPredictions).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field }] });
    expect(await count('predictions', batch.id)).toBe(0);
  });

  it('refuses an association id already used in the deployment by an earlier request', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: [{ features: {}, prediction: 1, associationId: 'a-1' }] },
    });
    const again = await server.op(ReportPredictionsDocument, {
      input: {
        deploymentId: deployment.id,
        batchId: batch.id,
        rows: [
          { features: {}, prediction: 2, associationId: 'a-2' },
          { features: {}, prediction: 3, associationId: 'a-1' },
        ],
      },
    });
    expect(again.reportPredictions).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'rows.1.associationId', message: expect.stringContaining('a-1') }],
    });
    expect(await count('predictions', batch.id)).toBe(1);
  });

  it('refuses more than 10,000 rows with a pointer to the bulk route', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = Array.from({ length: 10_001 }, () => ({ features: {}, prediction: 1 }));
    const result = await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    expect(result.reportPredictions).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'rows', message: expect.stringContaining('bulk') }],
    });
  });
});

describe('locked, deleted, foreign and disabled', () => {
  it('refuses a locked batch whole and accepts again after unlocking', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(LockMonitoringBatchDocument, { id: batch.id });
    const refused = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: regressionRows(5) },
    });
    expect(refused.reportPredictions).toMatchObject({ __typename: 'BatchLockedError', message: expect.stringContaining('locked') });
    expect(await count('predictions', batch.id)).toBe(0);
    await server.op(UnlockMonitoringBatchDocument, { id: batch.id });
    const accepted = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: regressionRows(5) },
    });
    expect(accepted.reportPredictions).toMatchObject({ rowCount: 5 });
  });

  it('either commits a whole ingest before a racing lock or refuses it whole, every time', async () => {
    const deployment = await createDeployment(server);
    for (let round = 0; round < 15; round++) {
      const batch = await createBatch(server, deployment.id);
      const [ingest] = await Promise.all([
        server.op(ReportPredictionsDocument, {
          input: { deploymentId: deployment.id, batchId: batch.id, rows: regressionRows(400, round + 100) },
        }),
        server.op(LockMonitoringBatchDocument, { id: batch.id }),
      ]);
      const stored = await count('predictions', batch.id);
      if (ingest.reportPredictions.__typename === 'ReportPredictionsSuccess') expect(stored).toBe(400);
      else {
        expect(ingest.reportPredictions.__typename).toBe('BatchLockedError');
        expect(stored).toBe(0);
      }
      const [row] = await server.sql`select prediction_count from monitoring_batches where id = ${batch.id}`;
      expect(Number(row!.prediction_count)).toBe(stored);
    }
  });

  it("answers another organization's batch and deployment like missing ones", async () => {
    const other = await createOrganization(server);
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const foreign = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: deployment.id, batchId: batch.id, rows: regressionRows(1) } },
      other.token,
    );
    const missing = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: 'dep_000000000000000000000000', batchId: batch.id, rows: regressionRows(1) } },
      other.token,
    );
    expect(foreign).toEqual(missing);
    const ownDeployment = await createDeployment(server, other.token);
    const foreignBatch = await server.op(
      ReportPredictionsDocument,
      { input: { deploymentId: ownDeployment.id, batchId: batch.id, rows: regressionRows(1) } },
      other.token,
    );
    expect(foreignBatch.reportPredictions).toMatchObject({ __typename: 'NotFoundError', resource: 'MonitoringBatch' });
    expect(await count('predictions', batch.id)).toBe(0);
  });

  it('refuses ingest when batch monitoring is off', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(UpdateDeploymentSettingsDocument, { input: { deploymentId: deployment.id, batchMonitoringEnabled: false } });
    const result = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: regressionRows(1) },
    });
    expect(result.reportPredictions.__typename).toBe('BatchMonitoringDisabledError');
  });
});

describe('request statistics alone (reportDeploymentStats)', () => {
  it('records requests, errors, execution times and consumers without rows', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const reports = [
      { numPredictions: 10, executionTimeMs: 50, userError: false, systemError: false },
      { numPredictions: 5, executionTimeMs: 150, userError: true, systemError: false },
      { numPredictions: 0, systemError: true },
    ];
    for (const report of reports) {
      const result = await server.op(ReportDeploymentStatsDocument, {
        input: { deploymentId: deployment.id, batchId: batch.id, ...report },
      });
      expect(result.reportDeploymentStats.__typename).toBe('ReportDeploymentStatsSuccess');
    }
    const [stats] = await server.sql`select * from batch_service_stats where batch_id = ${batch.id}`;
    expect(stats).toMatchObject({
      request_count: '3',
      prediction_count: '15',
      user_error_count: '1',
      server_error_count: '1',
      execution_time_count: '2',
      execution_time_sum: 200,
      execution_time_min: 50,
      execution_time_max: 150,
    });
    expect(await count('predictions', batch.id)).toBe(0);
    const bad = await server.op(ReportDeploymentStatsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, numPredictions: -1 },
    });
    expect(bad.reportDeploymentStats).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ field: 'numPredictions' }] });
  });

  it("puts stats without a batch id into the day's batch of unassigned predictions", async () => {
    const deployment = await createDeployment(server);
    const results = await Promise.all(
      [1, 2, 3].map((n) => server.op(ReportDeploymentStatsDocument, { input: { deploymentId: deployment.id, numPredictions: n } })),
    );
    const names = new Set(
      results.map((r) =>
        r.reportDeploymentStats.__typename === 'ReportDeploymentStatsSuccess'
          ? r.reportDeploymentStats.batch.name
          : r.reportDeploymentStats.__typename,
      ),
    );
    expect([...names]).toEqual([`Unassigned predictions - ${new Date().toISOString().slice(0, 10)}`]);
  });
});

describe('actuals (C7)', () => {
  async function binaryDeployment() {
    return createDeployment(server, server.adminToken, {
      targetType: 'BINARY',
      targetName: 'churn',
      classNames: ['no', 'yes'],
      positiveClass: 'yes',
      predictionThreshold: 0.5,
    });
  }

  it('joins actuals to predictions in either order and keeps accuracy sums equal to the raw pairs', async () => {
    const deployment = await binaryDeployment();
    const batch = await createBatch(server, deployment.id);
    const next = random(3);
    const rows = Array.from({ length: 40 }, (_, i) => {
      const p = Math.round(next() * 1000) / 1000;
      return { features: { age: i }, probabilities: [1 - p, p], associationId: `c-${i}` };
    });
    const outcomes = rows.map((_, _i) => (next() < 0.5 ? 'yes' : 'no'));
    // Half the actuals arrive before their predictions.
    const early = await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: deployment.id,
        actuals: outcomes.slice(0, 20).map((actualValue, i) => ({ associationId: `c-${i}`, actualValue })),
      },
    });
    expect(early.submitActuals).toMatchObject({ acceptedCount: 20, matchedCount: 0 });
    if (early.submitActuals.__typename === 'SubmitActualsSuccess') expect(early.submitActuals.unmatchedAssociationIds).toHaveLength(20);
    const ingest = await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    expect(ingest.reportPredictions).toMatchObject({ rowCount: 40, actualsJoined: 20 });
    const late = await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: deployment.id,
        actuals: [
          ...outcomes.slice(20).map((actualValue, i) => ({ associationId: `c-${i + 20}`, actualValue })),
          { associationId: 'nobody', actualValue: 'no' },
        ],
      },
    });
    expect(late.submitActuals).toMatchObject({ acceptedCount: 21, matchedCount: 20, unmatchedAssociationIds: ['nobody'] });

    const expected = { count: 0, logLoss: 0, tp: 0, fp: 0, tn: 0, fn: 0 };
    rows.forEach((row, i) => {
      const p = row.probabilities[1]!;
      const y = outcomes[i] === 'yes';
      const clipped = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
      expected.count++;
      expected.logLoss += -Math.log(y ? clipped : 1 - clipped);
      if (p >= 0.5 && y) expected.tp++;
      else if (p >= 0.5) expected.fp++;
      else if (y) expected.fn++;
      else expected.tn++;
    });
    const [stats] = await server.sql`select * from batch_accuracy_stats where batch_id = ${batch.id}`;
    expect(Number(stats!.count)).toBe(expected.count);
    expect(stats!.log_loss_sum).toBeCloseTo(expected.logLoss, 9);
    expect([stats!.true_positives, stats!.false_positives, stats!.true_negatives, stats!.false_negatives].map(Number)).toEqual([
      expected.tp,
      expected.fp,
      expected.tn,
      expected.fn,
    ]);
    // Stored packed (one numeric per histogram, see packCounts).
    const positiveBins = unpackCounts(stats!.positive_bins as string, PROBABILITY_BINS)!;
    const negativeBins = unpackCounts(stats!.negative_bins as string, PROBABILITY_BINS)!;
    expect(positiveBins.reduce((a, b) => a + b, 0)).toBe(outcomes.filter((o) => o === 'yes').length);
    expect(negativeBins.reduce((a, b) => a + b, 0)).toBe(outcomes.filter((o) => o !== 'yes').length);
    rows.forEach((row, i) => {
      const bin = Math.min(PROBABILITY_BINS - 1, Math.floor(row.probabilities[1]! * PROBABILITY_BINS));
      (outcomes[i] === 'yes' ? positiveBins : negativeBins)[bin]!--;
    });
    expect([...positiveBins, ...negativeBins].every((count) => count === 0)).toBe(true);
  });

  it('replaces a re-submitted actual so that aggregates reflect only the latest', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(ReportPredictionsDocument, {
      input: {
        deploymentId: deployment.id,
        batchId: batch.id,
        rows: [
          { features: {}, prediction: 10, associationId: 'x' },
          { features: {}, prediction: 20, associationId: 'y' },
        ],
      },
    });
    await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: deployment.id,
        actuals: [
          { associationId: 'x', actualValue: 12 },
          { associationId: 'y', actualValue: 15 },
        ],
      },
    });
    await server.op(SubmitActualsDocument, { input: { deploymentId: deployment.id, actuals: [{ associationId: 'x', actualValue: 8 }] } });
    const [stats] = await server.sql`select * from batch_accuracy_stats where batch_id = ${batch.id}`;
    // pairs now: (10, 8) and (20, 15): errors +2 and +5
    expect(stats).toMatchObject({
      count: '2',
      sum_error: 7,
      sum_absolute_error: 7,
      sum_squared_error: 29,
      sum_actual: 23,
      sum_squared_actual: 289,
      non_zero_actual_count: '2',
    });
    expect(stats!.sum_absolute_percentage_error).toBeCloseTo(2 / 8 + 5 / 15, 12);
    const [actual] = await server.sql`select actual_value from actuals where deployment_id = ${deployment.id} and association_id = 'x'`;
    expect(actual!.actual_value).toBe(8);
  });

  it('refuses bad actuals naming the row and field, and stores none of the request', async () => {
    const deployment = await binaryDeployment();
    const result = await server.op(SubmitActualsDocument, {
      input: {
        deploymentId: deployment.id,
        actuals: [
          { associationId: 'ok', actualValue: 'yes' },
          { associationId: 'bad', actualValue: 'maybe' },
        ],
      },
    });
    expect(result.submitActuals).toMatchObject({
      __typename: 'ValidationError',
      fieldErrors: [{ field: 'actuals.1.actualValue', message: expect.stringContaining('no, yes') }],
    });
    expect((await server.sql`select count(*)::int as n from actuals where deployment_id = ${deployment.id}`)[0]!.n).toBe(0);
  });
});

describe('classification aggregates', () => {
  it('keeps the multiclass confusion matrix and log loss equal to the raw pairs', async () => {
    const classes = ['cat', 'dog', 'eel'];
    const deployment = await createDeployment(server, server.adminToken, {
      targetType: 'MULTICLASS',
      targetName: 'animal',
      classNames: classes,
    });
    const batch = await createBatch(server, deployment.id);
    const next = random(11);
    const rows = Array.from({ length: 60 }, (_, i) => {
      const raw = classes.map(() => next() + 0.01);
      const total = raw.reduce((a, b) => a + b, 0);
      const probabilities = raw.map((v) => v / total);
      probabilities[2] = 1 - probabilities[0]! - probabilities[1]!;
      return { features: { age: i }, probabilities, associationId: `m-${i}` };
    });
    const truth = rows.map(() => classes[Math.floor(next() * 3)]!);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    await server.op(SubmitActualsDocument, {
      input: { deploymentId: deployment.id, actuals: truth.map((actualValue, i) => ({ associationId: `m-${i}`, actualValue })) },
    });
    const confusion = new Array<number>(9).fill(0);
    let logLoss = 0;
    rows.forEach((row, i) => {
      const actual = classes.indexOf(truth[i]!);
      const predicted = row.probabilities.indexOf(Math.max(...row.probabilities));
      confusion[actual * 3 + predicted]!++;
      logLoss += -Math.log(row.probabilities[actual]!);
    });
    const [stats] = await server.sql`select count, log_loss_sum, confusion from batch_accuracy_stats where batch_id = ${batch.id}`;
    expect(Number(stats!.count)).toBe(60);
    expect(stats!.log_loss_sum).toBeCloseTo(logLoss, 9);
    expect((stats!.confusion as string[]).map(Number)).toEqual(confusion);
    const [labels] = await server.sql`select bin_counts, row_count from batch_column_stats where batch_id = ${batch.id} and is_prediction`;
    expect(Number(labels!.row_count)).toBe(60);
  });
});

describe('consumers and deletion', () => {
  it('counts distinct consumers per batch', async () => {
    const org = await createOrganization(server);
    const deployment = await createDeployment(server, org.token);
    const batch = await createBatch(server, deployment.id, 'shared', org.token);
    const second = await server.graphql<{ createUser: { secret: string } }>(
      'mutation { createUser(input: {name: "agent"}) { ... on CreateUserSuccess { secret } } }',
      undefined,
      org.token,
    );
    for (const token of [org.token, org.token, second.data!.createUser.secret]) {
      await server.op(
        ReportDeploymentStatsDocument,
        { input: { deploymentId: deployment.id, batchId: batch.id, numPredictions: 1 } },
        token,
      );
    }
    const consumers = await server.sql`select request_count from batch_consumers where batch_id = ${batch.id} order by request_count`;
    expect(consumers.map((c) => Number(c.request_count))).toEqual([1, 2]);
  });

  it('purges a deleted batch with its raw predictions and aggregates', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows: regressionRows(30, 42) } });
    const deleted = await server.graphql(`mutation { deleteMonitoringBatch(id: "${batch.id}") { __typename } }`);
    expect(deleted.data).toEqual({ deleteMonitoringBatch: { __typename: 'DeleteMonitoringBatchSuccess' } });
    const again = await server.op(ReportPredictionsDocument, {
      input: { deploymentId: deployment.id, batchId: batch.id, rows: regressionRows(1, 43) },
    });
    expect(again.reportPredictions.__typename).toBe('NotFoundError');
    const deadline = Date.now() + 10_000;
    while ((await count('predictions', batch.id)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await count('predictions', batch.id)).toBe(0);
    for (const table of ['batch_column_stats', 'batch_service_stats', 'batch_model_history']) expect(await count(table, batch.id)).toBe(0);
  });
});

describe('label and daily counts', () => {
  it('counts predictions per predicted class and per UTC day of their timestamp', async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      targetType: 'BINARY',
      targetName: 'churn',
      classNames: ['no', 'yes'],
      positiveClass: 'yes',
      predictionThreshold: 0.3,
    });
    const batch = await createBatch(server, deployment.id);
    const probabilities = [0.1, 0.29, 0.3, 0.8, 0.95];
    const rows = probabilities.map((p, i) => ({ features: {}, prediction: p, timestamp: `2026-03-0${1 + (i % 2)}T23:59:00Z` }));
    await server.op(ReportPredictionsDocument, { input: { deploymentId: deployment.id, batchId: batch.id, rows } });
    const [history] = await server.sql`select label_counts from batch_model_history where batch_id = ${batch.id}`;
    expect((history!.label_counts as string[]).map(Number)).toEqual([2, 3]); // no, yes (p ≥ 0.3 is "yes")
    const days = await server.sql`select day::text, count from batch_daily_counts where batch_id = ${batch.id} order by day`;
    expect(days.map((d) => [d.day, Number(d.count)])).toEqual([
      ['2026-03-01', 3],
      ['2026-03-02', 2],
    ]);
  });
});
