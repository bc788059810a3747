import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../helpers/db.js';
import { createDeployment, createTenant } from '../helpers/fixtures.js';
import { batchPath } from '../helpers/rest.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { PYTHON_REQUESTS, systemPackage } from '../helpers/system-packages.js';

// A client written for DataRobot works against batchlens with only its base URL changed: a Python
// script using `requests`, a bearer token and the DataRobot-Key header.

const python = systemPackage(PYTHON_REQUESTS);

describe.runIf(python)('a DataRobot Python script (requests, bearer token, DataRobot-Key)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'compat', 'datarobot_create_batch.py');
  const run = (env: Record<string, string>, args: string[] = []) =>
    promisify(execFile)(python!, [script, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });

  it('creates a batch with only the base URL changed, and prints its id', async () => {
    const { token, deploymentId } = await createTenant(server);
    const { stdout } = await run({ DATAROBOT_ENDPOINT: server.url, DATAROBOT_API_TOKEN: token, DEPLOYMENT_ID: deploymentId }, [
      'scored by python',
    ]);
    const id = stdout.trim();
    expect(id).toMatch(/^mb_[0-9a-f]{24}$/);
    const answer = await server.rest('GET', batchPath(deploymentId, id), { token });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      id,
      batchName: 'scored by python',
      description: 'Created by the nightly scoring script',
      externalContextUrl: 'https://ci.example.com/jobs/nightly-scoring/42',
    });
  });

  it('exits non-zero, reporting the answer, when the server refuses the batch', async () => {
    const { token } = await createTenant(server);
    const plain = await createDeployment(server, token, { batchMonitoringEnabled: false });
    const failure = await run({ DATAROBOT_ENDPOINT: server.url, DATAROBOT_API_TOKEN: token, DEPLOYMENT_ID: plain.id }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('Could not create the batch: 422');
    expect(failure?.stderr).toContain('Batch monitoring is not enabled');
    expect(await countRows(server, 'monitoring_batches', 'deployment_id', plain.id)).toBe(0);
  });
});
