import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import type postgres from 'postgres';
import type { DbOrTx } from '../db/client.js';
import { afterCommit } from '../db/transactions.js';
import type { Logger } from '../observability/log.js';

// Live views (C11). Writers announce changes with one small NOTIFY per transaction and topic
// (delivered at commit, so a subscriber never sees uncommitted state, and deduplicated by
// PostgreSQL within a transaction). Every server process LISTENs on one channel; a topic that
// changed is re-read once per process — at most `maxUpdatesPerSecond` times a second, and always
// once more after the last change — and the state is handed to all its subscribers. A slow
// subscriber holds only the latest state, never a queue of them.

export const CHANNEL = 'batchlens_live';

export type LiveEvent =
  | { k: 'batch'; d: string; b: string } // a batch's counters or fields changed
  | { k: 'lifecycle'; d: string; b: string; e: BatchEventKind }
  | { k: 'quota'; d: string }
  | { k: 'org-quota'; o: string } // the organization's daily limit changed
  | { k: 'health'; d: string }
  | { k: 'job'; d: string; j: string } // a batch prediction job's status or progress changed
  | { k: 'custom-metrics'; d: string; b: string } // custom metric values of a batch changed
  | { k: 'export'; d: string; x: string }; // a data export's status or progress changed

export type BatchEventKind = 'CREATED' | 'UPDATED' | 'LOCKED' | 'UNLOCKED' | 'DELETED';

/**
 * The transport of announcements. PostgreSQL: NOTIFY inside the transaction (delivered at commit).
 * Redis (REDIS_URL): a transaction's announcements are published once it commits (afterCommit in
 * db/transactions.ts), so nobody is told of a change that was rolled back.
 */
interface RedisTransport {
  publish(event: LiveEvent): void;
}
/** The Redis transports of the hubs running in this process (tests run several); any one publishes. */
const redisTransports = new Set<RedisTransport>();
const redisTransport = (): RedisTransport | undefined => redisTransports.values().next().value;

/**
 * Announces changes; call inside the transaction that makes them. One per topic per transaction;
 * several in one call cost one statement.
 */
export async function announce(db: DbOrTx, ...events: LiveEvent[]): Promise<void> {
  const transport = redisTransport();
  if (transport) {
    for (const event of events) afterCommit(db, JSON.stringify(event), () => transport.publish(event));
    return;
  }
  await db.execute(
    sql`select ${sql.join(
      events.map((event) => sql`pg_notify(${CHANNEL}, ${JSON.stringify(event)})`),
      sql`, `,
    )}`,
  );
}

/**
 * What one subscriber is handed: an async iterator that can be ended at any moment (a generator
 * suspended in an await could not), holding either only the latest value (states: intermediate
 * ones are dropped) or a bounded queue (events: the oldest are dropped).
 */
export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private done = false;
  /** Whether anything was pushed yet (an initial state must not overwrite a newer update). */
  received = false;
  onClose: (() => void) | undefined;

  constructor(private readonly mode: 'latest' | { queue: number }) {}

  push(value: T): void {
    if (this.done) return;
    this.received = true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    if (this.mode === 'latest') this.buffer.splice(0, this.buffer.length, value);
    else {
      this.buffer.push(value);
      if (this.buffer.length > this.mode.queue) this.buffer.shift();
    }
  }

  /** Ends the stream after what is buffered. */
  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.waiting && this.buffer.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
    this.onClose?.();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.close();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A state topic: read at most `rate` times a second while it keeps changing, shared by its subscribers. */
class StateTopic<T> {
  readonly mailboxes = new Set<Channel<T>>();
  private lastRead = 0;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private dirtyWhileReading = false;
  /** The last state handed out: an unchanged state is not sent again. */
  private last: string | undefined;

