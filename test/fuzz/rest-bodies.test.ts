import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../src/formats/csv.js';
import { createBatch, createDeployment, createOrganization, MISSING_BATCH, MISSING_DEPLOYMENT } from '../helpers/fixtures.js';
import {
  bodyText,
  contentTypes,
  deepJson,
  edgeNumber,
  FuzzTally,
  fuzzAsync,
  hugeString,
  jsonValue,
  nastyString,
  numberText,
  randomBytes,
  rowItem,
  storedFigures,
  wellFormedString,
} from '../helpers/fuzz.js';
import { type ModelServer, startModelServer } from '../helpers/model-server.js';
import { backendFor, FEATURES, MODELS } from '../helpers/scoring.js';
import { parseBody, type RestBody, startTestServer, type TestServer } from '../helpers/server.js';

// Every REST route that takes a body, sent generated bodies over HTTP: well-shaped ones with wrong,
// missing, extra, huge or nasty fields, any JSON, JSON cut short, random bytes, deep nesting, wrong
// content types, to ids of the caller, of another organization, missing and malformed. Never a
// 5xx; every refusal says what is wrong (422s name the field); a refused request stores nothing.

const tally = new FuzzTally('rest-bodies');
let server: TestServer;
let models: ModelServer;

/** The caller's ids, another organization's, and the deployment whose job runs write in the background. */
let own: {
  token: string;
  deployment: string;
  settingsDeployment: string;
  scored: string;
  batch: string;
  editedBatch: string;
  metric: string;
  job: string;
  definition: string;
};
let foreign: { deployment: string; batch: string; metric: string };

beforeAll(async () => {
  server = await startTestServer();
  models = await startModelServer(MODELS);
  const org = await createOrganization(server, null);
  const other = await createOrganization(server, null);
  const deployment = (await createDeployment(server, org.token)).id;
  const scored = (
    await createDeployment(server, org.token, {
      features: FEATURES.map((f) => ({ name: f.name, type: f.type })),
      modelBackend: backendFor(models, 'reg'),
    })
  ).id;
  const metricBody = {
    name: 'fuzzed',
    units: 'u',
    type: 'sum',
    directionality: 'higherIsBetter',
    timeStep: 'hour',
    baselineValues: [],
    isModelSpecific: false,
  };
  const metric = await server.rest('POST', `/api/v2/deployments/${deployment}/customMetrics/`, { token: org.token, body: metricBody });
  expect(metric.status, JSON.stringify(metric.json)).toBe(201);
  const job = await server.rest('POST', '/api/v2/batchPredictions/', {
    token: org.token,
    body: { deploymentId: scored, intakeSettings: { type: 'localFile' } },
  });
  expect(job.status, JSON.stringify(job.json)).toBe(202);
  const definition = await server.rest('POST', '/api/v2/batchPredictionJobDefinitions/', {
    token: org.token,
    body: { name: 'fuzzed', enabled: false, deploymentId: scored, intakeSettings: { type: 'localFile' } },
  });
  expect(definition.status, JSON.stringify(definition.json)).toBe(201);
  const otherDeployment = (await createDeployment(server, other.token)).id;
  const otherMetric = await server.rest('POST', `/api/v2/deployments/${otherDeployment}/customMetrics/`, {
    token: other.token,
    body: metricBody,
  });
  own = {
    token: org.token,
    deployment,
    settingsDeployment: (await createDeployment(server, org.token)).id,
    scored,
    batch: (await createBatch(server, deployment, 'fuzzed', org.token)).id,
    editedBatch: (await createBatch(server, deployment, 'edited', org.token)).id,
    metric: (metric.json as { id: string }).id,
    job: (job.json as { id: string }).id,
    definition: (definition.json as { id: string }).id,
  };
  foreign = {
    deployment: otherDeployment,
    batch: (await createBatch(server, otherDeployment, 'theirs', other.token)).id,
    metric: (otherMetric.json as { id: string }).id,
  };
});
afterAll(async () => {
  console.log(tally.summary());
  await server?.stop();
  await models?.stop();
});

/** Percent-encodes every byte, so any text (lone surrogates become U+FFFD) makes a path segment. */
const segment = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('') || '%20';

