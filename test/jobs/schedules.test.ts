import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSchedule } from '../../src/db/tables.js';
import { isError, ValidationError } from '../../src/errors.js';
import { cronExpression, nextRunAfter, parseSchedule } from '../../src/modules/jobs/schedule.js';
import { createDeployment } from '../helpers/fixtures.js';
import {
  type Backend,
  type CsvServer,
  createScoringTenant,
  DEFINITIONS,
  definitionBody,
  definitionOf,
  definitionPath,
  EVERY_MINUTE,
  eventually,
  jobOf,
  jobPath,
  jobsOfDefinition,
  makeDue,
  type RestDefinition,
  startCsvServer,
  startModelServer,
} from '../helpers/job-definitions.js';
import { settingsPath } from '../helpers/rest.js';
import { TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// Schedules of job definitions: DataRobot's schedule fields read as cron (UTC), with day-of-month OR
// day-of-week, checked against fixed dates; then the scheduler itself, with two servers on one
// database: a due slot starts exactly one job, missed slots start one, a run that cannot start is
// recorded without holding up the others, and a real minute boundary fires once.

function schedule(fields: Record<string, unknown>): JobSchedule {
  const parsed = parseSchedule({ ...EVERY_MINUTE, ...fields });
  if (isError(parsed)) throw new Error(parsed.message);
  return parsed;
}

/** The first `n` runs after `from`. */
function runs(s: JobSchedule, from: string, n = 4): string[] {
  const out: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < n; i++) {
    const next = nextRunAfter(s, after);
    if (!next) break;
    out.push(next.toISOString());
    after = next;
  }
  return out;
}

function fieldsOf(result: JobSchedule | ValidationError): string[] {
  if (!(result instanceof ValidationError)) throw new Error(`expected a ValidationError, got ${JSON.stringify(result)}`);
  return result.fieldErrors.map((e) => e.field);
}

