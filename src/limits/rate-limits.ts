import { AsyncLocalStorage } from 'node:async_hooks';
import { lt } from 'drizzle-orm';
import { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterDrizzle,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterStoreAbstract,
} from 'rate-limiter-flexible';
import type { RateLimitBudget, RateLimitSettings } from '../config.js';
import type { Db } from '../db/client.js';
import { rateLimits } from '../db/tables.js';

// Rate limits per token and per organization (rate-limiter-flexible, fixed windows), counted where
// every server process sees the same counts: PostgreSQL (the `rate_limits` table, through our drizzle
// pool) or, with REDIS_URL, Redis.
//
// What a request waits for: near the end of a budget — when this process's last answer from the
// store for the token or the organization, plus what it charged since, leaves no more than a quarter
// of the budget (EXACT_SHARE) — the request's charge is one store round trip per limit, sent together,
// and the request waits for it: the last quarter of every budget is counted exactly, across
// processes. Far from the limit, the request goes on at once and its points are added to the key's
// charge that this process sends every FLUSH_MS (one round trip per key for all requests meanwhile,
// outside the request). A key that used up its budget is refused from memory until its window ends,
// without asking the store. When the store fails (a database or Redis restart), each process counts
// alone in memory with the same budgets until it answers again: never a 500, never unlimited.

export type LimitClass = 'graphqlCost' | 'restRequests' | 'ingestRequests' | 'ingestRows';

const CLASS_NAMES: Record<LimitClass, string> = {
  graphqlCost: 'GraphQL cost',
  restRequests: 'REST requests',
  ingestRequests: 'ingest requests',
  ingestRows: 'ingest rows',
};

/** Who is charged: a viewer's token and organization. */
export interface RateLimitSubject {
  tokenId: string;
  organizationId: string;
}

/** A refusal: which limit (e.g. "ingest rows per organization"), its budget, and when its window resets. */
export class RateLimitedError extends Error {
  readonly retryAfterSeconds: number;

