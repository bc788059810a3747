import { startApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const app = await startApp(config);
console.log(`batchlens listening on ${app.url} — GraphQL (and GraphiQL) at ${app.url}/graphql, REST under ${app.url}/api/v2/`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received: draining requests and stopping`);
  try {
    await app.stop();
    process.exit(0);
  } catch (error) {
    console.error('shutdown failed', error);
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