describe('schedule → next runs (fixed dates, UTC)', () => {
  it('runs at hour 2, minute 30 every day: the next 02:30 UTC, later the same day or the next day', () => {
    const daily = schedule({ hour: [2], minute: [30] });
    expect(cronExpression(daily)).toBe('30 2 * * *');
    expect(runs(daily, '2026-03-10T01:00:00Z', 2)).toEqual(['2026-03-10T02:30:00.000Z', '2026-03-11T02:30:00.000Z']);
    expect(runs(daily, '2026-03-10T05:00:00Z', 1)).toEqual(['2026-03-11T02:30:00.000Z']);
    // Strictly after: at 02:30 exactly, the next run is tomorrow's.
    expect(runs(daily, '2026-03-10T02:30:00Z', 1)).toEqual(['2026-03-11T02:30:00.000Z']);
  });

  it('runs on the days of dayOfMonth OR those of dayOfWeek when both are restricted (as DataRobot and cron do)', () => {
    // The 1st of the month, plus every Monday. 2026-03-30 is a Monday, 2026-04-01 a Wednesday.
    const both = schedule({ minute: [0], hour: [0], dayOfMonth: [1], dayOfWeek: ['monday'] });
    expect(runs(both, '2026-03-25T00:00:00Z', 4)).toEqual([
      '2026-03-30T00:00:00.000Z',
      '2026-04-01T00:00:00.000Z',
      '2026-04-06T00:00:00.000Z',
      '2026-04-13T00:00:00.000Z',
    ]);
    // With one of them "*", the other alone decides.
    const mondays = schedule({ minute: [0], hour: [0], dayOfWeek: [1] });
    expect(runs(mondays, '2026-03-25T00:00:00Z', 3)).toEqual([
      '2026-03-30T00:00:00.000Z',
      '2026-04-06T00:00:00.000Z',
      '2026-04-13T00:00:00.000Z',
    ]);
    const thirteenths = schedule({ minute: [0], hour: [0], dayOfMonth: [13] });
    expect(runs(thirteenths, '2026-03-25T00:00:00Z', 2)).toEqual(['2026-04-13T00:00:00.000Z', '2026-05-13T00:00:00.000Z']);
  });

  it('reads month and day names (any case, full or three letters), 0 = Sunday; stores numbers, sorted, once each', () => {
    const named = schedule({ month: ['July', 'jan', 1], dayOfWeek: ['Sun', 'saturday', 6, 'SUNDAY'] });
    expect(named.month).toEqual([1, 7]);
    expect(named.dayOfWeek).toEqual([0, 6]);
    expect(cronExpression(named)).toBe('* * * 1,7 0,6');
    const weekend = schedule({ minute: [0], hour: [12], dayOfWeek: ['sun', 'sat'] });
    expect(runs(weekend, '2026-03-02T00:00:00Z', 2)).toEqual(['2026-03-07T12:00:00.000Z', '2026-03-08T12:00:00.000Z']);
  });

  it('skips dates a month lacks, and finds a leap day years away', () => {
    const monthEnds = schedule({ minute: [0], hour: [0], dayOfMonth: [31], month: ['feb', 'mar', 'apr', 'may'] });
    expect(runs(monthEnds, '2026-01-01T00:00:00Z', 2)).toEqual(['2026-03-31T00:00:00.000Z', '2026-05-31T00:00:00.000Z']);
    const leapDay = schedule({ minute: [0], hour: [0], dayOfMonth: [29], month: [2] });
    expect(runs(leapDay, '2026-03-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
  });

  it('refuses what no date matches, values out of range, bad names, mixed "*", and missing or unknown fields, naming field and index', () => {
    expect(fieldsOf(parseSchedule({ ...EVERY_MINUTE, dayOfMonth: [30, 31], month: ['february'] }))).toEqual(['schedule.dayOfMonth']);
    expect(fieldsOf(parseSchedule({ ...EVERY_MINUTE, minute: [0, 61, 59.5, '5'] }))).toEqual([
      'schedule.minute.1',
      'schedule.minute.2',
      'schedule.minute.3',
    ]);
    expect(fieldsOf(parseSchedule({ ...EVERY_MINUTE, month: ['smarch', 0, 12], dayOfWeek: [7, 'caturday'] }))).toEqual([
      'schedule.month.0',
      'schedule.month.1',
      'schedule.dayOfWeek.0',
      'schedule.dayOfWeek.1',
    ]);
    expect(fieldsOf(parseSchedule({ minute: ['*', 1], hour: 3, dayOfMonth: [], month: ['*'], second: [0] }))).toEqual([
      'schedule.second',
      'schedule.minute',
      'schedule.hour',
      'schedule.dayOfMonth',
      'schedule.dayOfWeek',
    ]);
    expect(fieldsOf(parseSchedule([]))).toEqual(['schedule']);
  });
});

describe('the scheduler, with two servers on one database', () => {
  const servers: TestServer[] = [];
  let a: TestServer;
  let b: TestServer;
  let backend: Backend;
  let csv: CsvServer;

  beforeAll(async () => {
    [backend, csv] = await Promise.all([startModelServer(), startCsvServer()]);
    a = await new TestServer().start({ jobSchedulerIntervalMs: 200 });
    servers.push(a);
    b = await new TestServer().start({ databaseUrl: a.app.databaseUrl, jobSchedulerIntervalMs: 200 });
    servers.push(b);
  });
  afterAll(async () => {
    await Promise.all([...servers.map((s) => s.stop()), backend?.stop(), csv?.stop()]);
  });

  /** Waits past the next minute boundary when it is less than 15 s away. */
  async function awayFromMinuteBoundary() {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await sleep(left + 500);
  }

  /** Hourly at a minute half an hour away: nothing fires by itself while a test runs. */
  function farSchedule() {
    const minute = (new Date().getUTCMinutes() + 30) % 60;
    return { ...EVERY_MINUTE, minute: [minute] };
  }

  async function create(token: string, body: Record<string, unknown>, on: TestServer = a): Promise<RestDefinition> {
    const answer = await on.rest('POST', DEFINITIONS, { token, body });
    if (answer.status !== 201) throw new Error(JSON.stringify(answer.json));
    return definitionOf(answer);
  }

  it('starts exactly one job for a due slot, whichever server takes it, and the job completes', async () => {
    const tenant = await createScoringTenant(a, backend);
    const definitions: RestDefinition[] = [];
    for (let i = 0; i < 8; i++) {
      definitions.push(
        await create(tenant.token, {
          name: `once ${i}`,
          enabled: true,
          schedule: farSchedule(),
          ...definitionBody(tenant.deploymentId, csv.url),
        }),
      );
    }
    const slots = new Map<string, Date>();
    for (const d of definitions) slots.set(d.id, await makeDue(a, d.id));
    for (const d of definitions)
      await eventually(
        () => jobsOfDefinition(a, d.id),
        (jobs) => jobs.length > 0,
      );
    await sleep(1500); // ≥ 7 more ticks of each server
    for (const d of definitions) {
      const jobs = await jobsOfDefinition(a, d.id);
      expect([d.name, jobs.length]).toEqual([d.name, 1]);
      expect(jobs[0]!.created_by_id).toBe(tenant.adminId);
      const after = definitionOf(await b.rest('GET', definitionPath(d.id), { token: tenant.token }));
      expect(after.lastScheduledRunTime).toBe(slots.get(d.id)!.toISOString());
      expect(new Date(after.nextScheduledRunTime!).getTime()).toBeGreaterThan(Date.now());
      expect(after.nextScheduledRunTime).toBe(d.nextScheduledRunTime);
    }
    const first = (await jobsOfDefinition(a, definitions[0]!.id))[0]!;
    const done = await eventually(
      async () => jobOf(await a.rest('GET', jobPath(first.id), { token: tenant.token })),
      (job) => job.status === 'COMPLETED' || job.status === 'FAILED',
    );
    expect(done).toMatchObject({ status: 'COMPLETED', scoredRows: 2, source: 'job_definition' });
    expect(done.monitoringBatchId).toEqual(expect.any(String));
    const after = definitionOf(await a.rest('GET', definitionPath(definitions[0]!.id), { token: tenant.token }));
    expect(after).toMatchObject({ lastStartedJobStatus: 'COMPLETED', lastFailedRunTime: null });
    expect(after.lastSuccessfulRunTime).toEqual(expect.any(String));
  });

  it('after a downtime, runs the missed slots once, not once each, and schedules the next one after now', async () => {
    const tenant = await createScoringTenant(a, backend);
    // Far enough from a minute boundary that the schedule's own next slot does not come during the
    // test (waiting after creating it could cross the boundary and fire that slot too).
    await awayFromMinuteBoundary();
    const definition = await create(tenant.token, {
      name: 'missed',
      enabled: true,
      schedule: EVERY_MINUTE,
      ...definitionBody(tenant.deploymentId, csv.url),
    });
    // As if the servers had been down for five hours: 300 slots of a per-minute schedule missed.
    const slot = await makeDue(a, definition.id, '5 hours');
    await eventually(
      () => jobsOfDefinition(a, definition.id),
      (jobs) => jobs.length > 0,
    );
    await sleep(1000);
    const after = definitionOf(await a.rest('GET', definitionPath(definition.id), { token: tenant.token }));
    expect((await jobsOfDefinition(a, definition.id)).length).toBe(1);
    expect(after.lastScheduledRunTime).toBe(slot.toISOString());
    expect(after.nextScheduledRunTime).toBe(new Date(Math.ceil(Date.now() / 60_000) * 60_000).toISOString());
    await a.rest('PATCH', definitionPath(definition.id), { token: tenant.token, body: { enabled: false } });
  });

  it('records a run that cannot start as a FAILED job naming why, without holding up the other due definitions', async () => {
    const tenant = await createScoringTenant(a, backend);
    const broken = await createDeployment(a, tenant.token, {
      modelBackend: { protocol: 'OPEN_INFERENCE_V2', url: backend.url, modelName: 'price' },
    });
    const failing = await create(tenant.token, {
      name: 'broken',
      enabled: true,
      schedule: farSchedule(),
      ...definitionBody(broken.id, csv.url),
    });
    const healthy = await create(tenant.token, {
      name: 'healthy',
      enabled: true,
      schedule: farSchedule(),
      ...definitionBody(tenant.deploymentId, csv.url),
    });
    const off = await a.rest('PATCH', settingsPath(broken.id), { token: tenant.token, body: { batchMonitoring: { enabled: false } } });
    expect(off.status).toBe(200);
    await makeDue(a, failing.id);
    await makeDue(a, healthy.id);
    for (const d of [failing, healthy])
      await eventually(
        () => jobsOfDefinition(a, d.id),
        (jobs) => jobs.length > 0,
      );
    await sleep(600);
    const [failed, ...moreFailed] = await jobsOfDefinition(a, failing.id);
    expect(moreFailed).toEqual([]);
    expect(failed!.status).toBe('FAILED');
    expect(failed!.status_details).toContain('could not start');
    expect(failed!.status_details).toContain('Batch monitoring is not enabled');
    expect((await jobsOfDefinition(a, healthy.id)).length).toBe(1);
    const after = definitionOf(await b.rest('GET', definitionPath(failing.id), { token: tenant.token }));
    expect(after).toMatchObject({
      lastStartedJobStatus: 'FAILED',
      lastSuccessfulRunTime: null,
      nextScheduledRunTime: failing.nextScheduledRunTime,
    });
    expect(after.lastFailedRunTime).toEqual(expect.any(String));
    const job = jobOf(await b.rest('GET', jobPath(failed!.id), { token: tenant.token }));
    expect(job).toMatchObject({ status: 'FAILED', batchPredictionJobDefinition: { id: failing.id } });
  });

  it('never runs a disabled or deleted definition', async () => {
    const tenant = await createScoringTenant(a, backend);
    const disabled = await create(tenant.token, {
      name: 'off',
      enabled: false,
      schedule: EVERY_MINUTE,
      ...definitionBody(tenant.deploymentId, csv.url),
    });
    const deleted = await create(tenant.token, {
      name: 'gone',
      enabled: true,
      schedule: EVERY_MINUTE,
      ...definitionBody(tenant.deploymentId, csv.url),
    });
    expect((await a.rest('DELETE', definitionPath(deleted.id), { token: tenant.token })).status).toBe(204);
    await makeDue(a, disabled.id);
    await makeDue(a, deleted.id);
    await sleep(1000);
    expect(await jobsOfDefinition(a, disabled.id)).toEqual([]);
    expect(await jobsOfDefinition(a, deleted.id)).toEqual([]);
  });

  it('fires an every-minute schedule once at a real minute boundary', async () => {
    const tenant = await createScoringTenant(a, backend); // b's own admin token is not the database's
    const definition = await create(
      tenant.token,
      { name: 'each minute', enabled: true, schedule: EVERY_MINUTE, ...definitionBody(tenant.deploymentId, csv.url) },
      b,
    );
    const slot = new Date(definition.nextScheduledRunTime!);
    expect(slot.getTime() % 60_000).toBe(0);
    expect(slot.getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    const waitMs = slot.getTime() - Date.now() + 2000;
    await sleep(Math.max(0, waitMs));
    const jobs = await eventually(
      () => jobsOfDefinition(a, definition.id),
      (found) => found.length > 0,
      5000,
    );
    await sleep(500);
    await b.rest('PATCH', definitionPath(definition.id), { token: tenant.token, body: { enabled: false } });
    expect((await jobsOfDefinition(a, definition.id)).length).toBe(jobs.length);
    expect(jobs.length).toBe(1);
    const after = definitionOf(await a.rest('GET', definitionPath(definition.id), { token: tenant.token }));
    expect(after.lastScheduledRunTime).toBe(slot.toISOString());
  }, 75_000);
});