/** An id for a path: mostly the caller's, else another organization's, a missing one or garbage. */
const idOf = (mine: () => string, theirs: () => string, missing: string) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(null).map(() => mine()) },
    { weight: 1, arbitrary: fc.constant(null).map(() => theirs()) },
    { weight: 1, arbitrary: fc.constant(missing) },
    { weight: 1, arbitrary: fc.oneof(nastyString(12).map(segment), fc.constantFrom('%E0%A4%A', '%00', '..', '%2F', 'a'.repeat(5000))) },
  );

const deploymentId = idOf(
  () => own.deployment,
  () => foreign.deployment,
  MISSING_DEPLOYMENT,
);
const batchIdValue = fc.oneof(
  fc.constant(null).map(() => own.batch),
  fc.constant(null).map(() => foreign.batch),
  fc.constant(MISSING_BATCH),
  nastyString(8),
  jsonValue(1),
);

/** A field's value: a good one (from `good`) or anything else. */
const field = (good: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: good },
    { weight: 1, arbitrary: jsonValue(2) },
    { weight: 1, arbitrary: nastyString() },
    { weight: 1, arbitrary: edgeNumber },
    { weight: 1, arbitrary: hugeString(20_000) },
  );

/** An object of some of `fields` (any may be missing), plus a few unknown ones. */
const shape = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .tuple(
      fc.record(Object.fromEntries(Object.entries(fields).map(([name, good]) => [name, field(good)])), { requiredKeys: [] }),
      fc.option(fc.dictionary(nastyString(6), jsonValue(1), { maxKeys: 2 }), { freq: 4 }),
    )
    .map(([known, extra]) => ({ ...(extra ?? {}), ...known }));

const isoDate = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const rows = fc.oneof(
  { weight: 4, arbitrary: fc.array(rowItem, { maxLength: 6 }) },
  fc.integer({ min: 0, max: 12_000 }).map((n) => Array.from({ length: n }, () => ({ features: {}, prediction: 1 }))),
);

interface RestRoute {
  name: string;
  method: 'POST' | 'PATCH' | 'PUT';
  path: fc.Arbitrary<string>;
  body: fc.Arbitrary<unknown>;
  /** The content type a client should send; the property also sends others. */
  contentType?: string;
  /** Figures this route may change even when it refuses (a refused scoring request still counts as a user error). */
  mayChange?: string[];
  runs: number;
}

const dep = (tail: string) => deploymentId.map((id) => `/api/v2/deployments/${id}/${tail}`);
const ownDep = (mine: () => string, tail: string) =>
  idOf(mine, () => foreign.deployment, MISSING_DEPLOYMENT).map((id) => `/api/v2/deployments/${id}/${tail}`);

