import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBABILITY_BINS, unpackCounts } from '../../src/modules/predictions/aggregates.js';
import { ReportPredictionsDocument, SubmitActualsDocument } from '../generated/graphql.js';
import { countRows } from '../helpers/db.js';
import { createBatch, createBinaryDeployment, createDeployment, createMulticlassDeployment } from '../helpers/fixtures.js';
import { CLASSES, CSV, csv, multiclassRows, ndjson, regressionRows, storedRow } from '../helpers/ingest-data.js';
import { random } from '../helpers/random.js';
import { actualsPath, bulkPath, inputsPath, post, postJson } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Actuals (the true outcomes) join predictions by association id, in either order: an early actual
// is kept until its prediction arrives; a re-submitted one replaces the earlier. The accuracy
// aggregates (errors, confusion matrix, log loss) always equal the same sums over the joined pairs.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** 1 in 8 draws as 0 (for actual values of 0, which Σ|err/y| skips). */
function oneInEight(next: () => number): number {
  return Math.floor(next() * 8);
}

describe('regression actuals', () => {
  interface Pair {
    prediction: number;
    actual: number;
  }

  function regressionAccuracy(pairs: Pair[]) {
    const sum = (f: (p: Pair) => number) => pairs.reduce((a, p) => a + f(p), 0);
    const nonZero = pairs.filter((p) => p.actual !== 0);
    return {
      count: pairs.length,
      sum_error: sum((p) => p.prediction - p.actual),
      sum_absolute_error: sum((p) => Math.abs(p.prediction - p.actual)),
      sum_squared_error: sum((p) => (p.prediction - p.actual) ** 2),
      sum_actual: sum((p) => p.actual),
      sum_squared_actual: sum((p) => p.actual ** 2),
      non_zero_actual_count: nonZero.length,
      sum_absolute_percentage_error: nonZero.reduce((a, p) => a + Math.abs((p.prediction - p.actual) / p.actual), 0),
    };
  }

  async function accuracyOf(batchId: string) {
    const rows = await server.sql`
      select count::int as count, sum_error, sum_absolute_error, sum_squared_error, sum_actual, sum_squared_actual,
        non_zero_actual_count::int as non_zero_actual_count, sum_absolute_percentage_error
      from batch_accuracy_stats where batch_id = ${batchId}`;
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  function expectAccuracy(stored: Record<string, unknown>, pairs: Pair[]) {
    const { sum_absolute_percentage_error: mape, ...exact } = regressionAccuracy(pairs);
    const { sum_absolute_percentage_error: storedMape, ...storedExact } = stored;
    expect(storedExact).toEqual(exact);
    expect(storedMape as number).toBeCloseTo(mape, 9);
  }

  it('keeps early actuals, joins them when the bulk upload arrives, and replaces re-submitted ones', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const rows = regressionRows(40, 71, 'acc-');
    const next = random(72);
    const actual = new Map(rows.map((r) => [r.associationId!, oneInEight(next) === 0 ? 0 : Math.floor(next() * 4000 - 1000) / 4]));

    // Half the actuals arrive first: accepted, unmatched, listed.
    const earlyIds = rows.slice(0, 20).map((r) => r.associationId!);
    const early = await postJson(server, actualsPath(deployment.id), {
      data: earlyIds.map((id) => ({ associationId: id, actualValue: actual.get(id), wasActedOn: true })),
    });
    expect(early.status, JSON.stringify(early.json)).toBe(202);
    expect(early.json).toEqual({ acceptedCount: 20, matchedCount: 0, unmatchedAssociationIds: earlyIds });
    expect(await countRows(server, 'batch_accuracy_stats', 'batch_id', batch.id)).toBe(0);

    // The bulk upload joins them.
    const ingest = await post(server, bulkPath(deployment.id, batch.id), csv(rows, 'regression'), { contentType: CSV });
    expect(ingest.status, JSON.stringify(ingest.json)).toBe(200);
    expect(ingest.json).toMatchObject({ rowCount: 40, actualsJoined: 20 });
    const pairsOf = (ids: string[]) =>
      ids.map((id) => ({ prediction: rows.find((r) => r.associationId === id)!.prediction!, actual: actual.get(id)! }));
    expectAccuracy(await accuracyOf(batch.id), pairsOf(earlyIds));

    // The rest after: matched at once; an unknown id is kept and listed.
    const lateIds = rows.slice(20).map((r) => r.associationId!);
    const late = await postJson(server, actualsPath(deployment.id), {
      data: [
        ...lateIds.map((id) => ({ associationId: id, actualValue: String(actual.get(id)), timestamp: '2026-03-02T10:00:00Z' })),
        { associationId: 'nobody', actualValue: 1 },
      ],
    });
    expect(late.status).toBe(202);
    expect(late.json).toEqual({ acceptedCount: 21, matchedCount: 20, unmatchedAssociationIds: ['nobody'] });
    const allIds = rows.map((r) => r.associationId!);
    expectAccuracy(await accuracyOf(batch.id), pairsOf(allIds));

    // Re-submitting replaces: the aggregates hold only the latest actual of each id.
    actual.set('acc-3', 17.25);
    actual.set('acc-30', 0);
    actual.set('acc-31', -2.5);
    const again = await postJson(server, actualsPath(deployment.id), {
      data: ['acc-3', 'acc-30', 'acc-31'].map((id) => ({ associationId: id, actualValue: actual.get(id) })),
    });
    expect(again.json).toEqual({ acceptedCount: 3, matchedCount: 3, unmatchedAssociationIds: [] });
    // …and once more with the same values: nothing moves.
    await postJson(server, actualsPath(deployment.id), { data: [{ associationId: 'acc-3', actualValue: 17.25 }] });
    expectAccuracy(await accuracyOf(batch.id), pairsOf(allIds));
    const stored =
      await server.sql`select association_id, actual_value from actuals where deployment_id = ${deployment.id} and association_id in ('acc-3', 'acc-30', 'acc-31') order by association_id`;
    expect(stored).toEqual([
      { association_id: 'acc-3', actual_value: 17.25 },
      { association_id: 'acc-30', actual_value: 0 },
      { association_id: 'acc-31', actual_value: -2.5 },
    ]);

    // A late prediction through predictionInputs joins the kept actual.
    const joined = await postJson(server, inputsPath(deployment.id), {
      batchId: batch.id,
      data: [{ features: {}, prediction: 4, associationId: 'nobody' }],
    });
    expect(joined.json).toMatchObject({ rowCount: 1, actualsJoined: 1 });
    expectAccuracy(await accuracyOf(batch.id), [...pairsOf(allIds), { prediction: 4, actual: 1 }]);
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
});

describe('classification actuals', () => {
  it('joins actuals to predictions in either order and keeps accuracy sums equal to the raw pairs', async () => {
    const deployment = await createBinaryDeployment(server);
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

  it('joins multiclass actuals into the confusion matrix and log loss', async () => {
    const deployment = await createMulticlassDeployment(server, CLASSES);
    const batch = await createBatch(server, deployment.id);
    const rows = multiclassRows(60, 73);
    const outcomes = rows.map((_, i) => CLASSES[(i * 7) % 3]!);
    const early = await postJson(server, actualsPath(deployment.id), {
      data: rows.slice(0, 30).map((r, i) => ({ associationId: r.associationId, actualValue: outcomes[i] })),
    });
    expect(early.json).toMatchObject({ acceptedCount: 30, matchedCount: 0 });
    const ingest = await post(server, bulkPath(deployment.id, batch.id), ndjson(rows));
    expect(ingest.json).toMatchObject({ rowCount: 60, actualsJoined: 30 });
    const late = await postJson(server, actualsPath(deployment.id), {
      data: rows.slice(30).map((r, i) => ({ associationId: r.associationId, actualValue: outcomes[i + 30] })),
    });
    expect(late.json).toMatchObject({ acceptedCount: 30, matchedCount: 30 });
    const confusion = new Array<number>(9).fill(0);
    let logLoss = 0;
    rows.forEach((row, i) => {
      const stored = storedRow(row, 'multiclass', '');
      const actualIndex = CLASSES.indexOf(outcomes[i]!);
      confusion[actualIndex * 3 + CLASSES.indexOf(stored.predicted_label!)]!++;
      logLoss += -Math.log(Math.min(Math.max(stored.probabilities![actualIndex]!, 1e-15), 1 - 1e-15));
    });
    const [stats] =
      await server.sql`select count::int as count, log_loss_sum, confusion from batch_accuracy_stats where batch_id = ${batch.id}`;
    expect(stats!.count).toBe(60);
    expect((stats!.confusion as string[]).map(Number)).toEqual(confusion);
    expect(stats!.log_loss_sum).toBeCloseTo(logLoss, 9);
    const refused = await postJson(server, actualsPath(deployment.id), { data: [{ associationId: 'x', actualValue: 'cow' }] });
    expect(refused.status).toBe(422);
    expect(refused.json.errors).toEqual({ 'data.0.actualValue': 'must be one of the classes: cat, dog, fox' });
  });

  it('keeps the multiclass confusion matrix and log loss equal to the raw pairs', async () => {
    const classes = ['cat', 'dog', 'eel'];
    const deployment = await createMulticlassDeployment(server, classes);
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

  it('refuses bad actuals naming the row and field, and stores none of the request', async () => {
    const deployment = await createBinaryDeployment(server);
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