  constructor(
    private readonly read: () => Promise<T | null>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  changed(): void {
    if (this.reading) {
      this.dirtyWhileReading = true;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastRead + this.intervalMs - Date.now());
    this.timer = setTimeout(() => void this.refresh(), wait);
  }

  private async refresh(): Promise<void> {
    this.timer = undefined;
    this.reading = true;
    this.lastRead = Date.now();
    try {
      const state = await this.read();
      const serialized = state === null ? null : JSON.stringify(state);
      if (serialized !== this.last) {
        this.last = serialized ?? undefined;
        for (const mailbox of this.mailboxes) {
          if (state === null)
            mailbox.close(); // gone (a deleted batch): the stream completes
          else mailbox.push(state);
        }
      }
    } catch (error) {
      this.onError(error);
    } finally {
      this.reading = false;
      if (this.dirtyWhileReading) {
        this.dirtyWhileReading = false;
        this.changed();
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const mailbox of this.mailboxes) mailbox.close();
  }
}

export interface LiveHubOptions {
  maxUpdatesPerSecond: number;
  log: Logger;
  /** Redis pub/sub instead of PostgreSQL LISTEN/NOTIFY. */
  redisUrl?: string | undefined;
}

type LiveCustomEvent = CustomEvent<LiveEvent>;

export class LiveHub {
  private readonly topics = new Map<string, StateTopic<unknown>>();
  private readonly eventListeners = new Map<string, Set<(event: LiveEvent & { k: 'lifecycle' }) => void>>();
  /** Quota topics per organization, for limit changes. */
  private readonly quotaTopicsByOrg = new Map<string, Set<string>>();
  private listening: postgres.ListenMeta | undefined;
  private redis: { publish: Redis; subscribe: Redis; transport: RedisTransport; unlisten: () => void } | undefined;
  private midnightTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pg: postgres.Sql,
    private readonly options: LiveHubOptions,
  ) {}

  async start(): Promise<void> {
    if (this.options.redisUrl) await this.startRedis(this.options.redisUrl);
    else {
      this.listening = await this.pg.listen(
        CHANNEL,
        (payload) => this.dispatch(payload),
        // Called again after every reconnect (a database restart): changes may have been missed.
        () => this.refreshAll(),
      );
    }
    this.scheduleMidnight();
  }

  private async startRedis(url: string): Promise<void> {
    const publish = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
    const subscribe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
    await Promise.all([publish.connect(), subscribe.connect()]);
    const target = createRedisEventTarget<LiveCustomEvent>({ publishClient: publish, subscribeClient: subscribe });
    const listener = (event: LiveCustomEvent) => this.dispatch(JSON.stringify(event.detail));
    target.addEventListener(CHANNEL, listener);
    // ioredis reconnects by itself; said once per outage (an 'error' listener also keeps ioredis from
    // printing "Unhandled error event" for every attempt).
    let outageLogged = false;
    const onError = (error: Error) => {
      if (outageLogged) return;
      outageLogged = true;
      this.options.log.warn({ err: error }, 'Redis unreachable for live views: reconnecting');
    };
    publish.on('error', onError);
    subscribe.on('error', onError);
    // After a reconnect, changes may have been missed: read every topic again.
    let connected = true;
    subscribe.on('close', () => (connected = false));
    subscribe.on('ready', () => {
      if (!connected) this.refreshAll();
      connected = true;
      outageLogged = false;
    });
    const transport: RedisTransport = {
      publish: (event) => target.dispatchEvent(new CustomEvent(CHANNEL, { detail: event }) as LiveCustomEvent),
    };
    redisTransports.add(transport);
    this.redis = { publish, subscribe, transport, unlisten: () => target.removeEventListener(CHANNEL, listener) };
  }

  async stop(): Promise<void> {
    if (this.midnightTimer) clearTimeout(this.midnightTimer);
    for (const topic of this.topics.values()) topic.stop();
    this.topics.clear();
    await this.listening?.unlisten().catch(() => {});
    if (this.redis) {
      this.redis.unlisten();
      redisTransports.delete(this.redis.transport);
      this.redis.publish.disconnect();
      this.redis.subscribe.disconnect();
    }
  }

  /** Quotas reset at UTC midnight without any write: refresh every quota topic then. */
  private scheduleMidnight(): void {
    const next = new Date();
    next.setUTCHours(24, 0, 0, 50);
    this.midnightTimer = setTimeout(() => {
      for (const [key, topic] of this.topics) if (key.startsWith('quota:')) topic.changed();
      this.scheduleMidnight();
    }, next.getTime() - Date.now()).unref();
  }

  private refreshAll(): void {
    for (const topic of this.topics.values()) topic.changed();
  }

  private dispatch(payload: string): void {
    let event: LiveEvent;
    try {
      event = JSON.parse(payload) as LiveEvent;
    } catch {
      return;
    }
    const touch = (key: string) => this.topics.get(key)?.changed();
    switch (event.k) {
      case 'batch':
        touch(`batch:${event.b}`);
        break;
      case 'lifecycle':
        touch(`batch:${event.b}`);
        touch(`custom-metrics:${event.b}`); // a deleted batch ends its custom metric view
        for (const listener of this.eventListeners.get(event.d) ?? []) listener(event);
        break;
      case 'quota':
        touch(`quota:${event.d}`);
        break;
      case 'org-quota':
        for (const key of this.quotaTopicsByOrg.get(event.o) ?? []) touch(key);
        break;
      case 'health':
        touch(`health:${event.d}`);
        break;
      case 'job':
        touch(`job:${event.j}`);
        break;
      case 'custom-metrics':
        touch(`custom-metrics:${event.b}`);
        break;
      case 'export':
        touch(`export:${event.x}`);
        break;
    }
  }

  /**
   * The current state of `key`, then every change (coalesced). `read` returns null when the thing
   * is gone, which completes the stream. Authorization is the caller's, before subscribing.
   */
  state<T>(key: string, read: () => Promise<T | null>, organizationId?: string): Channel<T> {
    let topic = this.topics.get(key) as StateTopic<T> | undefined;
    if (!topic) {
      topic = new StateTopic<T>(read, 1000 / this.options.maxUpdatesPerSecond, (error) =>
        this.options.log.error({ err: error, topic: key }, 'live view read failed'),
      );
      this.topics.set(key, topic as StateTopic<unknown>);
      if (organizationId && key.startsWith('quota:')) {
        const keys = this.quotaTopicsByOrg.get(organizationId) ?? new Set();
        keys.add(key);
        this.quotaTopicsByOrg.set(organizationId, keys);
      }
    }
    const channel = new Channel<T>('latest');
    const owner = topic;
    owner.mailboxes.add(channel);
    channel.onClose = () => {
      owner.mailboxes.delete(channel);
      if (owner.mailboxes.size === 0 && this.topics.get(key) === owner) {
        owner.stop();
        this.topics.delete(key);
        for (const keys of this.quotaTopicsByOrg.values()) keys.delete(key);
      }
    };
    // The current state first, read for this subscriber, so a dashboard needs no separate query.
    read().then(
      (initial) => {
        if (initial === null) channel.close();
        else if (!channel.received) channel.push(initial);
      },
      (error: unknown) => {
        this.options.log.error({ err: error, topic: key }, 'live view read failed');
        channel.close();
      },
    );
    return channel;
  }

  /** Lifecycle events of a deployment's batches, in order; a slow subscriber keeps at most `limit` (the newest). */
  events(deploymentId: string, limit = 1000): Channel<LiveEvent & { k: 'lifecycle' }> {
    const channel = new Channel<LiveEvent & { k: 'lifecycle' }>({ queue: limit });
    const listener = (event: LiveEvent & { k: 'lifecycle' }) => channel.push(event);
    const listeners = this.eventListeners.get(deploymentId) ?? new Set();
    listeners.add(listener);
    this.eventListeners.set(deploymentId, listeners);
    channel.onClose = () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.eventListeners.delete(deploymentId);
    };
    return channel;
  }
}

/** `source` with each value mapped (asynchronously), ending when it ends or is returned. */
export function mapChannel<T, U>(source: AsyncIterableIterator<T>, map: (value: T) => Promise<U | null>): AsyncIterableIterator<U> {
  const iterator: AsyncIterableIterator<U> = {
    async next() {
      for (;;) {
        const result = await source.next();
        if (result.done) return { value: undefined, done: true };
        const mapped = await map(result.value);
        if (mapped !== null) return { value: mapped, done: false };
      }
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** `source` until (and including) the first value that `isLast` accepts: the stream then completes. */
export function untilLast<T>(source: AsyncIterableIterator<T>, isLast: (value: T) => boolean): AsyncIterableIterator<T> {
  let ended = false;
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      if (ended) return { value: undefined, done: true };
      const result = await source.next();
      if (!result.done && isLast(result.value)) {
        ended = true;
        await source.return?.();
      }
      return result;
    },
    async return() {
      ended = true;
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