const ROUTES: RestRoute[] = [
  {
    name: 'create a batch',
    method: 'POST',
    path: dep('monitoringBatches/'),
    body: shape({ batchName: nastyString(), description: nastyString(), externalContextUrl: fc.webUrl(), isLocked: fc.boolean() }),
    runs: 60,
  },
  {
    name: 'edit a batch',
    method: 'PATCH',
    path: fc
      .tuple(
        deploymentId,
        idOf(
          () => own.editedBatch,
          () => foreign.batch,
          MISSING_BATCH,
        ),
      )
      .map(([d, b]) => `/api/v2/deployments/${d}/monitoringBatches/${b}/`),
    body: shape({ batchName: nastyString(), description: nastyString(), externalContextUrl: fc.webUrl(), isLocked: fc.constant(false) }),
    runs: 60,
  },
  {
    name: 'deployment settings',
    method: 'PATCH',
    path: ownDep(() => own.settingsDeployment, 'settings/'),
    body: shape({ batchMonitoring: shape({ enabled: fc.boolean() }) }),
    runs: 40,
  },
  {
    name: 'prediction rows (fromJSON)',
    method: 'POST',
    path: dep('predictionInputs/fromJSON/'),
    body: shape({ data: rows, batchId: batchIdValue, modelId: nastyString(), batchName: nastyString() }),
    runs: 120,
  },
  {
    name: 'request statistics (fromJSON)',
    method: 'POST',
    path: dep('predictionRequests/fromJSON/'),
    body: shape({
      numPredictions: fc.oneof(edgeNumber, numberText),
      executionTimeMs: fc.oneof(edgeNumber, numberText),
      userError: fc.boolean(),
      systemError: fc.boolean(),
      modelId: nastyString(),
      batchId: batchIdValue,
    }),
    runs: 60,
  },
  {
    name: 'actuals (fromJSON)',
    method: 'POST',
    path: dep('actuals/fromJSON/'),
    body: shape({
      data: fc.array(
        shape({
          associationId: fc.oneof(nastyString(), edgeNumber),
          actualValue: fc.oneof(edgeNumber, numberText, nastyString()),
          wasActedOn: fc.boolean(),
          timestamp: isoDate,
        }),
        { maxLength: 6 },
      ),
    }),
    runs: 80,
  },
  {
    name: 'create a custom metric',
    method: 'POST',
    path: dep('customMetrics/'),
    body: shape({
      name: nastyString(),
      units: nastyString(),
      type: fc.constantFrom('sum', 'average', 'gauge', 'SUM'),
      directionality: fc.constantFrom('higherIsBetter', 'lowerIsBetter'),
      timeStep: fc.constantFrom('hour', 'day'),
      baselineValues: fc.array(shape({ value: edgeNumber }), { maxLength: 3 }),
      isModelSpecific: fc.boolean(),
      description: nastyString(),
    }),
    runs: 50,
  },
  {
    name: 'edit a custom metric',
    method: 'PATCH',
    path: fc
      .tuple(
        deploymentId,
        idOf(
          () => own.metric,
          () => foreign.metric,
          'cm_000000000000000000000000',
        ),
      )
      .map(([d, m]) => `/api/v2/deployments/${d}/customMetrics/${m}/`),
    body: shape({
      name: nastyString(),
      units: nastyString(),
      baselineValues: fc.array(shape({ value: edgeNumber }), { maxLength: 3 }),
      description: nastyString(),
    }),
    runs: 50,
  },
  {
    name: 'custom metric values (fromJSON)',
    method: 'POST',
    path: fc
      .tuple(
        deploymentId,
        idOf(
          () => own.metric,
          () => foreign.metric,
          'cm_000000000000000000000000',
        ),
      )
      .map(([d, m]) => `/api/v2/deployments/${d}/customMetrics/${m}/fromJSON/`),
    body: shape({
      buckets: fc.array(
        shape({ value: edgeNumber, sampleSize: edgeNumber, timestamp: isoDate, batch: batchIdValue, modelId: nastyString() }),
        { maxLength: 5 },
      ),
      modelId: nastyString(),
      dryRun: fc.boolean(),
    }),
    runs: 80,
  },
  {
    name: 'create a data export',
    method: 'POST',
    path: dep('predictionDataExports/'),
    body: shape({
      batchIds: fc.array(batchIdValue, { maxLength: 3 }),
      lastN: fc.oneof(fc.integer({ min: -3, max: 3 }), edgeNumber),
      modelId: nastyString(),
      format: fc.constantFrom('csv', 'parquet', 'CSV'),
      includeActuals: fc.boolean(),
      start: isoDate,
      end: isoDate,
    }),
    runs: 50,
  },
  {
    name: 'create a job',
    method: 'POST',
    path: fc.constant('/api/v2/batchPredictions/'),
    body: shape({
      deploymentId: idOf(
        () => own.scored,
        () => foreign.deployment,
        MISSING_DEPLOYMENT,
      ),
      intakeSettings: shape({ type: fc.constantFrom('localFile', 'url'), url: fc.webUrl() }),
      outputSettings: shape({ type: fc.constantFrom('localFile') }),
      passthroughColumns: fc.array(nastyString(), { maxLength: 3 }),
      passthroughColumnsSet: fc.constantFrom('all'),
      chunkSize: fc.oneof(fc.integer(), edgeNumber),
      numConcurrent: fc.oneof(fc.integer(), edgeNumber),
      monitoringBatchPrefix: nastyString(),
      includeProbabilities: fc.boolean(),
      columnNamesRemapping: fc.dictionary(nastyString(5), nastyString(5), { maxKeys: 2 }),
    }),
    runs: 50,
  },
  {
    name: 'job from an existing one',
    method: 'POST',
    path: fc.constant('/api/v2/batchPredictions/fromExisting/'),
    body: shape({
      predictionJobId: idOf(
        () => own.job,
        () => 'job_000000000000000000000000',
        'job_000000000000000000000000',
      ),
    }),
    runs: 30,
  },
  {
    name: 'a job definition',
    method: 'POST',
    path: fc.constant('/api/v2/batchPredictionJobDefinitions/'),
    body: shape({
      name: nastyString(),
      enabled: fc.constant(false),
      schedule: shape({ minute: fc.array(fc.oneof(fc.integer({ min: -1, max: 61 }), fc.constant('*'))), hour: fc.constant(['*']) }),
      deploymentId: idOf(
        () => own.scored,
        () => foreign.deployment,
        MISSING_DEPLOYMENT,
      ),
      intakeSettings: shape({ type: fc.constantFrom('localFile', 'url'), url: fc.webUrl() }),
      numConcurrent: fc.integer(),
    }),
    runs: 50,
  },
  {
    name: 'edit a job definition',
    method: 'PATCH',
    path: idOf(
      () => own.definition,
      () => 'jobdef_000000000000000000000000',
      'jobdef_000000000000000000000000',
    ).map((id) => `/api/v2/batchPredictionJobDefinitions/${id}/`),
    body: shape({ name: nastyString(), enabled: fc.constant(false), schedule: fc.constant(null), numConcurrent: fc.integer() }),
    runs: 40,
  },
  {
    name: 'run a job definition',
    method: 'POST',
    path: fc.constant('/api/v2/batchPredictions/fromJobDefinition/'),
    body: shape({
      jobDefinitionId: idOf(
        () => own.definition,
        () => 'jobdef_000000000000000000000000',
        'jobdef_000000000000000000000000',
      ),
    }),
    runs: 30,
  },
  {
    name: 'real-time predictions',
    method: 'POST',
    path: idOf(
      () => own.scored,
      () => foreign.deployment,
      MISSING_DEPLOYMENT,
    ).map((id) => `/predApi/v1.0/deployments/${id}/predictions`),
    body: fc.oneof(
      fc.array(shape({ a: fc.oneof(edgeNumber, numberText), b: fc.oneof(edgeNumber, numberText), c: nastyString() }), { maxLength: 5 }),
      jsonValue(2),
    ),
    mayChange: ['service_stats'],
    runs: 80,
  },
];

