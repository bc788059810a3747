import gammainc from '@stdlib/math-base-special-gammainc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataDriftDocument,
  DeleteMonitoringBatchDocument,
  DriftAgainstDocument,
  type DriftAgainstQuery,
  DriftMatrixDocument,
  DriftOverBatchesDocument,
  ReportPredictionsDocument,
  SetTrainingBaselineDocument,
  UpdateHealthSettingsDocument,
} from '../generated/graphql.js';
import { createBatch, createDeployment, createOrganization } from '../helpers/fixtures.js';
import { scoredRows } from '../helpers/ingest-data.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Any batch against any batch (issue 15): drift of a selection against a reference selection, the
// drift matrix, each batch against the previous one; every comparison carries both sample sizes, a
// chi-square p-value adjusted across the features, and is judged only with enough rows. The numbers
// are checked against formulas written here over the bin counts the server reports per batch (those
// counts are checked against raw rows in batch-selections.test.ts).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const add = (a: number[], b: number[]) => a.map((x, i) => x + (b[i] ?? 0));

/** PSI of `current` against `reference`, zero shares as 0.0001. */
function psi(reference: number[], current: number[]): number {
  const e = reference.map((c) => c / sum(reference));
  const a = current.map((c) => c / sum(current));
  return a.reduce((s, ai, i) => s + ((ai || 0.0001) - (e[i]! || 0.0001)) * Math.log((ai || 0.0001) / (e[i]! || 0.0001)), 0);
}

/** Pearson's chi-square test of homogeneity on the 2 × k table (bins empty on both sides left out). */
function chiSquarePValue(a: number[], b: number[]): number {
  const ta = sum(a);
  const tb = sum(b);
  let x2 = 0;
  let bins = 0;
  a.forEach((ai, i) => {
    const pooled = ai + b[i]!;
    if (pooled === 0) return;
    bins++;
    const ea = (ta * pooled) / (ta + tb);
    const eb = (tb * pooled) / (ta + tb);
    x2 += (ai - ea) ** 2 / ea + (b[i]! - eb) ** 2 / eb;
  });
  return bins < 2 ? 1 : gammainc(x2 / 2, (bins - 1) / 2, true, true);
}

type Feature = NonNullable<DriftAgainstQuery['deployment']>['dataDrift']['features'][number];
const counts = (distribution: Feature['current']) => distribution.bins.map((b) => b.count);

