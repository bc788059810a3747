// Issue 15: migration 0015 adds every binary prediction's probability histogram per batch and model
// (batch_column_stats.probability_bins) and backfills it from the stored rows. A database is filled
// by the PREVIOUS version (the commit before 0015 was added, run as its own server process), then
// this version starts on it: each binary batch's histogram is what ingest would have written (the
// same packed integer as a fresh ingest of the same rows), other target types stay null, and new
// rows add to the backfilled counts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchPerformanceEstimateDocument, ReportPredictionsDocument } from '../generated/graphql.js';
import { createBatch, createBinaryDeployment, createDeployment } from '../helpers/fixtures.js';
import type { Endpoint } from '../helpers/graphql.js';
import { runOperation } from '../helpers/graphql.js';
import { connectTo, newToken, ROOT, ServerProcess, stopProcesses } from '../helpers/processes.js';
import { random } from '../helpers/random.js';
import { createTestDatabase } from '../helpers/server.js';

const MIGRATION = 'drizzle/0015_probability_histograms.sql';

const checkouts: string[] = [];
afterAll(async () => {
  await stopProcesses();
  for (const dir of checkouts) rmSync(dir, { recursive: true, force: true });
});

/** The version before the histograms: the parent of the commit that added the migration. */
function previousVersion(): string {
  const added = execFileSync('git', ['log', '--diff-filter=A', '--format=%H', '--', MIGRATION], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1);
  if (!added) throw new Error(`git log does not know ${MIGRATION}: this test needs the repository history`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'batchlens-previous-'));
  checkouts.push(dir);
  execFileSync('sh', ['-c', `git archive ${added}^ | tar -x -C ${dir}`], { cwd: ROOT });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** Σ count_i·10^(16·i) as decimal text: the packed form, computed here with BigInt. */
function packed(probabilities: number[]): string {
  let total = 0n;
  for (const p of probabilities) total += 10n ** BigInt(16 * Math.min(999, Math.floor(p * 1000)));
  return total.toString();
}

describe('migrating a database filled by the version before the probability histograms', () => {
  it("backfills every binary batch's histogram per model as ingest writes it, and keeps counting", async () => {
    const databaseUrl = await createTestDatabase({ empty: true });
    const token = newToken();
    const old = await ServerProcess.spawn({ databaseUrl, token, root: previousVersion() }).then((s) => s.ready());
    const before: Endpoint & { url: string } = { url: old.url, adminToken: token };

    const binary = await createBinaryDeployment(before, token, { predictionThreshold: 0.3 });
    const regression = await createDeployment(before, token);
    const [b1, b2, r1] = await Promise.all([
      createBatch(before, binary.id),
      createBatch(before, binary.id),
      createBatch(before, regression.id),
    ]);
    const next = random(21);
    // Probabilities of every kind: 0, 1, bin edges, values just below an edge, random ones.
    const edgeCases = [0, 1, 0.5, 0.3, 0.001, 0.999, 0.4999999, 0.7 - 1e-12, 0.123456789];
    const draw = (n: number) => [...edgeCases, ...Array.from({ length: n }, () => next())];
    const champion1 = draw(300);
    const challenger1 = draw(50);
    const champion2 = draw(120);
    const report = (batchId: string, probabilities: number[], modelId?: string) =>
      runOperation(before, ReportPredictionsDocument, {
        input: {
          deploymentId: binary.id,
          batchId,
          ...(modelId ? { modelId } : {}),
          rows: probabilities.map((prediction) => ({ features: {}, prediction })),
        },
      });
    await report(b1.id, champion1.slice(0, 200));
    await report(b1.id, champion1.slice(200));
    await report(b1.id, challenger1, 'challenger');
    await report(b2.id, champion2);
    await runOperation(before, ReportPredictionsDocument, {
      input: { deploymentId: regression.id, batchId: r1.id, rows: [{ features: { age: 3 }, prediction: 0.42 }] },
    });
    await old.terminate();

    // This version on the same database: migration 0015 runs at start.
    const server = await ServerProcess.spawn({ databaseUrl, token }).then((s) => s.ready());
    const after: Endpoint & { url: string } = { url: server.url, adminToken: token };
    const sql = connectTo(databaseUrl);
    const histograms = async () =>
      Object.fromEntries(
        (
          await sql<{ batch_id: string; model_id: string; bins: string | null }[]>`
            select batch_id, model_id, probability_bins::text as bins from batch_column_stats where is_prediction
            and batch_id in (${b1.id}, ${b2.id}, ${r1.id})`
        ).map((row) => [`${row.batch_id}/${row.model_id}`, row.bins]),
      );
    expect(await histograms()).toEqual({
      [`${b1.id}/${binary.modelId}`]: packed(champion1),
      [`${b1.id}/challenger`]: packed(challenger1),
      [`${b2.id}/${binary.modelId}`]: packed(champion2),
      [`${r1.id}/${regression.modelId}`]: null,
    });

    // The same rows ingested fresh by this version store the same packed integer.
    const fresh = await createBatch(after, binary.id);
    await runOperation(after, ReportPredictionsDocument, {
      input: { deploymentId: binary.id, batchId: fresh.id, rows: champion1.map((prediction) => ({ features: {}, prediction })) },
    });
    const [again] = await sql<{ bins: string }[]>`
      select probability_bins::text as bins from batch_column_stats where batch_id = ${fresh.id} and is_prediction`;
    expect(again!.bins).toBe(packed(champion1));

    // New rows add to the backfilled histogram, and the estimate reads it.
    const more = draw(30);
    await runOperation(after, ReportPredictionsDocument, {
      input: { deploymentId: binary.id, batchId: b2.id, rows: more.map((prediction) => ({ features: {}, prediction })) },
    });
    expect((await histograms())[`${b2.id}/${binary.modelId}`]).toBe(packed([...champion2, ...more]));
    const estimate = await runOperation(after, BatchPerformanceEstimateDocument, { id: b2.id });
    expect(estimate.monitoringBatch!.performanceEstimate).toMatchObject({
      rowCount: champion2.length + more.length,
      predictionThreshold: 0.3,
    });
    expect(server.stderr).not.toContain('unexpected error');
    await sql.end();
  }, 180_000);
});
