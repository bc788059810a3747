import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type DemoResult, fillDemo, MODEL_NAME } from '../../examples/demo/seattle-weather.js';
import { type ModelFile, type ModelServer, startModelServer } from './model-server.js';
import { ROOT } from './processes.js';
import { startTestServer, type TestServer } from './server.js';

// A test server filled by the demo (examples/demo): the example model server with the shipped
// seattle-weather model (behind the recording proxy), and fillDemo run against both.

export const DEMO_MODEL: ModelFile = JSON.parse(
  readFileSync(path.join(ROOT, 'examples', 'model-server', 'models', `${MODEL_NAME}.json`), 'utf8'),
) as ModelFile;

export interface FilledDemo {
  server: TestServer;
  models: ModelServer;
  demo: DemoResult;
  /** fillDemo's progress lines. */
  lines: string[];
  stop(): Promise<void>;
}

export async function startFilledDemo(months: number): Promise<FilledDemo> {
  const [server, models] = await Promise.all([startTestServer(), startModelServer({ [MODEL_NAME]: DEMO_MODEL })]);
  const lines: string[] = [];
  try {
    const demo = await fillDemo({
      url: server.url,
      token: server.adminToken,
      modelServerUrl: models.url,
      months,
      log: (l) => lines.push(l),
    });
    return { server, models, demo, lines, stop: () => Promise.all([server.stop(), models.stop()]).then(() => {}) };
  } catch (error) {
    await Promise.all([server.stop(), models.stop()]);
    throw error;
  }
}
