import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchOrderField,
  CreateMonitoringBatchDocument,
  MonitoringBatchDocument,
  UpdateBatchModelHistoryDocument,
} from '../generated/graphql.js';
import { apiIds, batchesUrl, openBatches, parseCount, recordCounts, rowIds, waitForList, watchForRow } from '../helpers/batch-page.js';
import { expectNoProblems, launchBrowser, openPage, screenshotDirectory, seriousAccessibilityViolations } from '../helpers/browser.js';
import { countRows } from '../helpers/db.js';
import { createBatch, createDeployment, createOrganization, createUser, MISSING_BATCH } from '../helpers/fixtures.js';
import { ndjson, ndjsonChunks, regressionRows } from '../helpers/ingest-data.js';
import { FAST_JOBS, inputCsv, inputRows, jobDeployment, MODELS, runJob } from '../helpers/jobs.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { batchesPath, bulkPath, LOCKED_MESSAGE, post } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CHROMIUM, systemPackage } from '../helpers/system-packages.js';

// The Batch Management tab (C14) in a real Chromium against a real server: the live table (rows
// created elsewhere, counts rising while rows stream in), the quota bar, create / edit / lock /
// delete, sort by every column, filters, search, paging, tenancy, keyboard and accessibility.

const chromiumCommand = systemPackage(CHROMIUM);