describe('drift of any selection against any other', () => {
  let deploymentId: string;
  const batch: string[] = [];

  const driftOf = async (batchIds: string[], reference?: string[] | null, token = server.adminToken) =>
    (
      await server.op(
        DriftAgainstDocument,
        { id: deploymentId, batches: { batchIds }, reference: reference ? { batchIds: reference } : null },
        token,
      )
    ).deployment?.dataDrift;
  /** Each batch's own bin counts per feature, as the server binned them. */
  const binsOf = async (id: string) => new Map((await driftOf([id]))!.features.map((f) => [f.name, counts(f.current)]));

  beforeAll(async () => {
    const deployment = await createDeployment(server, server.adminToken, {
      features: [
        { name: 'age', type: 'NUMERIC', importance: 0.9 },
        { name: 'city', type: 'CATEGORICAL', importance: 0.1 },
      ],
    });
    deploymentId = deployment.id;
    await server.op(SetTrainingBaselineDocument, { input: { deploymentId, rows: scoredRows(99, 1000) } });
    // b0–b2 like the baseline, b3 shifted (age +30, two cities), b4 small (40 rows), b5 like the baseline.
    const plan: [number, number][] = [
      [300, 0],
      [300, 0],
      [300, 0],
      [300, 30],
      [40, 0],
      [300, 0],
    ];
    for (const [i, [n, shift]] of plan.entries()) {
      const created = await createBatch(server, deploymentId, `b${i}`);
      batch.push(created.id);
      await server.op(ReportPredictionsDocument, { input: { deploymentId, batchId: created.id, rows: scoredRows(i, n, shift) } });
    }
  });

  it('measures a batch against a reference selection: merged reference bins, PSI, chi-square p-values adjusted across features', async () => {
    const drift = (await driftOf([batch[3]!], [batch[0]!, batch[1]!]))!;
    expect(drift).toMatchObject({ reference: 'SELECTION', referenceBatchIds: [batch[0], batch[1]], batchCount: 1, minSampleSize: 100 });
    const [b0, b1, b3] = await Promise.all([binsOf(batch[0]!), binsOf(batch[1]!), binsOf(batch[3]!)]);
    const pValues = drift.features.map((f) => chiSquarePValue(b3.get(f.name)!, add(b0.get(f.name)!, b1.get(f.name)!)));
    // Benjamini–Hochberg over the two features: the smaller p doubled, the larger kept, made monotone.
    const [low, high] = [...pValues].sort((a, b) => a - b) as [number, number];
    const adjusted = pValues.map((p) => (p === low ? Math.min(2 * low, high) : high));
    for (const [i, f] of drift.features.entries()) {
      const reference = add(b0.get(f.name)!, b1.get(f.name)!);
      expect(counts(f.reference)).toEqual(reference);
      expect(counts(f.current)).toEqual(b3.get(f.name));
      expect(f.sampleSize).toBe(300);
      expect(f.referenceSampleSize).toBe(600);
      expect(f.score!).toBeCloseTo(psi(reference, b3.get(f.name)!), 10);
      expect(f.pValue!).toBeCloseTo(pValues[i]!, 12);
      expect(f.adjustedPValue!).toBeCloseTo(adjusted[i]!, 12);
      expect(f.status).toBe('DRIFTED');
      expect(f.isDrifted).toBe(true);
    }
    // The target is its own family: its p-value is not adjusted.
    expect(drift.target!.adjustedPValue).toBe(drift.target!.pValue);
  });

  it('finds nothing between a selection and itself, and only noise between batches alike', async () => {
    const same = (await driftOf([batch[0]!, batch[1]!], [batch[0]!, batch[1]!]))!;
    for (const f of [...same.features, same.target!]) expect(f).toMatchObject({ score: 0, pValue: 1, status: 'NOT_DRIFTED' });
    const alike = (await driftOf([batch[5]!], [batch[0]!, batch[1]!, batch[2]!]))!;
    for (const f of alike.features) {
      expect(f.score!).toBeLessThan(0.15);
      expect(f.status).toBe('NOT_DRIFTED');
      expect(f.isDrifted).toBe(false);
    }
  });

  it('does not judge a batch smaller than the minimum sample size, until the setting allows it', async () => {
    const small = (await driftOf([batch[4]!]))!;
    expect(small.reference).toBe('TRAINING_BASELINE');
    for (const f of small.features) {
      expect(f).toMatchObject({
        sampleSize: 40,
        referenceSampleSize: 1000,
        status: 'INSUFFICIENT_DATA',
        isDrifted: null,
        adjustedPValue: null,
      });
      expect(f.pValue).not.toBeNull();
      expect(f.score).not.toBeNull();
    }
    const settings = await server.op(UpdateHealthSettingsDocument, { input: { deploymentId, dataDrift: { minSampleSize: 30 } } });
    expect(settings.updateHealthSettings.__typename).toBe('UpdateHealthSettingsSuccess');
    const judged = (await driftOf([batch[4]!]))!;
    expect(judged.minSampleSize).toBe(30);
    for (const f of judged.features) expect(['DRIFTED', 'NOT_DRIFTED']).toContain(f.status);
    const refused = await server.op(UpdateHealthSettingsDocument, {
      input: { deploymentId, dataDrift: { minSampleSize: 0, significanceLevel: 1 } },
    });
    if (refused.updateHealthSettings.__typename !== 'ValidationError') throw new Error(JSON.stringify(refused));
    expect(refused.updateHealthSettings.fieldErrors.map((e) => e.field).sort()).toEqual([
      'dataDrift.minSampleSize',
      'dataDrift.significanceLevel',
    ]);
    await server.op(UpdateHealthSettingsDocument, { input: { deploymentId, dataDrift: { minSampleSize: 100 } } });
  });

  it("treats another organization's batches in a reference like missing ones, and names `reference` in refusals", async () => {
    const other = await createOrganization(server, null);
    const foreignDeployment = await createDeployment(server, other.token);
    const foreign = await createBatch(server, foreignDeployment.id, 'theirs', other.token);
    const withForeign = (await driftOf([batch[3]!], [foreign.id]))!;
    const withMissing = (await driftOf([batch[3]!], ['mb_missing']))!;
    expect(withForeign).toEqual(withMissing);
    expect(withForeign.referenceBatchIds).toEqual([]);
    for (const f of withForeign.features) expect(f).toMatchObject({ score: null, pValue: null, status: 'NO_DATA', referenceSampleSize: 0 });
    // The other organization cannot read this deployment at all.
    expect(await driftOf([batch[3]!], [batch[0]!], other.token)).toBeUndefined();
    const both = await server.graphql(DriftAgainstDocument, {
      id: deploymentId,
      batches: { last: 1 },
      reference: { last: 1, batchIds: [] },
    });
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'reference' }] });
    const zero = await server.graphql(DriftAgainstDocument, { id: deploymentId, batches: { last: 1 }, reference: { last: 0 } });
    expect(zero.errors?.[0]?.extensions).toMatchObject({ fieldErrors: [{ field: 'reference.last' }] });
  });

  it('answers the drift matrix from per-batch bins: every batch against every other, for a feature or the target', async () => {
    const matrix = (await server.op(DriftMatrixDocument, { id: deploymentId, batches: { last: 6 }, feature: 'age' })).deployment!
      .driftMatrix;
    expect(matrix.batches.map((b) => b.id)).toEqual(batch);
    const bins = await Promise.all(batch.map(async (id) => (await binsOf(id)).get('age')!));
    expect(matrix.sampleSizes).toEqual(bins.map(sum));
    expect(matrix.rows.map((r) => r.batchId)).toEqual(batch);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        const row = matrix.rows[i]!;
        expect(row.scores[j]!).toBeCloseTo(i === j ? 0 : psi(bins[j]!, bins[i]!), 10);
        expect(row.pValues[j]!).toBeCloseTo(i === j ? 1 : chiSquarePValue(bins[i]!, bins[j]!), 12);
        const enough = Math.min(sum(bins[i]!), sum(bins[j]!)) >= 100;
        const drifted = enough && row.pValues[j]! <= 0.05 && row.scores[j]! >= 0.15;
        expect(row.statuses[j]).toBe(!enough ? 'INSUFFICIENT_DATA' : drifted ? 'DRIFTED' : 'NOT_DRIFTED');
      }
    }
    expect(matrix.rows[3]!.statuses[0]).toBe('DRIFTED');
    expect(matrix.rows[0]!.statuses[1]).toBe('NOT_DRIFTED');
    // The same cell as dataDrift with a one-batch reference.
    const single = (await driftOf([batch[3]!], [batch[0]!]))!.features.find((f) => f.name === 'age')!;
    expect(single.score).toBeCloseTo(matrix.rows[3]!.scores[0]!, 12);

    const target = (await server.op(DriftMatrixDocument, { id: deploymentId, batches: { last: 3 } })).deployment!.driftMatrix;
    expect(target.feature).toBe('');
    expect(target.rows).toHaveLength(3);
    expect(target.rows.every((r) => r.scores.length === 3 && r.scores.every((s) => s !== null))).toBe(true);
  });

  it('refuses an unknown feature and more than 100 batches, naming the argument', async () => {
    const unknown = await server.graphql(DriftMatrixDocument, { id: deploymentId, batches: { last: 3 }, feature: 'nope' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'feature' }] });
    const org = await createOrganization(server, null);
    const many = await createDeployment(server, org.token);
    for (let i = 0; i < 101; i++) await createBatch(server, many.id, `m${i}`, org.token);
    const tooMany = await server.graphql(DriftMatrixDocument, { id: many.id, batches: { last: 101 } }, org.token);
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fieldErrors: [{ field: 'batches' }] });
    // Without a baseline, 100 empty batches: an empty matrix, not an error.
    const empty = (await server.op(DriftMatrixDocument, { id: many.id, batches: { last: 100 } }, org.token)).deployment!.driftMatrix;
    expect(empty).toMatchObject({ hasBaseline: false, rows: [] });
    expect(empty.batches).toHaveLength(100);
    // Another organization's deployment: null, like a missing one.
    expect((await server.graphql(DriftMatrixDocument, { id: deploymentId, batches: { last: 3 } }, org.token)).data?.deployment).toBeNull();
  });

  it('measures each batch against the one created before it (over batches, reference PREVIOUS), skipping deleted ones', async () => {
    const series = async (batchIds: string[]) =>
      (await server.op(DriftOverBatchesDocument, { id: deploymentId, batches: { batchIds }, reference: 'PREVIOUS' })).deployment!
        .overBatches;
    const rows = await series([batch[0]!, batch[3]!, batch[5]!]);
    expect(rows.map((r) => r.dataDrift.referenceBatchIds)).toEqual([[], [batch[2]], [batch[4]]]);
    expect(rows.every((r) => r.dataDrift.reference === 'PREVIOUS_BATCH')).toBe(true);
    for (const f of rows[0]!.dataDrift.features) expect(f).toMatchObject({ status: 'NO_DATA', score: null, referenceSampleSize: 0 });
    const pairs: [string, string][] = [
      [batch[3]!, batch[2]!],
      [batch[5]!, batch[4]!],
    ];
    for (const [k, [current, previous]] of pairs.entries()) {
      const direct = (await driftOf([current], [previous]))!;
      expect(rows[k + 1]!.dataDrift.features).toEqual(
        direct.features.map(({ name, score, pValue, status, sampleSize, referenceSampleSize }) => ({
          name,
          score,
          pValue,
          status,
          sampleSize,
          referenceSampleSize,
        })),
      );
    }
    expect(rows[1]!.dataDrift.features.every((f) => f.status === 'DRIFTED')).toBe(true);
    // The default stays the training baseline.
    const baseline = (await server.op(DriftOverBatchesDocument, { id: deploymentId, batches: { batchIds: [batch[3]!] } })).deployment!
      .overBatches;
    expect(baseline[0]!.dataDrift).toMatchObject({ reference: 'TRAINING_BASELINE', referenceBatchIds: [] });

    await server.op(DeleteMonitoringBatchDocument, { id: batch[4]! });
    const after = await series([batch[5]!]);
    expect(after[0]!.dataDrift.referenceBatchIds).toEqual([batch[3]]);
  });

  it('keeps the old dataDrift answer for the training baseline (the deprecated baseline field equals reference)', async () => {
    const old = (await server.op(DataDriftDocument, { id: deploymentId, batches: { batchIds: [batch[3]!] } })).deployment!.dataDrift;
    const now = (await driftOf([batch[3]!]))!;
    for (const [i, f] of old.features.entries()) {
      expect(f.baseline.bins.map((b) => b.count)).toEqual(counts(now.features[i]!.reference));
      expect(f.score).toBe(now.features[i]!.score);
      expect(f.isDrifted).toBe(now.features[i]!.isDrifted);
    }
  });
});
