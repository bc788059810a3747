import { startApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const app = await startApp(config);
const log = app.logger.child({ component: 'app' });
log.info(
  { url: app.url, graphql: `${app.url}/graphql`, rest: `${app.url}/api/v2/` },
  `batchlens listening on ${app.url} — GraphQL (and GraphiQL) at ${app.url}/graphql, REST under ${app.url}/api/v2/`,
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, `${signal} received: draining requests and stopping`);
  try {
    await app.stop();
    process.exit(0);
  } catch (error) {
    log.fatal({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