  constructor(
    /** "GraphQL cost per token", "ingest rows per organization" … */
    readonly limit: string,
    /** Points the limit allows per window. */
    readonly allowed: number,
    readonly windowSeconds: number,
    readonly resetsAt: Date,
  ) {
    const retryAfterSeconds = Math.max(1, Math.ceil((resetsAt.getTime() - Date.now()) / 1000));
    super(
      `Rate limit exceeded: ${limit} (${allowed.toLocaleString('en')} per ${windowSeconds} s); retry after ${retryAfterSeconds} s, at ${resetsAt.toISOString()}`,
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Rows of an ingest request between charges of a streamed upload. */
export const ROWS_PER_CHARGE = 10_000;

/** How an ingest route charges its rows (throws RateLimitedError when a budget runs out). */
export interface RowBudget {
  /** Charges rows counted before anything is stored (a JSON body's list). */
  charge(count: number): Promise<void>;
  /**
   * One more row of a streamed upload. Every ROWS_PER_CHARGE rows it returns the charge to wait for
   * (else undefined, at no cost: no promise per row); a budget running out rejects it, which rolls the
   * request's transaction back.
   */
  add(): Promise<void> | undefined;
  /** Charges the rows added since the last charge: at the upload's end, before the ingest commits. */
  settle(): Promise<void>;
}

interface Limit {
  name: string;
  allowed: number;
  limiter: RateLimiterAbstract;
  /** What this process knows of each key in its current window. */
  known: Map<string, Known>;
}

interface Known {
  /** Points the store counted for the key at its last answer (the highest answer in this window). */
  consumed: number;
  /** Charged by requests that went on, not sent yet (sent at the next flush). */
  unsent: number;
  /** Sent, answer awaited. */
  inFlight: number;
  /** When the window ends (ms since the epoch). */
  resetsAt: number;
}

/** The share of every budget that is counted request by request, each waiting for the store. */
const EXACT_SHARE = 0.25;
/** How often the charges of requests far from their limits are sent. */
const FLUSH_MS = 50;
const SWEEP_INTERVAL_MS = 5 * 60_000;

export class RateLimits {
  private readonly limits = new Map<LimitClass, { token: Limit; organization: Limit }>();
  private sweeper: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private redis: Redis | undefined;
  /** Runs a function outside any request (the flushes' statements belong to none). */
  private readonly outsideRequests = AsyncLocalStorage.snapshot();

  private constructor(private readonly settings: RateLimitSettings) {}

  /** Limits on `db` (or Redis at `redisUrl`); with `settings.enabled` false every charge passes untouched. */
  static async start(settings: RateLimitSettings, db: Db, redisUrl: string | undefined, log: (line: string) => void): Promise<RateLimits> {
    const limits = new RateLimits(settings);
    if (!settings.enabled) return limits;
    let store: (options: StoreOptions) => RateLimiterStoreAbstract;
    if (redisUrl) {
      // Commands issued in the same tick (a request's two limits) go out in one round trip.
      const redis = new Redis(redisUrl, {
        lazyConnect: true,
        enableAutoPipelining: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
      });
      redis.on('error', () => {}); // while it is away, the limits count in memory (see above)
      limits.redis = redis;
      await redis
        .connect()
        .catch((error: unknown) => log(`rate limits: Redis unreachable, counting in memory meanwhile: ${String(error)}`));
      store = (options) => new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true });
    } else {
      store = (options) => new RateLimiterDrizzle({ ...options, storeClient: db, schema: rateLimits, clearExpiredByTimeout: false });
    }
    // Now and then: forget what ended; in PostgreSQL, remove windows long over (an expired row is
    // also reset by the key's next charge).
    limits.sweeper = setInterval(() => {
      limits.forgetEnded();
      if (redisUrl) return;
      db.delete(rateLimits)
        .where(lt(rateLimits.expire, new Date(Date.now() - settings.windowSeconds * 1000)))
        .catch(() => {}); // the database may be restarting; the next round removes them
    }, SWEEP_INTERVAL_MS).unref();
    for (const limitClass of Object.keys(CLASS_NAMES) as LimitClass[]) {
      const budget: RateLimitBudget = settings[limitClass];
      const make = (scope: 'token' | 'organization', allowed: number): Limit => {
        const keyPrefix = `${limitClass}:${scope}`;
        const options: StoreOptions = {
          keyPrefix,
          points: allowed,
          duration: settings.windowSeconds,
          // Used up: refused from memory until the window ends, no store round trip.
          inMemoryBlockOnConsumed: allowed,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix, points: allowed, duration: settings.windowSeconds }),
        };
        return { name: `${CLASS_NAMES[limitClass]} per ${scope}`, allowed, limiter: store(options), known: new Map() };
      };
      limits.limits.set(limitClass, { token: make('token', budget.perToken), organization: make('organization', budget.perOrganization) });
    }
    return limits;
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  /**
   * Charges `points` to the subject's token and organization; the refusal when either budget is
   * used up (points are charged to both either way, as a refused request was still made).
   */
  async consume(subject: RateLimitSubject, limitClass: LimitClass, points: number): Promise<RateLimitedError | null> {
    const pair = this.limits.get(limitClass);
    if (!pair || points <= 0) return null;
    const charges: [Limit, string][] = [
      [pair.token, subject.tokenId],
      [pair.organization, subject.organizationId],
    ];
    const now = Date.now();
    const known = charges.map(([limit, key]) => this.current(limit, key, now));
    if (known.every((entry, index) => entry && farFromLimit(entry, charges[index]![0], points))) {
      // Plenty left on both: the request goes on; its points go with the next flush.
      for (const entry of known) entry!.unsent += points;
      this.scheduleFlush();
      return null;
    }
    const charged = await Promise.allSettled(
      charges.map(([limit, key], index) => {
        // Points of requests that went on are sent along.
        const unsent = known[index]?.unsent ?? 0;
        if (known[index]) known[index].unsent = 0;
        return this.send(limit, key, points + unsent);
      }),
    );
    let refusal: { limit: Limit; msBeforeNext: number } | null = null;
    for (const [index, outcome] of charged.entries()) {
      if (outcome.status === 'fulfilled') continue;
      // With an insurance limiter, a store failure is answered from memory: a rejection is a refusal.
      if (!(outcome.reason instanceof RateLimiterRes)) throw outcome.reason;
      const limit = charges[index]![0];
      if (!refusal || outcome.reason.msBeforeNext > refusal.msBeforeNext) refusal = { limit, msBeforeNext: outcome.reason.msBeforeNext };
    }
    if (!refusal) return null;
    return new RateLimitedError(
      refusal.limit.name,
      refusal.limit.allowed,
      this.settings.windowSeconds,
      new Date(Date.now() + Math.max(refusal.msBeforeNext, 0)),
    );
  }

