/**
 * The client load of bench/fanout.ts, in its own process (`node --import tsx
 * bench/lib/fanout-clients.ts`, started and driven over IPC by fanout-load.ts): many graphql-ws
 * subscribers, each its own WebSocket (graphql-ws `createClient` over `ws`), each with up to two
 * subscriptions — `batchQuota(deploymentId)` and `monitoringBatch(id)`. Every message is recorded
 * with its arrival time (Date.now(): the same clock as the benchmark process's) and the value it
 * carried; summaries go back to the parent on request.
 */
import fs from 'node:fs';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export type SubscriptionKind = 'quota' | 'batch';

/** Requests from the parent, each answered by one FanoutReply with the same `id`. */
export type FanoutRequest = { id: number } & (
  | { cmd: 'connect'; url: string; token: string; count: number; concurrency: number }
  | { cmd: 'subscribe'; kind: SubscriptionKind; target: string; concurrency: number }
  /** Resolves once every subscriber's latest `kind` value is `value` (or after `timeoutMs`). */
  | { cmd: 'await'; kind: SubscriptionKind; value: number; timeoutMs: number }
  | { cmd: 'summary'; kind: SubscriptionKind; since: number; value: number }
  | { cmd: 'close' }
);

export interface FanoutReply {
  id: number;
  ok: boolean;
  error?: string;
  result?: unknown;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  ms: number;
  firstError?: string;
}

export interface SubscribeResult {
  /** Subscribers whose first message (the current state) arrived. */
  initial: number;
  failed: number;
  ms: number;
  firstError?: string;
}

export interface AwaitResult {
  reached: number;
  missing: number;
  ms: number;
}

export interface Summary {
  subscribers: number;
  /** Per subscriber: messages of this subscription since `since` (ms epoch), excluding earlier ones. */
  messagesSince: number[];
  /** Per subscriber: all messages of this subscription, the first (current state) included. */
  messagesTotal: number[];
  /** Per subscriber: the most messages that arrived within any 1-second window since `since`. */
  maxPerSecond: number[];
  /** Per subscriber: when the message carrying `value` arrived (ms epoch), or null if none did. */
  arrivals: (number | null)[];
  /** Per subscriber: whether values ever went backwards. */
  outOfOrder: number;
  errors: number;
  closedSockets: number;
  firstError?: string;
  /** This process's resident memory now and at its peak (MB). */
  rssMb: number;
  hwmMb: number;
}

const QUERIES: Record<SubscriptionKind, string> = {
  quota: 'subscription ($id: ID!) { batchQuota(deploymentId: $id) { used limit remaining resetsAt } }',
  batch:
    'subscription ($id: ID!) { monitoringBatch(id: $id) { id name predictionCount earliestPredictionAt latestPredictionAt isLocked } }',
};

// biome-ignore lint: a subscription payload, read field by field
type Json = any;
const VALUE: Record<SubscriptionKind, (data: Json) => number> = {
  quota: (data) => data.batchQuota.used as number,
  batch: (data) => data.monitoringBatch.predictionCount as number,
};

interface Subscriber {
  client: Client;
  closed: boolean;
  /** Per subscription: [arrival ms, value] of each message. */
  received: Record<SubscriptionKind, [number, number][]>;
}

