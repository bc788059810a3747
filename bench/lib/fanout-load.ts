import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type {
  AwaitResult,
  ConnectResult,
  FanoutReply,
  FanoutRequest,
  SubscribeResult,
  SubscriptionKind,
  Summary,
} from './fanout-clients.js';
import { repoRoot } from './server.js';

type Command = FanoutRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * The subscriber load in its own process (bench/lib/fanout-clients.ts), driven over IPC. The child
 * inherits this process's limits (open files: one per subscriber).
 */
export class ClientLoad {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly exited: Promise<void>;
  private readonly recent: string[] = [];

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (reply: FanoutReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`client load: ${reply.error}`));
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        for (const line of text.split('\n').filter(Boolean)) {
          this.recent.push(line);
          if (this.recent.length > 30) this.recent.shift();
        }
      });
    }
    child.once('exit', (code, signal) => {
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`client load exited (${signal ?? code}):\n${this.recent.join('\n')}`));
      this.pending.clear();
    });
  }

  static start(nodeArgs: string[] = []): ClientLoad {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(repoRoot, 'bench/lib/fanout-clients.ts')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.off('exit', kill));
    return new ClientLoad(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private call<T>(command: Command): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ ...command, id });
    });
  }

  connect(url: string, token: string, count: number, concurrency: number): Promise<ConnectResult> {
    return this.call({ cmd: 'connect', url, token, count, concurrency });
  }

  subscribe(kind: SubscriptionKind, target: string, concurrency: number): Promise<SubscribeResult> {
    return this.call({ cmd: 'subscribe', kind, target, concurrency });
  }

  awaitValue(kind: SubscriptionKind, value: number, timeoutMs: number): Promise<AwaitResult> {
    return this.call({ cmd: 'await', kind, value, timeoutMs });
  }

  summary(kind: SubscriptionKind, since: number, value: number): Promise<Summary> {
    return this.call({ cmd: 'summary', kind, since, value });
  }

  /** Closes every subscriber's socket, then ends the process. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await Promise.race([this.call({ cmd: 'close' }).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 30_000))]);
      this.child.disconnect();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/** Nearest-rank percentile of the numbers (NaN for none). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

/**
 * Open-file limits of this process (/proc/self/limits): soft and hard. Child processes inherit the
 * soft one, and every WebSocket is a file descriptor, on both sides.
 */
export function openFileLimits(text: string): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  const parse = (value: string | undefined) => (value === undefined ? NaN : value === 'unlimited' ? Infinity : Number(value));
  return { soft: parse(line?.[1]), hard: parse(line?.[2]) };
}