/** Figures of the stored data that requests can change; job runs (the scored deployment) write in the background. */
const figures = () => storedFigures(server.sql, [own.scored]);
/** The figures after the last request, read again only after one that was accepted (a refused one must leave them). */
let known: Record<string, unknown> | null = null;
async function figuresBefore(): Promise<Record<string, unknown>> {
  known ??= await figures();
  return known;
}
/** The figures now; kept for the next request. */
async function figuresAfter(): Promise<Record<string, unknown>> {
  known = await figures();
  return known;
}

async function send(
  method: string,
  path: string,
  body: string | Buffer,
  contentType: string | null,
): Promise<{ status: number; json: RestBody }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${own.token}`, ...(contentType === null ? {} : { 'content-type': contentType }) },
    body: new Uint8Array(typeof body === 'string' ? Buffer.from(body, 'utf8') : body),
  });
  return { status: response.status, json: parseBody(await response.text()) };
}

/** Messages of refusals that are about the deployment's state, not a field of the body. */
const NOT_ABOUT_A_FIELD = /Batch monitoring is not enabled|model backend|Batch prediction job is|is not a localFile/i;

/** The answer is not a 5xx; a refusal says what is wrong, and names the field when it is invalid input. */
function expectNamedRefusal(status: number, json: RestBody, context: string): void {
  expect(status, context).toBeLessThan(500);
  if (status < 400) return;
  expect(typeof json === 'object' && json !== null, context).toBe(true);
  expect(json.message, context).toMatch(/\S/);
  if (status === 422 && !NOT_ABOUT_A_FIELD.test(json.message ?? '')) {
    expect(Object.keys(json.errors ?? {}).length, context).toBeGreaterThan(0);
    // (A field's name may be any key the body had, even "".)
    for (const message of Object.values(json.errors ?? {})) expect(message, context).toMatch(/\S/);
  }
}

const describeBody = (body: string | Buffer) => {
  const text = typeof body === 'string' ? body : `<bytes ${body.toString('hex').slice(0, 200)}>`;
  return text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text;
};

describe('REST bodies', () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.name}: never a 5xx, refusals named, nothing half-stored`, async () => {
      const request = fc.record({
        path: route.path,
        body: fc.oneof({ weight: 5, arbitrary: bodyText(route.body) }, { weight: 1, arbitrary: fc.constant('') }),
        contentType: fc.oneof(
          { weight: 6, arbitrary: fc.constant(route.contentType ?? 'application/json') },
          { weight: 1, arbitrary: contentTypes },
          fc.constant(null),
        ),
      });
      await fuzzAsync(
        tally,
        route.name,
        request,
        async ({ path, body, contentType }) => {
          const before = { ...(await figuresBefore()) };
          const answer = await send(route.method, path, body, contentType);
          const context = `${route.method} ${path} (${contentType}) ${describeBody(body)} → ${answer.status} ${JSON.stringify(answer.json).slice(0, 500)}`;
          expectNamedRefusal(answer.status, answer.json, context);
          const after = { ...(await figuresAfter()) };
          if (answer.status >= 400) {
            for (const name of route.mayChange ?? []) {
              delete after[name];
              delete before[name];
            }
            expect(after, context).toEqual(before);
          }
        },
        { numRuns: route.runs },
      );
    });
  }
});

