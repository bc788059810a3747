import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, serviceStats, storedPredictions } from '../helpers/db.js';
import { createBatch, createBinaryDeployment, createDeployment } from '../helpers/fixtures.js';
import { CSV, ndjson } from '../helpers/ingest-data.js';
import { actualsPath, BATCH_HEADER, bulkPath, inputsPath, type PostOptions, post, postJson, requestsPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// No input makes an ingest route answer 500: broken JSON, wrong types, NUL characters, invalid
// UTF-8, deep nesting, huge numbers, impossible timestamps, bad CSV, malformed ids and query
// strings are 4xx answers that name what is wrong, and store nothing.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('malformed input: a 4xx answer, never a 500', () => {
  let deploymentId: string;
  let batchId: string;
  let binaryId: string;
  beforeAll(async () => {
    const deployment = await createDeployment(server);
    deploymentId = deployment.id;
    batchId = (await createBatch(server, deploymentId)).id;
    binaryId = (await createBinaryDeployment(server)).id;
  });

  const deep = (depth: number, inner: string) => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

  /** Bodies for the three fromJSON routes. */
  const jsonBodies: [string, string | Buffer][] = [
    ['invalid JSON', '{"data": ['],
    ['a trailing comma', '{"data": [],}'],
    ['an array', '[]'],
    ['a string', '"data"'],
    ['null', 'null'],
    ['a number', '1e999'],
    ['data as an object', '{"data": {"0": {}}}'],
    ['data as a string', '{"data": "rows"}'],
    ['rows as arrays', '{"data": [[1, 2], []]}'],
    ['rows as null', '{"data": [null, 1, "x", true]}'],
    [
      'infinite numbers',
      '{"data": [{"features": {"age": 1e999}, "prediction": -1e999, "associationId": 1e999, "actualValue": 1e999}], "numPredictions": 1e999}',
    ],
    [
      'huge integers',
      '{"data": [{"features": {"age": 123456789012345678901234567890}, "prediction": 1e308, "associationId": 12345678901234567890, "actualValue": 1e308}], "numPredictions": 1e300, "executionTimeMs": 1e300}',
    ],
    [
      'NaN strings',
      '{"data": [{"features": {"age": "NaN"}, "prediction": "NaN", "associationId": "n", "actualValue": "NaN"}], "numPredictions": "NaN", "executionTimeMs": "Infinity"}',
    ],
    [
      'nested garbage in features',
      '{"data": [{"features": {"age": {"$gt": 1}, "city": [[["x"]]], "other": {"a": {"b": null}}}, "prediction": [1], "associationId": {"id": 1}, "actualValue": {"v": 1}, "wasActedOn": "yes", "timestamp": 5}]}',
    ],
    ['features as a list', '{"data": [{"features": [1, 2], "prediction": 1}]}'],
    ['NUL in a feature value', '{"data": [{"features": {"city": "a\\u0000b"}, "prediction": 1, "associationId": "z", "actualValue": 1}]}'],
    ['NUL in a feature name', '{"data": [{"features": {"a\\u0000": 1}, "prediction": 1}]}'],
    [
      'NUL in ids',
      '{"batchId": "mb_\\u0000", "modelId": "m\\u0000", "data": [{"features": {}, "prediction": 1, "associationId": "\\u0000", "actualValue": 1}], "numPredictions": 1}',
    ],
    ['deep nesting', `{"data": [${deep(5000, '1')}], "numPredictions": ${deep(5000, '1')}}`],
    ['deep nesting with a NUL', `{"data": [{"features": {"age": ${deep(20000, '"\\u0000"')}}, "prediction": 1}]}`],
    ['a wrong batch id type', '{"batchId": {"id": "mb_1"}, "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}'],
    ['a numeric batch id', '{"batchId": 12, "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}'],
    ['an empty batch id', '{"batchId": "", "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}'],
    ['a very long batch id', `{"batchId": "${'b'.repeat(100_000)}", "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}`],
    ['a wrong model id type', '{"modelId": ["m"], "data": [{"features": {}, "prediction": 1}], "numPredictions": 1}'],
    [
      'impossible timestamps',
      '{"data": [{"features": {}, "prediction": 1, "timestamp": "2026-13-45T99:99:99Z", "associationId": "t", "actualValue": 1}]}',
    ],
    [
      'a timestamp before year 1',
      '{"data": [{"features": {}, "prediction": 1, "timestamp": "0001-01-01T00:00:00+01:00", "associationId": "t0", "actualValue": 1}]}',
    ],
    [
      'a timestamp after year 9999',
      '{"data": [{"features": {}, "prediction": 1, "timestamp": "9999-12-31T23:30:00-01:00", "associationId": "t9", "actualValue": 1}]}',
    ],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from('{"data": [{"features": {"city": "'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('"}, "prediction": 1, "associationId": "u", "actualValue": 1}], "numPredictions": 1}'),
      ]),
    ],
    ['a lone surrogate', '{"data": [{"features": {"city": "\\ud800"}, "prediction": 1, "associationId": "\\udfff", "actualValue": 1}]}'],
  ];

  it.each(jsonBodies)('fromJSON routes: %s', async (_what, body) => {
    for (const path of [inputsPath(deploymentId), requestsPath(deploymentId), actualsPath(deploymentId)]) {
      for (const headers of [{}, { [BATCH_HEADER]: batchId }] as Record<string, string>[]) {
        const answer = await post(server, path, body, { contentType: 'application/json', headers });
        expect(answer.status, `${path} ${JSON.stringify(answer.json).slice(0, 300)}`).toBeLessThan(500);
        expect([202, 400, 404, 413, 422], `${path} ${JSON.stringify(answer.json).slice(0, 300)}`).toContain(answer.status);
      }
    }
  });

  it('fromJSON routes: malformed headers and query strings', async () => {
    const body = JSON.stringify({ data: [{ features: {}, prediction: 1 }], numPredictions: 1 });
    const variants: [string, PostOptions][] = [
      ['?monitoringBatchPrefix=', {}],
      ['?monitoringBatchPrefix=%00', {}],
      ['?monitoringBatchPrefix=%E0%A4%A', {}],
      [`?monitoringBatchPrefix=${'p'.repeat(5000)}`, {}],
      ['', { headers: { [BATCH_HEADER]: '' } }],
      ['', { headers: { [BATCH_HEADER]: '%00' } }],
      ['', { headers: { [BATCH_HEADER]: 'mb_\u00ff' } }],
      ['', { contentType: 'text/plain' }],
      ['', { contentType: 'application/json; charset=latin1' }],
      ['', { contentType: null }],
    ];
    for (const [query, options] of variants) {
      for (const path of [inputsPath(deploymentId), requestsPath(deploymentId)]) {
        const answer = await post(server, `${path}${query}`, body, { contentType: 'application/json', ...options });
        expect(answer.status, `${path}${query.slice(0, 40)} ${JSON.stringify(options)}: ${JSON.stringify(answer.json)}`).toBeLessThan(500);
      }
    }
    // An empty body reads as {}: a validation error, not a crash.
    for (const path of [inputsPath(deploymentId), requestsPath(deploymentId), actualsPath(deploymentId)]) {
      const answer = await post(server, path, '', { contentType: null });
      expect(answer.status, path).toBe(422);
    }
  });

  const ndjsonBodies: [string, string | Buffer][] = [
    ['an array per line', '[1,2,3]\n["a"]\n'],
    ['scalars per line', '1\n"x"\nnull\ntrue\n'],
    ['invalid JSON', '{"features": {"age": 1}, "prediction": 1\n{}}\n'],
    ['infinite numbers', '{"features": {"age": 1e999}, "prediction": 1}\n{"features": {}, "prediction": -1e999}\n'],
    [
      'huge numbers',
      '{"features": {"age": 1.7976931348623157e308}, "prediction": 1e308, "associationId": 123456789012345678901234567890}\n',
    ],
    [
      'NaN strings',
      '{"features": {"age": "NaN"}, "prediction": "NaN"}\n{"features": {}, "prediction": "Infinity", "probabilities": "NaN"}\n',
    ],
    [
      'nested garbage',
      '{"features": {"age": {"a": [1]}, "city": {"x": 1}}, "prediction": {"value": 1}, "associationId": [], "timestamp": {}}\n',
    ],
    [
      'NUL characters',
      '{"features": {"city": "a\\u0000", "b\\u0000": 1}, "prediction": 1, "associationId": "\\u0000", "timestamp": "2026-01-01\\u0000"}\n',
    ],
    ['raw NUL bytes', Buffer.from('{"features": {"city": "a\u0000"}, "prediction": 1}\n\u0000\u0000\n', 'latin1')],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from('{"features": {"city": "'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}, "prediction": 1}\n')]),
    ],
    ['a lone surrogate', '{"features": {"city": "\\ud800"}, "prediction": 1, "associationId": "\\udc00"}\n'],
    [
      'a line over 1 MiB',
      `{"features": {"city": "${'x'.repeat(1.5 * 1024 * 1024)}"}, "prediction": 1}\n{"features": {}, "prediction": 1}\n`,
    ],
    ['deep nesting', `${deep(100_000, '1')}\n{"features": {"age": ${deep(50_000, '{}')}}, "prediction": 1}\n`],
    ['deep nesting with a NUL', `{"features": {"age": ${deep(50_000, '"\\u0000"')}}, "prediction": 1}\n`],
    [
      'timestamps out of range',
      '{"features": {}, "prediction": 1, "timestamp": "0001-01-01T00:00:00+01:00"}\n{"features": {}, "prediction": 1, "timestamp": "9999-12-31T23:30:00-01:00"}\n',
    ],
    ['only whitespace lines', '   \n\t\n  \r\n'],
    ['probabilities on regression', '{"features": {}, "prediction": 1, "probabilities": {"a": 1}}\n'],
  ];

  it.each(ndjsonBodies)('bulk NDJSON: %s', async (_what, body) => {
    for (const [deployment, batch] of [
      [deploymentId, (await createBatch(server, deploymentId)).id],
      [binaryId, (await createBatch(server, binaryId)).id],
    ] as const) {
      const answer = await post(server, bulkPath(deployment, batch), body);
      expect(answer.status, JSON.stringify(answer.json).slice(0, 300)).toBe(422);
      expect(answer.json.errors).toBeTypeOf('object');
      expect(await countRows(server, 'predictions', 'batch_id', batch)).toBe(0);
    }
  });

  const csvBodies: [string, string | Buffer][] = [
    ['no target column', 'age,city\n1,Oslo\n'],
    ['a duplicate header', 'age,age,prediction\n1,2,3\n'],
    ['an empty header cell', 'age,,prediction\n1,2,3\n'],
    ['a NUL in the header', 'age,ci\u0000ty,prediction\n1,2,3\n'],
    ['an unclosed quote', 'age,city,prediction\n1,"Oslo,3\n'],
    ['a character after a closing quote', 'age,city,prediction\n1,"Oslo"x,3\n'],
    ['too many cells', 'age,city,prediction\n1,Oslo,3,4,5\n'],
    ['too few cells', 'age,city,prediction\n1\n'],
    ['non-numeric values', 'age,city,prediction\nforty,Oslo,3\n1,Oslo,three\n'],
    ['NaN and Infinity', 'age,city,prediction\nNaN,Oslo,Infinity\n1,Oslo,-Infinity\n'],
    ['huge numbers', 'age,city,prediction\n1e400,Oslo,1\n1,Oslo,-1e400\n'],
    ['raw NUL bytes', 'age,city,prediction,associationId\n1,a\u0000b,1,x\n1,b,1\u0000,y\n1,c,1,\u0000\n'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('age,city,prediction\n1,'), Buffer.from([0xff, 0xfe]), Buffer.from(',1\n')])],
    [
      'bad timestamps',
      'age,city,prediction,timestamp\n1,Oslo,1,yesterday\n1,Oslo,1,0001-01-01T00:00:00+01:00\n1,Oslo,1,9999-12-31T23:30:00-01:00\n',
    ],
    ['a record over 1 MiB', `age,city,prediction\n1,"${'x'.repeat(1.5 * 1024 * 1024)}",1\n`],
    ['only a header and blank lines', 'age,city,prediction\n\n\r\n'],
    ['a JSON body', '{"features": {"age": 1}, "prediction": 1}\n'],
  ];

  it.each(csvBodies)('bulk CSV: %s', async (_what, body) => {
    const batchId = (await createBatch(server, deploymentId)).id;
    const answer = await post(server, bulkPath(deploymentId, batchId), body, { contentType: CSV });
    expect(answer.status, JSON.stringify(answer.json).slice(0, 300)).toBe(422);
    expect(answer.json.errors).toBeTypeOf('object');
    expect(await countRows(server, 'predictions', 'batch_id', batchId)).toBe(0);
  });

  it('bulk: malformed query parameters and ids', async () => {
    const body = ndjson([{ features: {}, prediction: 1 }]);
    const batchId = (await createBatch(server, deploymentId)).id;
    const refused: [string, Record<string, string>][] = [
      ['?executionTimeMs=abc', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=-1', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=Infinity', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=1e400', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=0x10', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=%20', { executionTimeMs: 'must be a decimal number ≥ 0' }],
      ['?executionTimeMs=1e300', { executionTimeMs: 'must be at most 10000000000' }],
      ['?modelId=%00', { modelId: 'must not contain the NUL character (\\u0000)' }],
      [`?modelId=${'m'.repeat(1000)}`, { modelId: 'must be at most 256 characters' }],
    ];
    for (const [query, errors] of refused) {
      const answer = await post(server, bulkPath(deploymentId, batchId, query), body);
      expect(answer.status, `${query}: ${JSON.stringify(answer.json)}`).toBe(422);
      expect(answer.json.errors, query).toEqual(errors);
    }
    expect(await countRows(server, 'predictions', 'batch_id', batchId)).toBe(0);
    for (const query of ['?executionTimeMs=12.5', '?executionTimeMs=1e3', '?executionTimeMs=.5', '?executionTimeMs=']) {
      expect((await post(server, bulkPath(deploymentId, batchId, query), body)).status, query).toBe(200);
    }
    expect(await serviceStats(server, batchId)).toEqual([
      expect.objectContaining({ request_count: 4, execution_time_count: 3, execution_time_sum: 1013 }),
    ]);
    for (const [deployment, batch] of [
      [deploymentId, '%00'],
      [deploymentId, '%E0%A4%A'],
      ['%00', batchId],
      [deploymentId, 'b'.repeat(5000)],
    ]) {
      const answer = await post(server, bulkPath(deployment!, batch!), body);
      expect(answer.status, `${deployment} ${batch}`).toBe(404);
    }
  });

  it('refuses a batch id that is not a string instead of looking up its String()', async () => {
    for (const batchIdValue of [{ id: batchId }, [batchId], 12, true]) {
      for (const path of [inputsPath(deploymentId), requestsPath(deploymentId)]) {
        const answer = await postJson(server, path, { batchId: batchIdValue, numPredictions: 1, data: [{ features: {}, prediction: 1 }] });
        expect(answer.status, path).toBe(422);
        expect(answer.json.errors, path).toEqual({ batchId: 'must be a string' });
      }
    }
  });

  it('keeps __proto__ and constructor columns from touching declared features', async () => {
    const batch = await createBatch(server, deploymentId);
    const answer = await post(
      server,
      bulkPath(deploymentId, batch.id),
      '{"features": {"__proto__": {"age": 1}, "constructor": 1}, "prediction": 1}\n',
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ rowCount: 1, unknownFeatures: ['__proto__', 'constructor'] });
    const csvAnswer = await post(server, bulkPath(deploymentId, batch.id), '__proto__,constructor,prediction\n1,2,3\n', {
      contentType: CSV,
    });
    expect(csvAnswer.status).toBe(200);
    expect((await storedPredictions(server, batch.id)).map((r) => r.features)).toEqual([
      { age: null, city: null },
      { age: null, city: null },
    ]);
  });
});
