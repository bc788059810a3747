import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../helpers/db.js';
import { createBatch, createDeployment } from '../helpers/fixtures.js';
import { ndjson, regressionRows } from '../helpers/ingest-data.js';
import { actualsPath, batchPath, bulkPath, inputsPath, post, postJson, requestsPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from '../helpers/time.js';

// What the ingest routes read: the bulk upload takes NDJSON or CSV up to maxUploadBytes, the
// fromJSON routes JSON up to maxBodyBytes; past a limit the answer is 413, nothing is stored, and
// the server keeps serving (also after uploads it stopped reading, or a client hung up on).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('content types and sizes', () => {
  it('answers 415 for anything but NDJSON or CSV, before reading the body', async () => {
    const deployment = await createDeployment(server);
    const batch = await createBatch(server, deployment.id);
    const body = ndjson(regressionRows(3, 41));
    for (const contentType of ['application/json', 'text/plain', null, 'multipart/form-data; boundary=x', 'text/csvx']) {
      const answer = await post(server, bulkPath(deployment.id, batch.id), body, { contentType });
      expect(answer.status, String(contentType)).toBe(415);
      expect(answer.json.message).toMatch(/^Content-Type must be application\/x-ndjson or text\/csv/);
    }
    expect(await countRows(server, 'predictions', 'batch_id', batch.id)).toBe(0);
    // The NDJSON aliases and parameters are fine.
    for (const contentType of ['application/ndjson', 'application/jsonl', 'Application/X-NDJSON; charset=utf-8']) {
      expect(
        (await post(server, bulkPath(deployment.id, batch.id), ndjson(regressionRows(1, 42)), { contentType })).status,
        contentType,
      ).toBe(200);
    }
  });

  describe('with a server whose limits are small', () => {
    let small: TestServer;
    beforeAll(async () => {
      small = await startTestServer({ maxUploadBytes: 50 * 1024 * 1024, maxBodyBytes: 256 * 1024 });
    });
    afterAll(async () => {
      await small?.stop();
    });

    /** `total` bytes of valid NDJSON rows, made as they are sent. */
    async function* generatedRows(total: number): AsyncGenerator<Buffer> {
      const line = `${JSON.stringify({ features: { age: 1, city: 'Oslo', note: 'n'.repeat(300) }, prediction: 2 })}\n`;
      const chunk = Buffer.from(line.repeat(Math.floor((1024 * 1024) / line.length)));
      for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
    }

    async function smallTenant() {
      const deployment = await createDeployment(small);
      const batch = await createBatch(small, deployment.id);
      return { deployment, batch };
    }

    it('answers 413 to a 100 MB stream over the 50 MB limit, stores nothing, and keeps serving', async () => {
      const { deployment, batch } = await smallTenant();
      const answer = await post(small, bulkPath(deployment.id, batch.id), generatedRows(100 * 1024 * 1024));
      expect(answer.status).toBe(413);
      expect(answer.json.message).toContain(`${50 * 1024 * 1024} bytes`);
      expect(answer.sentBytes).toBeLessThan(100 * 1024 * 1024);
      const [stored] = await small.sql`select count(*)::int as n from prediction_rows where batch_id = ${batch.id}`;
      expect(stored!.n).toBe(0);
      const [counters] = await small.sql`select prediction_count::int as n from monitoring_batches where id = ${batch.id}`;
      expect(counters!.n).toBe(0);
      const [aggregates] = await small.sql`
        select (select count(*) from batch_column_stats where batch_id = ${batch.id})::int
             + (select count(*) from batch_service_stats where batch_id = ${batch.id})::int as n`;
      expect(aggregates!.n).toBe(0);

      // A declared Content-Length over the limit is refused the same way.
      const declared = await post(small, bulkPath(deployment.id, batch.id), generatedRows(100 * 1024 * 1024), {
        contentLength: 100 * 1024 * 1024,
      });
      expect(declared.status).toBe(413);

      // Still serving: health, and an upload under the limit.
      expect((await fetch(`${small.url}/healthz`)).status).toBe(200);
      const fine = await post(small, bulkPath(deployment.id, batch.id), generatedRows(2 * 1024 * 1024));
      expect(fine.status, JSON.stringify(fine.json)).toBe(200);
      expect(fine.json).toMatchObject({ unknownFeatures: ['note'] });
    });

    it('answers 413 on the fromJSON routes past maxBodyBytes, declared or streamed', async () => {
      const { deployment, batch } = await smallTenant();
      const big = {
        batchId: batch.id,
        data: regressionRows(3000, 43).map(({ timestamp: _, ...row }) => ({
          ...row,
          features: { ...row.features, note: 'x'.repeat(100) },
        })),
      };
      const text = JSON.stringify(big);
      expect(text.length).toBeGreaterThan(256 * 1024);
      for (const path of [inputsPath(deployment.id), requestsPath(deployment.id), actualsPath(deployment.id)]) {
        const declared = await post(small, path, text, { contentType: 'application/json' });
        expect(declared.status, path).toBe(413);
        async function* chunks() {
          for (let i = 0; i < text.length; i += 16 * 1024) yield text.slice(i, i + 16 * 1024);
        }
        const streamed = await post(small, path, chunks(), { contentType: 'application/json' });
        expect(streamed.status, path).toBe(413);
      }
      const [stored] = await small.sql`select count(*)::int as n from prediction_rows where deployment_id = ${deployment.id}`;
      expect(stored!.n).toBe(0);
      // Under the limit, the same route works.
      const ok = await postJson(small, inputsPath(deployment.id), { batchId: batch.id, data: big.data.slice(0, 100) });
      expect(ok.status, JSON.stringify(ok.json)).toBe(202);
    });

    it('stays up after uploads it stopped reading: over the limit, refused early, or abandoned by the client', async () => {
      const { deployment, batch } = await smallTenant();
      const locked = await createBatch(small, deployment.id);
      expect((await small.rest('PATCH', batchPath(deployment.id, locked.id), { body: { isLocked: true } })).status).toBe(200);
      /** 20 bad rows (the most reported) first, then 30 MB of good ones the server never needs to read. */
      async function* badThenGood(): AsyncGenerator<Buffer> {
        yield Buffer.from('{"features":{"age":"x"},"prediction":1}\n'.repeat(25));
        yield* generatedRows(30 * 1024 * 1024);
      }
      const answers = await Promise.all([
        post(small, bulkPath(deployment.id, batch.id), generatedRows(60 * 1024 * 1024)),
        post(small, bulkPath(deployment.id, batch.id), badThenGood()),
        post(small, bulkPath(deployment.id, batch.id), badThenGood(), { hangUp: true }),
        post(small, bulkPath(deployment.id, locked.id), generatedRows(30 * 1024 * 1024), { hangUp: true }),
        post(small, inputsPath(deployment.id), generatedRows(1024 * 1024), { contentType: 'application/json' }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([413, 422, 422, 409, 413]);
      expect(Object.keys(answers[1]!.json.errors ?? {})).toHaveLength(20);
      // The server cuts off bodies it does not read after a grace period (5 s): still up after it.
      await sleep(6000);
      expect((await fetch(`${small.url}/healthz`)).status).toBe(200);
      const fine = await post(small, bulkPath(deployment.id, batch.id), ndjson(regressionRows(10, 44)));
      expect(fine.status).toBe(200);
      expect(fine.json).toMatchObject({ rowCount: 10, predictionsCount: 10 });
    });
  });
});