// The streamed uploads: bulk predictions into a batch, training baselines.

const ndjsonBody = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: rowItem.map((row) => JSON.stringify(row)) },
      nastyString(),
      fc.constant(''),
      fc.integer({ min: 1, max: 10_000 }).map((d) => deepJson(d)),
    ),
    { maxLength: 8 },
  )
  .chain((lines) => fc.constantFrom('\n', '\r\n').map((end) => lines.join(end)));
const csvBody = fc
  .tuple(
    fc.constantFrom(
      'age,city,prediction',
      'prediction,age,city,associationId,timestamp',
      'age,,prediction',
      'prediction,prediction',
      '',
      'city',
    ),
    fc.array(fc.array(fc.oneof(numberText, nastyString(5)), { minLength: 1, maxLength: 5 }), { maxLength: 6 }),
  )
  .map(([header, records]) =>
    [
      header,
      ...records.map((cells) => cells.map((cell) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell)).join(',')),
    ].join('\n'),
  );
const upload = fc.oneof(
  { weight: 4, arbitrary: fc.record({ body: ndjsonBody, contentType: fc.constant('application/x-ndjson') }) },
  { weight: 4, arbitrary: fc.record({ body: csvBody, contentType: fc.constant('text/csv') }) },
  { weight: 1, arbitrary: fc.record({ body: randomBytes(300), contentType: fc.constantFrom('text/csv', 'application/x-ndjson') }) },
  { weight: 1, arbitrary: fc.record({ body: fc.oneof(ndjsonBody, csvBody), contentType: contentTypes }) },
);
const cutShort = (body: string | Buffer, cut: number | null) => {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
};

