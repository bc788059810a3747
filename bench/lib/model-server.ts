import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { awaitListening, repoRoot } from './server.js';

/** The example model server (examples/model-server/server.mjs) as its own process. */
export interface BenchModelServer {
  /** `http://127.0.0.1:PORT`, from its ready line. */
  url: string;
  /** The node process serving requests: read its /proc/<pid>/stat for its CPU. */
  pid: number;
  /** The names it serves, from its ready line. */
  models: string[];
  /** Its recent output, for error messages. */
  output(): string;
  /** SIGTERM, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node examples/model-server/server.mjs --port 0 --models DIR` (plain node, no tsx: the
 * child's pid is the serving process) and resolves once it prints
 * `model-server listening on http://HOST:PORT (models: …)`.
 */
export async function startModelServer(options: {
  modelsDir: string;
  root?: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
}): Promise<BenchModelServer> {
  const root = options.root ?? repoRoot;
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(root, 'examples/model-server/server.mjs'), '--port', '0', '--host', '127.0.0.1', '--models', options.modelsDir],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const { match, recent } = await awaitListening(
    child,
    'model server',
    /model-server listening on (http:\/\/\S+) \(models: ([^)]*)\)/,
    options.startTimeoutMs ?? 30_000,
    options.log,
  );
  const ready = { url: match[1]!, models: match[2]!.split(',').map((m) => m.trim()) };

  return {
    ...ready,
    pid: child.pid!,
    output: () => recent.join('\n'),
    stop: async (graceMs = 5000) => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