  /**
   * What this process knows of the key's current window; a window that ended starts again from
   * nothing (until the store's next answer says more). Undefined for a key it never charged.
   */
  private current(limit: Limit, key: string, now: number): Known | undefined {
    const known = limit.known.get(key);
    if (known && known.resetsAt <= now) {
      known.consumed = 0;
      known.resetsAt = now + this.settings.windowSeconds * 1000;
    }
    return known;
  }

  /** One charge of one key; what the store answers is remembered. */
  private async send(limit: Limit, key: string, points: number): Promise<RateLimiterRes> {
    const sent = limit.known.get(key);
    if (sent) sent.inFlight += points;
    const learn = (res: RateLimiterRes) => {
      const resetsAt = Date.now() + res.msBeforeNext;
      // Refused from memory (a used-up key), the answer counts 0 points: the key is over its budget.
      const consumed = res.consumedPoints > 0 ? res.consumedPoints : limit.allowed + 1;
      const known = limit.known.get(key);
      if (known === sent && sent) sent.inFlight -= points;
      if (!known) limit.known.set(key, { consumed, unsent: 0, inFlight: 0, resetsAt });
      else if (Math.abs(resetsAt - known.resetsAt) > 1000) Object.assign(known, { consumed, resetsAt });
      else known.consumed = Math.max(known.consumed, consumed);
    };
    try {
      const res = await limit.limiter.consume(key, points);
      learn(res);
      return res;
    } catch (error) {
      if (error instanceof RateLimiterRes) learn(error);
      else if (sent) sent.inFlight -= points;
      throw error;
    }
  }

  private scheduleFlush(): void {
    this.flushTimer ??= this.outsideRequests(() => setTimeout(() => this.flush(), FLUSH_MS).unref());
  }

  /** Sends what requests far from their limits charged since the last flush: one charge per key. */
  private flush(): void {
    this.flushTimer = undefined;
    for (const pair of this.limits.values()) {
      for (const limit of [pair.token, pair.organization]) {
        for (const [key, known] of limit.known) {
          if (known.unsent === 0) continue;
          const points = known.unsent;
          known.unsent = 0;
          // A refusal here is remembered: the key's next requests wait for the store (and are refused).
          this.send(limit, key, points).catch(() => {});
        }
      }
    }
  }

  /** Forgets keys whose windows ended and that have nothing to send. */
  private forgetEnded(): void {
    const now = Date.now();
    for (const pair of this.limits.values()) {
      for (const limit of [pair.token, pair.organization]) {
        for (const [key, known] of limit.known) {
          if (known.resetsAt <= now && known.unsent === 0 && known.inFlight === 0) limit.known.delete(key);
        }
      }
    }
  }

  /** The row budget of one ingest request. */
  rowBudget(subject: RateLimitSubject): RowBudget {
    const charge = async (count: number): Promise<void> => {
      const refusal = await this.consume(subject, 'ingestRows', count);
      if (refusal) throw refusal;
    };
    const enabled = this.limits.has('ingestRows');
    let uncharged = 0;
    return {
      charge,
      add: () => {
        if (!enabled || ++uncharged < ROWS_PER_CHARGE) return undefined;
        uncharged = 0;
        return charge(ROWS_PER_CHARGE);
      },
      settle: async () => {
        if (!enabled || uncharged === 0) return;
        const count = uncharged;
        uncharged = 0;
        await charge(count);
      },
    };
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.redis?.disconnect();
  }
}

/** Does the key keep more than EXACT_SHARE of its budget after `points`, as far as this process knows? */
function farFromLimit(known: Known, limit: Limit, points: number): boolean {
  return known.consumed + known.inFlight + known.unsent + points <= limit.allowed * (1 - EXACT_SHARE);
}

type StoreOptions = {
  keyPrefix: string;
  points: number;
  duration: number;
  inMemoryBlockOnConsumed: number;
  insuranceLimiter: RateLimiterMemory;
};