describe('streamed uploads', () => {
  it('bulk predictions: stored rows are exactly the rows answered, or none', async () => {
    await fuzzAsync(
      tally,
      'bulk predictions',
      fc.record({
        upload,
        cut: fc.option(fc.nat(), { freq: 3 }),
        batch: idOf(
          () => own.batch,
          () => foreign.batch,
          MISSING_BATCH,
        ),
        query: fc.constantFrom('', '?modelId=m', '?modelId=%00', '?batchName=x'),
      }),
      async ({ upload: { body, contentType }, cut, batch, query }) => {
        const bytes = cutShort(body, cut);
        const before = await figuresBefore();
        const answer = await send(
          'POST',
          `/api/v2/deployments/${own.deployment}/monitoringBatches/${batch}/predictions/${query}`,
          bytes,
          contentType,
        );
        const context = `bulk ${batch}${query} (${contentType}) ${describeBody(bytes.toString('utf8'))} → ${answer.status} ${JSON.stringify(answer.json).slice(0, 500)}`;
        expectNamedRefusal(answer.status, answer.json, context);
        const after = await figuresAfter();
        if (answer.status >= 400) expect(after, context).toEqual(before);
        else expect((after.predictions as number) - (before.predictions as number), context).toBe(answer.json.rowCount);
      },
      { numRuns: 200 },
    );
  });

  it('training baselines: a new baseline, or nothing', async () => {
    await fuzzAsync(
      tally,
      'training baselines',
      fc.record({ upload, cut: fc.option(fc.nat(), { freq: 3 }) }),
      async ({ upload: { body, contentType }, cut }) => {
        const bytes = cutShort(body, cut);
        const before = await figuresBefore();
        const answer = await send('POST', `/api/v2/deployments/${own.deployment}/trainingBaseline/`, bytes, contentType);
        const context = `baseline (${contentType}) ${describeBody(bytes.toString('utf8'))} → ${answer.status} ${JSON.stringify(answer.json).slice(0, 500)}`;
        expectNamedRefusal(answer.status, answer.json, context);
        const after = await figuresAfter();
        if (answer.status >= 400) expect(after, context).toEqual(before);
      },
      { numRuns: 80 },
    );
  });

  it('job CSV uploads: never a 5xx, refusals named', async () => {
    await fuzzAsync(
      tally,
      'job CSV uploads',
      fc.record({ upload, cut: fc.option(fc.nat(), { freq: 3 }) }),
      async ({ upload: { body, contentType }, cut }) => {
        // A new job each time: its upload is the first one, read and validated in full.
        const job = await server.rest('POST', '/api/v2/batchPredictions/', {
          token: own.token,
          body: { deploymentId: own.scored, intakeSettings: { type: 'localFile' } },
        });
        expect(job.status).toBe(202);
        const bytes = cutShort(typeof body === 'string' ? body.replaceAll('age', 'a').replaceAll('city', 'c') : body, cut);
        const answer = await send('PUT', `/api/v2/batchPredictions/${(job.json as { id: string }).id}/csvUpload/`, bytes, contentType);
        expectNamedRefusal(
          answer.status,
          answer.json,
          `job upload (${contentType}) ${describeBody(bytes.toString('utf8'))} → ${answer.status} ${JSON.stringify(answer.json).slice(0, 500)}`,
        );
      },
      { numRuns: 30 },
    );
    known = null; // it created jobs: read the figures again
  });
});

describe('regressions found by fuzzing', () => {
  it('refuses numbers whose batch sums would overflow float8, naming the row, instead of a 500 on the next upload', async () => {
    // Found by "mostly valid rows": after a row of -1.7e308 was stored, any large negative
    // prediction made PostgreSQL fail the batch's sum (value out of range: overflow) with a 500.
    const before = await figuresAfter();
    for (let i = 0; i < 2; i++) {
      const json = await send(
        'POST',
        `/api/v2/deployments/${own.deployment}/predictionInputs/fromJSON/`,
        JSON.stringify({ batchId: own.batch, data: [{ features: { age: '0' }, prediction: -1.7e308 }] }),
        'application/json',
      );
      expect(json).toEqual({
        status: 422,
        json: {
          message: 'Invalid input: data.0.prediction: must be between -1e+100 and 1e+100',
          errors: { 'data.0.prediction': 'must be between -1e+100 and 1e+100' },
        },
      });
      const bulk = await send(
        'POST',
        `/api/v2/deployments/${own.deployment}/monitoringBatches/${own.batch}/predictions/`,
        'age,city,prediction\n1,a,1\n-1.7e308,b,2\n',
        'text/csv',
      );
      expect(bulk.status).toBe(422);
      expect(bulk.json.errors).toEqual({ 'line 3.features.age': 'must be between -1e+100 and 1e+100' });
      const actuals = await send(
        'POST',
        `/api/v2/deployments/${own.deployment}/actuals/fromJSON/`,
        JSON.stringify({ data: [{ associationId: 'huge', actualValue: 1.7e308 }] }),
        'application/json',
      );
      expect(actuals.status).toBe(422);
      expect(actuals.json.errors).toEqual({ 'data.0.actualValue': 'must be between -1e+100 and 1e+100' });
    }
    expect(await figuresAfter()).toEqual(before);
  });
});

// Mostly valid uploads: good rows with at most one bad row somewhere (or a repeated association id):
// the whole request is stored or none of it.