const subscribers: Subscriber[] = [];
let errors = 0;
let firstError: string | undefined;
const noteError = (error: unknown) => {
  errors++;
  firstError ??= error instanceof Error ? error.message : JSON.stringify(error);
};

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function connect(request: Extract<FanoutRequest, { cmd: 'connect' }>): Promise<ConnectResult> {
  const started = Date.now();
  let failed = 0;
  let error: string | undefined;
  const wsUrl = `${request.url.replace(/^http/, 'ws')}/graphql`;
  await pool(request.count, request.concurrency, async () => {
    const subscriber: Subscriber = { client: undefined as unknown as Client, closed: false, received: { quota: [], batch: [] } };
    const ready = new Promise<void>((resolve, reject) => {
      subscriber.client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${request.token}` },
        lazy: false,
        retryAttempts: 0,
        keepAlive: 0,
        onNonLazyError: (e) => reject(e),
        on: {
          connected: () => resolve(),
          closed: (event) => {
            subscriber.closed = true;
            reject(new Error(`closed before connected: ${(event as { code?: number }).code}`));
          },
        },
      });
    });
    try {
      await ready;
      subscribers.push(subscriber);
    } catch (e) {
      failed++;
      error ??= e instanceof Error ? e.message : JSON.stringify(e);
      void subscriber.client.dispose();
    }
  });
  return { connected: subscribers.length, failed, ms: Date.now() - started, ...(error ? { firstError: error } : {}) };
}

async function subscribe(request: Extract<FanoutRequest, { cmd: 'subscribe' }>): Promise<SubscribeResult> {
  const started = Date.now();
  let initial = 0;
  let failed = 0;
  let error: string | undefined;
  const value = VALUE[request.kind];
  await pool(subscribers.length, request.concurrency, async (i) => {
    const subscriber = subscribers[i]!;
    const log = subscriber.received[request.kind];
    await new Promise<void>((resolve) => {
      let first = true;
      subscriber.client.subscribe(
        { query: QUERIES[request.kind], variables: { id: request.target } },
        {
          next: (result) => {
            if (result.errors?.length || !result.data) {
              noteError(result.errors);
              return;
            }
            log.push([Date.now(), value(result.data)]);
            if (first) {
              first = false;
              initial++;
              resolve();
            }
          },
          error: (e) => {
            noteError(e);
            if (first) {
              first = false;
              failed++;
              error ??= e instanceof Error ? e.message : JSON.stringify(e);
              resolve();
            }
          },
          complete: () => {
            if (first) {
              first = false;
              failed++;
              resolve();
            }
          },
        },
      );
    });
  });
  return { initial, failed, ms: Date.now() - started, ...(error ? { firstError: error } : {}) };
}

async function awaitValue(request: Extract<FanoutRequest, { cmd: 'await' }>): Promise<AwaitResult> {
  const started = Date.now();
  const reachedCount = () => subscribers.filter((s) => s.received[request.kind].at(-1)?.[1] === request.value).length;
  while (reachedCount() < subscribers.length && Date.now() - started < request.timeoutMs)
    await new Promise((resolve) => setTimeout(resolve, 10));
  const reached = reachedCount();
  return { reached, missing: subscribers.length - reached, ms: Date.now() - started };
}

function summary(request: Extract<FanoutRequest, { cmd: 'summary' }>): Summary {
  const messagesSince: number[] = [];
  const messagesTotal: number[] = [];
  const maxPerSecond: number[] = [];
  const arrivals: (number | null)[] = [];
  let outOfOrder = 0;
  for (const subscriber of subscribers) {
    const log = subscriber.received[request.kind];
    const recent = log.filter(([at]) => at >= request.since).map(([at]) => at);
    let windowMax = 0;
    for (let i = 0, j = 0; i < recent.length; i++) {
      while (recent[i]! - recent[j]! >= 1000) j++;
      windowMax = Math.max(windowMax, i - j + 1);
    }
    messagesSince.push(recent.length);
    messagesTotal.push(log.length);
    maxPerSecond.push(windowMax);
    arrivals.push(log.find(([, v]) => v === request.value)?.[0] ?? null);
    if (log.some(([, v], i) => i > 0 && v < log[i - 1]![1])) outOfOrder++;
  }
  const memory = process.memoryUsage();
  let hwmMb = NaN;
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    hwmMb = Math.round(Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? NaN) / 1024);
  } catch {
    // not Linux
  }
  return {
    subscribers: subscribers.length,
    messagesSince,
    messagesTotal,
    maxPerSecond,
    arrivals,
    outOfOrder,
    errors,
    closedSockets: subscribers.filter((s) => s.closed).length,
    ...(firstError ? { firstError } : {}),
    rssMb: Math.round(memory.rss / 1024 ** 2),
    hwmMb,
  };
}

async function handle(request: FanoutRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'connect':
      return connect(request);
    case 'subscribe':
      return subscribe(request);
    case 'await':
      return awaitValue(request);
    case 'summary':
      return summary(request);
    case 'close':
      await Promise.all(subscribers.map((s) => s.client.dispose()));
      return { closed: subscribers.length };
  }
}

if (!process.send) throw new Error('fanout-clients.ts runs as a child process of bench/fanout.ts (IPC)');
process.on('message', (request: FanoutRequest) => {
  handle(request).then(
    (result) => process.send!({ id: request.id, ok: true, result } satisfies FanoutReply),
    (error: unknown) =>
      process.send!({
        id: request.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies FanoutReply),
  );
});
process.on('disconnect', () => process.exit(0)); // the benchmark went away