describe.runIf(chromiumCommand)('Batch Management in Chromium', () => {
  let server: TestServer;
  let models: ModelServer;
  let browser: Browser;
  /** An organization without a daily limit. */
  let tenant: { token: string; adminId: string };
  let robot: { id: string; secret: string };

  beforeAll(async () => {
    [server, models] = await Promise.all([startTestServer(FAST_JOBS), startModelServer(MODELS)]);
    browser = await launchBrowser(chromiumCommand!);
    tenant = await createOrganization(server, null);
    const member = await createUser(server, tenant.token, 'scoring robot');
    robot = { id: member.id, secret: member.secret };
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await models?.stop();
  });

  const newDeployment = async (label = 'Churn scoring (nightly)') => (await createDeployment(server, tenant.token, { label })).id;
  const readBatch = async (id: string) => (await server.op(MonitoringBatchDocument, { id }, tenant.token)).monitoringBatch;
  const row = (page: Page, batchId: string) => page.locator(`tr[data-batch-id="${batchId}"]`);

  it('creates a batch in the page, showing validation errors from the API first', async () => {
    const deploymentId = await newDeployment();
    const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
    expect(await page.locator('.batch-table-empty').textContent()).toContain('No batches yet');
    await page.getByRole('button', { name: 'Create batch' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create batch' });
    await dialog.waitFor();
    await dialog.getByLabel('Name').fill('nightly 2026-03-01');
    await dialog.getByLabel('Description').fill('The nightly scoring run');
    await dialog.getByLabel('External URL').fill('ftp://files.example.com/run/1');
    await dialog.getByRole('button', { name: 'Create batch' }).click();
    // The API's ValidationError: its message, and the field's own message next to it.
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('externalUrl');
    expect(await dialog.locator('.field-error').textContent()).toBe('External URL must be an absolute http:// or https:// URL');
    expect(await dialog.getByLabel('External URL').getAttribute('aria-invalid')).toBe('true');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    await dialog.getByLabel('External URL').fill('https://ci.example.com/runs/1');
    await dialog.getByRole('button', { name: 'Create batch' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const created = page.locator('table.batch-table tbody tr', { hasText: 'nightly 2026-03-01' });
    await created.waitFor();
    const id = await created.getAttribute('data-batch-id');
    expect(await readBatch(id!)).toMatchObject({
      name: 'nightly 2026-03-01',
      description: 'The nightly scoring run',
      externalUrl: 'https://ci.example.com/runs/1',
      createdBy: { id: tenant.adminId },
    });
    expect(await created.locator('td.batch-id code').textContent()).toBe(id);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('shows a batch created through REST by another client within 1 s, without reload', async () => {
    const deploymentId = await newDeployment();
    await createBatch(server, deploymentId, 'already there', tenant.token);
    const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
    const watch = await watchForRow(page, 'made elsewhere');
    const answer = await server.rest('POST', batchesPath(deploymentId), { token: robot.secret, body: { batchName: 'made elsewhere' } });
    const answeredAt = Date.now();
    expect(answer.status).toBe(201);
    await expect.poll(() => watch.seenAt(), { timeout: 5000 }).not.toBeNull();
    const elapsed = (await watch.seenAt())! - answeredAt;
    expect(elapsed, `shown ${elapsed} ms after the REST answer`).toBeLessThanOrEqual(1000);
    const made = row(page, answer.json.id!);
    expect(await made.locator('td').nth(4).textContent()).toBe('scoring robot');
    expect(await page.locator('.pager').textContent()).toContain('1–2 of 2 batches');
    expectNoProblems(problems);
    await page.context().close();
  });

  it('raises the row’s prediction count live during a 100,000-row upload, ending at exactly 100,000', async () => {
    const deploymentId = await newDeployment();
    const batch = await createBatch(server, deploymentId, 'big upload', tenant.token);
    const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
    const counts = await recordCounts(page, batch.id);
    // Four requests of 25,000 rows, one after another: each commits, so the count moves in steps.
    for (let part = 0; part < 4; part++) {
      const answer = await post(server, bulkPath(deploymentId, batch.id), ndjsonChunks(25_000, part * 25_000), { token: tenant.token });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    }
    await expect.poll(() => row(page, batch.id).locator('.prediction-count').textContent(), { timeout: 10_000 }).toBe('100,000');
    const shown = (await counts.read()).map(parseCount);
    expect(shown[0]).toBe(0);
    expect(shown.some((count) => count > 0 && count < 100_000)).toBe(true);
    expect(shown.at(-1)).toBe(100_000);
    // Never backwards.
    expect([...shown].sort((a, b) => a - b)).toEqual(shown);
    expect((await readBatch(batch.id))?.predictionCount).toBe(100_000);
    expect(await row(page, batch.id).locator('td').nth(2).textContent()).not.toBe('—');
    expectNoProblems(problems);
    await page.context().close();
  }, 120_000);

  it('moves the quota bar when batches are created, and shows the daily limit reached (in text, not only colour)', async () => {
    const limited = await createOrganization(server, 3);
    const deploymentId = (await createDeployment(server, limited.token)).id;
    const { page, problems } = await openBatches(browser, server, limited.token, deploymentId);
    const bar = page.getByRole('progressbar', { name: 'Batches created' });
    expect(await bar.getAttribute('aria-valuemin')).toBe('0');
    expect(await bar.getAttribute('aria-valuemax')).toBe('3');
    expect(await bar.getAttribute('aria-valuenow')).toBe('0');
    const quota = page.locator('.quota');
    expect(await quota.textContent()).toContain('0 / 3 today');
    // The reset (next UTC midnight) in the viewer's zone, which the page names.
    expect(await quota.textContent()).toMatch(/Resets at .*GMT\+[12].*\(Europe\/Berlin\)/);

    await page.getByRole('button', { name: 'Create batch' }).click();
    await page.getByRole('dialog').getByLabel('Name').fill('first of three');
    await page.getByRole('dialog').getByRole('button', { name: 'Create batch' }).click();
    await expect.poll(() => bar.getAttribute('aria-valuenow')).toBe('1');
    expect(await quota.textContent()).toContain('2 left');

    for (const name of ['second', 'third']) {
      expect((await server.rest('POST', batchesPath(deploymentId), { token: limited.token, body: { batchName: name } })).status).toBe(201);
    }
    await expect.poll(() => bar.getAttribute('aria-valuenow')).toBe('3');
    expect(await bar.getAttribute('aria-valuetext')).toBe('3 of 3 batches created today: daily limit reached');
    expect(await quota.textContent()).toContain('Daily limit reached');

    // One more is refused by the API, and the dialog says why.
    await page.getByRole('button', { name: 'Create batch' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('one too many');
    await dialog.getByRole('button', { name: 'Create batch' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('Daily batch limit of 3 reached');
    expect(await page.locator('table.batch-table tbody tr').count()).toBe(3);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('says "no daily limit" when the organization has none', async () => {
    const deploymentId = await newDeployment();
    await createBatch(server, deploymentId, 'one', tenant.token);
    const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
    expect(await page.locator('.quota').textContent()).toContain('1 today · no daily limit');
    expect(await page.getByRole('progressbar').count()).toBe(0);
    expectNoProblems(problems);
    await page.context().close();
  });

  it('locks a batch in the page: a following REST upload is refused (409) and stores nothing; unlocking accepts it again', async () => {
    const deploymentId = await newDeployment();
    const batch = await createBatch(server, deploymentId, 'to lock', tenant.token);
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(batchesUrl(server, deploymentId, batch.id));
    await page.getByRole('button', { name: 'Lock batch' }).click();
    await page.getByRole('button', { name: 'Unlock batch' }).waitFor();
    expect(await page.locator('.batch-detail-head .badge-locked').textContent()).toBe('Locked');
    expect((await readBatch(batch.id))?.isLocked).toBe(true);

    const refused = await post(server, bulkPath(deploymentId, batch.id), ndjson(regressionRows(20, 7)), { token: tenant.token });
    expect(refused.status).toBe(409);
    expect(refused.json).toEqual({ message: LOCKED_MESSAGE, batchId: batch.id });
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
    expect((await readBatch(batch.id))?.predictionCount).toBe(0);

    await page.getByRole('button', { name: 'Unlock batch' }).click();
    await page.getByRole('button', { name: 'Lock batch' }).waitFor();
    expect((await post(server, bulkPath(deploymentId, batch.id), ndjson(regressionRows(20, 7)), { token: tenant.token })).status).toBe(200);
    await expect.poll(() => page.locator('.batch-facts .prediction-count').textContent()).toBe('20');
    expectNoProblems(problems);
    await page.context().close();
  });

  it('deletes a batch after confirmation: the row disappears (and cancelling keeps it)', async () => {
    const deploymentId = await newDeployment();
    const keep = await createBatch(server, deploymentId, 'keep me', tenant.token);
    const doomed = await createBatch(server, deploymentId, 'delete me', tenant.token);
    const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
    await page.getByRole('button', { name: 'Delete delete me' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete batch' });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('delete me');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect(await readBatch(doomed.id)).not.toBeNull();

    await page.getByRole('button', { name: 'Delete delete me' }).click();
    await confirm.getByRole('button', { name: 'Delete batch' }).click();
    await row(page, doomed.id).waitFor({ state: 'detached' });
    expect(await rowIds(page)).toEqual([keep.id]);
    expect(await readBatch(doomed.id)).toBeNull();

    // From the batch's own page too: back to the list, without it.
    await page.goto(batchesUrl(server, deploymentId, keep.id));
    await page.getByRole('button', { name: 'Delete batch' }).click();
    await page.getByRole('dialog', { name: 'Delete batch' }).getByRole('button', { name: 'Delete batch' }).click();
    await page.locator('.batch-table-empty').waitFor();
    expect(await page.evaluate(() => location.hash)).toBe(`#/deployments/${deploymentId}/batches`);
    expect(await readBatch(keep.id)).toBeNull();
    expectNoProblems(problems);
    await page.context().close();
  });

  it('edits a batch’s info and its model history period (read back over GraphQL), refusing a start after the end', async () => {
    const deploymentId = await newDeployment();
    const batch = await createBatch(server, deploymentId, 'to edit', tenant.token);
    expect((await post(server, bulkPath(deploymentId, batch.id), ndjson(regressionRows(30, 11)), { token: tenant.token })).status).toBe(
      200,
    );
    const modelId = (await readBatch(batch.id))!.modelHistory[0]!.modelId;
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(batchesUrl(server, deploymentId, batch.id));
    await page.getByRole('heading', { name: 'to edit' }).waitFor();

    const info = page.getByRole('region', { name: 'Info' });
    await info.getByLabel('Name').fill('edited name');
    await info.getByLabel('Description').fill('Backfill of March');
    await info.getByLabel('External URL').fill('not a url');
    await info.getByRole('button', { name: 'Save info' }).click();
    await expect.poll(() => info.locator('.field-error').textContent()).toContain('External URL must be an absolute');
    expect((await readBatch(batch.id))?.name).toBe('to edit');
    await info.getByLabel('External URL').fill('https://example.com/backfill');
    await info.getByRole('button', { name: 'Save info' }).click();
    await info.getByText('Saved.').waitFor();
    expect(await readBatch(batch.id)).toMatchObject({
      name: 'edited name',
      description: 'Backfill of March',
      externalUrl: 'https://example.com/backfill',
    });
    await page.getByRole('heading', { name: 'edited name' }).waitFor();

    // Times typed in the viewer's zone (Europe/Berlin: UTC+1 in March before the switch, UTC+2 after).
    const start = page.getByLabel(`Start time of model ${modelId}`);
    const end = page.getByLabel(`End time of model ${modelId}`);
    const save = page.getByRole('button', { name: `Save the period of model ${modelId}` });
    await start.fill('2026-03-20T10:00:00');
    await end.fill('2026-03-10T10:00:00');
    await save.click();
    await expect
      .poll(() => page.getByRole('region', { name: 'Model history' }).getByRole('alert').textContent())
      .toBe('The start time must not be after the end time.');
    expect(await end.getAttribute('aria-invalid')).toBe('true');
    const before = (await readBatch(batch.id))!.modelHistory[0]!;
    expect(before.startTime).not.toBe('2026-03-20T09:00:00.000Z');

    await end.fill('2026-03-31T23:30:15');
    await save.click();
    await page.getByRole('region', { name: 'Model history' }).getByText('Saved.').waitFor();
    expect((await readBatch(batch.id))!.modelHistory).toEqual([
      { modelId, predictionCount: 30, startTime: '2026-03-20T09:00:00.000Z', endTime: '2026-03-31T21:30:15.000Z' },
    ]);
    // Reloaded, the page shows what was saved, in the viewer's zone.
    await page.reload();
    expect(await page.getByLabel(`Start time of model ${modelId}`).inputValue()).toBe('2026-03-20T10:00');
    expect(await page.getByLabel(`End time of model ${modelId}`).inputValue()).toBe('2026-03-31T23:30:15');
    expectNoProblems(problems);
    await page.context().close();
  });

  it('links a batch made by a batch prediction job to that job in the Jobs tab', async () => {
    const deployment = await jobDeployment(server, models, 'reg', { token: tenant.token });
    const job = await runJob(server, { deploymentId: deployment.id }, inputCsv(inputRows(5)), tenant.token);
    expect(job.status).toBe('COMPLETED');
    const { page, problems } = await openPage(browser, { token: tenant.token });
    await page.goto(batchesUrl(server, deployment.id, job.monitoringBatchId!));
    const madeBy = page.locator('.batch-facts dd', { hasText: 'batch prediction job' });
    await madeBy.waitFor();
    expect(await madeBy.textContent()).toContain(job.id);
    expect(await madeBy.textContent()).toContain('completed');
    await madeBy.getByRole('link', { name: 'open the job' }).click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/deployments/${deployment.id}/jobs/${job.id}`);
    await page.getByText(job.id).first().waitFor();
    expectNoProblems(problems);
    await page.context().close();
  });

  it('shows "Batch not found" for another organization’s batch, a missing id and another deployment’s batch', async () => {
    const deploymentId = await newDeployment();
    const otherDeploymentId = await newDeployment('Another deployment');
    const sibling = await createBatch(server, otherDeploymentId, 'sibling', tenant.token);
    const stranger = await createOrganization(server);
    const foreign = await createBatch(server, (await createDeployment(server, stranger.token)).id, 'foreign secret', stranger.token);
    const { page, problems } = await openPage(browser, { token: tenant.token });
    for (const id of [foreign.id, MISSING_BATCH, sibling.id]) {
      await page.goto(batchesUrl(server, deploymentId, id));
      await page.reload();
      await page.getByRole('heading', { name: 'Batch not found' }).waitFor();
      expect(await page.content()).not.toContain('foreign secret');
      expect(await page.getByRole('link', { name: 'All batches' }).getAttribute('href')).toBe(`#/deployments/${deploymentId}/batches`);
    }
    expectNoProblems(problems);
    await page.context().close();
  });

  describe('a deployment with 120 batches', () => {
    let deploymentId: string;
    const ids: string[] = [];

    beforeAll(async () => {
      deploymentId = await newDeployment('Many batches');
      for (let i = 0; i < 120; i++) {
        const token = i % 3 === 0 ? robot.secret : tenant.token;
        ids.push((await createBatch(server, deploymentId, `run ${String((i * 47) % 120).padStart(3, '0')}`, token)).id);
      }
      // Created an hour apart from February 1; counts with ties; prediction periods spread over January, some batches without any.
      await server.sql`
        update monitoring_batches
        set prediction_count = (ordinality * 7) % 5 * 1000,
            created_at = timestamptz '2026-02-01T00:00:00Z' + ordinality * interval '1 hour',
            earliest_prediction_at = case when ordinality % 10 = 0 then null else timestamptz '2026-01-01' + ordinality * interval '5 hours' end,
            latest_prediction_at = case when ordinality % 10 = 0 then null else timestamptz '2026-01-01' + ordinality * interval '5 hours' + (ordinality % 4) * interval '1 day' end
        from unnest(${ids}::text[]) with ordinality as batch(id, ordinality)
        where monitoring_batches.id = batch.id`;
    });

    const columns: [string, BatchOrderField][] = [
      ['Name', 'NAME'],
      ['ID', 'ID'],
      ['Created', 'CREATED_AT'],
      ['Earliest prediction', 'EARLIEST_PREDICTION'],
      ['Latest prediction', 'LATEST_PREDICTION'],
      ['Created by', 'CREATED_BY'],
      ['Predictions', 'PREDICTION_COUNT'],
    ];

    it('sorts by every column, ascending then descending (aria-sort on the header), as the API orders them', async () => {
      const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
      expect(await page.getByRole('columnheader', { name: 'Created', exact: true }).getAttribute('aria-sort')).toBe('descending');
      expect(await rowIds(page)).toEqual(await apiIds(server, tenant.token, deploymentId, {}));
      for (const [title, field] of columns) {
        const header = page.getByRole('columnheader', { name: title, exact: true });
        for (const direction of ['ASC', 'DESC'] as const) {
          const expected = await apiIds(server, tenant.token, deploymentId, { orderBy: { field, direction } });
          await header.getByRole('button').click();
          await expect.poll(() => header.getAttribute('aria-sort')).toBe(direction === 'ASC' ? 'ascending' : 'descending');
          await expect.poll(() => rowIds(page), { message: `${field} ${direction}` }).toEqual(expected);
          expect(await page.locator('th[aria-sort]').count()).toBe(1);
        }
      }
      expectNoProblems(problems);
      await page.context().close();
    });

    it('pages through 120 batches 50 at a time (Next, Previous), each page as the API pages them', async () => {
      const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
      await page.getByRole('columnheader', { name: 'Predictions', exact: true }).getByRole('button').click();
      const orderBy = { field: 'PREDICTION_COUNT' as const, direction: 'ASC' as const };
      const all = await apiIds(server, tenant.token, deploymentId, { orderBy, first: 100 });
      await expect.poll(() => rowIds(page)).toEqual(all.slice(0, 50));
      const pager = page.locator('.pager');
      expect(await pager.textContent()).toContain('1–50 of 120 batches');
      const next = page.getByRole('button', { name: 'Next page' });
      const previous = page.getByRole('button', { name: 'Previous page' });
      expect(await previous.isDisabled()).toBe(true);
      await next.click();
      await expect.poll(() => rowIds(page)).toEqual(all.slice(50, 100));
      expect(await pager.textContent()).toContain('51–100 of 120 batches');
      await next.click();
      await expect.poll(() => pager.textContent()).toContain('101–120 of 120 batches');
      const lastPage = await rowIds(page);
      expect(lastPage).toHaveLength(20);
      expect(new Set([...all, ...lastPage]).size).toBe(120);
      expect(await next.isDisabled()).toBe(true);
      await previous.click();
      await expect.poll(() => rowIds(page)).toEqual(all.slice(50, 100));
      expectNoProblems(problems);
      await page.context().close();
    });

    it('filters by creator, creation time and prediction period, and clears the filters', async () => {
      const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
      const pager = page.locator('.pager');
      await page.getByLabel('Created by').selectOption({ label: 'scoring robot' });
      await expect.poll(() => pager.textContent()).toContain('of 40 batches');
      expect(await rowIds(page)).toEqual(await apiIds(server, tenant.token, deploymentId, { filter: { createdBy: robot.id } }));

      // 2026-01-05 00:00 in Berlin is 2026-01-04T23:00Z.
      await page.getByLabel('Predictions from').fill('2026-01-05T00:00:00');
      await page.getByLabel('Predictions until').fill('2026-01-20T12:00:00');
      const filter = { createdBy: robot.id, startAfter: '2026-01-04T23:00:00.000Z', endBefore: '2026-01-20T11:00:00.000Z' };
      const expected = await apiIds(server, tenant.token, deploymentId, { filter });
      expect(expected.length).toBeGreaterThan(0);
      await expect.poll(() => rowIds(page)).toEqual(expected);
      expect(await pager.textContent()).toContain(`of ${expected.length} batches`);

      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expect.poll(() => pager.textContent()).toContain('of 120 batches');
      // Created between Feb 3, 00:00 and Feb 4, 12:00 in Berlin (UTC+1): Feb 2, 23:00Z to Feb 4, 11:00Z, both inclusive.
      await page.getByLabel('Created after').fill('2026-02-03T00:00');
      await page.getByLabel('Created before').fill('2026-02-04T12:00');
      const created = await apiIds(server, tenant.token, deploymentId, {
        filter: { createdAfter: '2026-02-02T23:00:00.000Z', createdBefore: '2026-02-04T11:00:00.000Z' },
      });
      expect(created).toHaveLength(37);
      await expect.poll(() => rowIds(page)).toEqual(created);
      expect(await pager.textContent()).toContain('1–37 of 37 batches');
      expectNoProblems(problems);
      await page.context().close();
    });

    it('searches by exact id and by part of the name', async () => {
      const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
      await page.getByLabel('Search').fill(ids[17]!);
      await expect.poll(() => rowIds(page)).toEqual([ids[17]]);
      await page.getByLabel('Search').fill(ids[17]!.slice(0, -2));
      await page.locator('.batch-table-empty').waitFor();
      expect(await page.locator('.batch-table-empty').textContent()).toBe('No batch matches the search and filters.');
      await page.getByLabel('Search').fill('RUN 00');
      await expect.poll(() => page.locator('.pager').textContent()).toContain('of 10 batches');
      expectNoProblems(problems);
      await page.context().close();
    });

    it('keeps search, order and page when a batch is opened and the list is returned to', async () => {
      const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
      // Pages by name, as the API pages them; each step waits for the rows (not just the pager's
      // text, which can change a render before them), as a person sees the list sorted before paging.
      const all = await apiIds(server, tenant.token, deploymentId, { orderBy: { field: 'NAME', direction: 'ASC' }, first: 100 });
      await page.getByRole('columnheader', { name: 'Name' }).getByRole('button').click();
      await expect.poll(() => rowIds(page), { timeout: 5000 }).toEqual(all.slice(0, 50));
      await page.getByRole('button', { name: 'Next page' }).click();
      const shown = all.slice(50, 100);
      await expect.poll(() => rowIds(page), { timeout: 5000 }).toEqual(shown);
      expect(await page.locator('.pager').textContent()).toContain('51–100');
      await page.locator('table.batch-table tbody tr th a').first().click();
      await page.getByRole('link', { name: '← All batches' }).click();
      await waitForList(page);
      await expect.poll(() => rowIds(page), { timeout: 5000 }).toEqual(shown);
      expect(await page.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('ascending');
      expectNoProblems(problems);
      await page.context().close();
    });
  });

  it('is operable with the keyboard: sort buttons, lock, delete with confirmation', async () => {
    const deploymentId = await newDeployment();
    const a = await createBatch(server, deploymentId, 'alpha', tenant.token);
    const b = await createBatch(server, deploymentId, 'bravo', tenant.token);
    const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
    const focused = () =>
      page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '');
    /** Tabs forward until `label` has the focus. */
    async function tabTo(label: string) {
      // Each datetime-local input is several tab stops (its date and time parts).
      for (let i = 0; i < 150; i++) {
        if ((await focused()).startsWith(label)) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`${label} was not reached with Tab`);
    }
    await page.getByLabel('Search').focus();
    await tabTo('Name');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(() => rowIds(page)).toEqual([a.id, b.id]);
    await page.keyboard.press('Space');
    await expect.poll(() => rowIds(page)).toEqual([b.id, a.id]);

    await tabTo('Lock alpha');
    await page.keyboard.press('Enter');
    await row(page, a.id).locator('.badge-locked').waitFor();
    expect((await readBatch(a.id))?.isLocked).toBe(true);

    await tabTo('Delete alpha');
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('dialog', { name: 'Delete batch' });
    await confirm.waitFor();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    expect(await readBatch(a.id)).not.toBeNull();
    await tabTo('Delete alpha');
    await page.keyboard.press('Enter');
    await confirm.waitFor();
    await tabTo('Delete batch');
    await page.keyboard.press('Enter');
    await row(page, a.id).waitFor({ state: 'detached' });
    expect(await readBatch(a.id)).toBeNull();

    // The batch link and its copy button are reachable too.
    await page.getByLabel('Search').focus();
    await tabTo('bravo');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'bravo' }).waitFor();
    expectNoProblems(problems);
    await page.context().close();
  });

  it('has no serious accessibility violations on the list, the create dialog and a batch, and no console errors (screenshots)', async () => {
    const deploymentId = await newDeployment('Churn scoring (nightly)');
    const made: string[] = [];
    for (const [i, name] of ['nightly 2026-02-27', 'nightly 2026-02-28', 'backfill january', 'nightly 2026-03-01'].entries()) {
      const batch = await createBatch(server, deploymentId, name, i % 2 ? robot.secret : tenant.token);
      made.push(batch.id);
      expect(
        (await post(server, bulkPath(deploymentId, batch.id), ndjson(regressionRows(200 * (i + 1), 20 + i)), { token: tenant.token }))
          .status,
      ).toBe(200);
    }
    const reported = await server.op(
      UpdateBatchModelHistoryDocument,
      { input: { batchId: made[2]!, modelId: 'model-v1-backfill', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-31T23:59:59Z' } },
      tenant.token,
    );
    expect(reported.updateBatchModelHistory.__typename).toBe('UpdateBatchModelHistorySuccess');
    await server.op(
      CreateMonitoringBatchDocument,
      { input: { deploymentId, name: 'empty, made by hand', description: 'no rows yet' } },
      tenant.token,
    );
    const { page, problems } = await openBatches(browser, server, tenant.token, deploymentId);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'batch-management.png'), fullPage: true });

    await page.getByRole('button', { name: 'Create batch' }).click();
    await page.getByRole('dialog', { name: 'Create batch' }).waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');

    await page.goto(batchesUrl(server, deploymentId, made[2]));
    await page.getByRole('heading', { name: 'backfill january' }).waitFor();
    await page.getByRole('heading', { name: 'Model history' }).waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshotDirectory(), 'batch-detail.png'), fullPage: true });
    expectNoProblems(problems);
    await page.context().close();
  });
});