const validRow = fc.record(
  {
    features: fc.record({
      age: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer().map(String), fc.constant(null)),
      city: wellFormedString(10),
    }),
    prediction: fc.double({ noNaN: true, noDefaultInfinity: true }),
    associationId: fc.oneof({ weight: 9, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.constantFrom('repeated-1', 'repeated-2') }),
    timestamp: isoDate,
  },
  { requiredKeys: ['features', 'prediction'] },
);
const mostlyValid = fc
  .tuple(fc.array(validRow, { minLength: 1, maxLength: 30 }), fc.option(fc.tuple(fc.nat(), rowItem), { freq: 2 }))
  .map(([good, bad]) => {
    const rows: unknown[] = [...good];
    if (bad) rows.splice(bad[0] % (rows.length + 1), 0, bad[1]);
    return rows;
  });
const CSV_COLUMNS = ['age', 'city', 'prediction', 'associationId', 'timestamp'] as const;
function csvOf(rows: unknown[]): string {
  const cell = (value: unknown) =>
    value === undefined || value === null ? '' : csvCell(typeof value === 'object' ? JSON.stringify(value) : String(value));
  const lines = rows.map((row) => {
    const r = (row && typeof row === 'object' ? row : {}) as Record<string, unknown>;
    const features = (r.features && typeof r.features === 'object' ? r.features : {}) as Record<string, unknown>;
    return CSV_COLUMNS.map((c) => cell(c === 'age' || c === 'city' ? features[c] : r[c])).join(',');
  });
  return [CSV_COLUMNS.join(','), ...lines].join('\r\n');
}

describe('mostly valid uploads', () => {
  it('store every row or none, through fromJSON and both bulk formats', async () => {
    await fuzzAsync(
      tally,
      'mostly valid rows',
      fc.record({ rows: mostlyValid, via: fc.constantFrom('fromJSON', 'ndjson', 'csv') }),
      async ({ rows, via }) => {
        const before = await figuresBefore();
        const answer =
          via === 'fromJSON'
            ? await send(
                'POST',
                `/api/v2/deployments/${own.deployment}/predictionInputs/fromJSON/`,
                JSON.stringify({ batchId: own.batch, data: rows }),
                'application/json',
              )
            : await send(
                'POST',
                `/api/v2/deployments/${own.deployment}/monitoringBatches/${own.batch}/predictions/`,
                via === 'csv' ? csvOf(rows) : rows.map((row) => JSON.stringify(row)).join('\n'),
                via === 'csv' ? 'text/csv' : 'application/x-ndjson',
              );
        const context = `${via} ${describeBody(JSON.stringify(rows))} → ${answer.status} ${JSON.stringify(answer.json).slice(0, 500)}`;
        expectNamedRefusal(answer.status, answer.json, context);
        const after = await figuresAfter();
        if (answer.status >= 400) expect(after, context).toEqual(before);
        else {
          expect(answer.json.rowCount, context).toBe(rows.length);
          expect((after.predictions as number) - (before.predictions as number), context).toBe(rows.length);
        }
      },
      { numRuns: 150 },
    );
  });

  it('actuals: every one or none', async () => {
    const actual = fc.record(
      {
        associationId: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, fc.constantFrom('repeated-1', 'repeated-2')),
        actualValue: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
        wasActedOn: fc.boolean(),
        timestamp: isoDate,
      },
      { requiredKeys: ['associationId', 'actualValue'] },
    );
    await fuzzAsync(
      tally,
      'mostly valid actuals',
      fc
        .tuple(fc.array(actual, { minLength: 1, maxLength: 20 }), fc.option(fc.tuple(fc.nat(), jsonValue(2)), { freq: 2 }))
        .map(([good, bad]) => {
          const data: unknown[] = [...good];
          if (bad) data.splice(bad[0] % (data.length + 1), 0, bad[1]);
          return data;
        }),
      async (data) => {
        const before = await figuresBefore();
        const answer = await send(
          'POST',
          `/api/v2/deployments/${own.deployment}/actuals/fromJSON/`,
          JSON.stringify({ data }),
          'application/json',
        );
        const context = `actuals ${describeBody(JSON.stringify(data))} → ${answer.status} ${JSON.stringify(answer.json).slice(0, 500)}`;
        expectNamedRefusal(answer.status, answer.json, context);
        const after = await figuresAfter();
        if (answer.status >= 400) expect(after, context).toEqual(before);
      },
      { numRuns: 80 },
    );
  });
});
