import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './server.js';

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
  const recent: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const ready = await new Promise<{ url: string; models: string[] }>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const timer = setTimeout(
      () => reject(new Error(`model server did not start within ${timeoutMs} ms:\n${recent.join('\n')}`)),
      timeoutMs,
    );
    const onLine = (line: string) => {
      recent.push(line);
      if (recent.length > 50) recent.shift();
      options.log?.(line);
      const match = /model-server listening on (http:\/\/\S+) \(models: ([^)]*)\)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, models: match[2]!.split(',').map((m) => m.trim()) });
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) onLine(line);
      });
    }
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`model server exited (${signal ?? code}) before listening:\n${recent.join('\n')}`));
    });
  });

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
