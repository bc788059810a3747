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
// pool) or, with REDIS_URL, Redis. Each charge is one store round trip per limit (the token's and the
// organization's, sent together); a key that used up its budget is refused from memory until its
// window ends, without asking the store. When the store fails (a database or Redis restart), each
// process counts alone in memory with the same budgets until it answers again: never a 500, never
// unlimited.

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
   * The items of a streamed upload, charged every ROWS_PER_CHARGE items and for the rest at its end
   * — all before the ingest commits: a budget running out mid-stream throws out of the iteration,
   * which rolls the request's transaction back.
   */
  counted<T>(items: AsyncIterable<T>): AsyncGenerator<T>;
}

interface Limit {
  name: string;
  allowed: number;
  limiter: RateLimiterAbstract;
}

const SWEEP_INTERVAL_MS = 5 * 60_000;

export class RateLimits {
  private readonly limits = new Map<LimitClass, { token: Limit; organization: Limit }>();
  private sweeper: NodeJS.Timeout | undefined;
  private redis: Redis | undefined;

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
      redis.on('error', () => {}); // while it is away, the limits count in memory (see below)
      limits.redis = redis;
      await redis
        .connect()
        .catch((error: unknown) => log(`rate limits: Redis unreachable, counting in memory meanwhile: ${String(error)}`));
      store = (options) => new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true });
    } else {
      store = (options) => new RateLimiterDrizzle({ ...options, storeClient: db, schema: rateLimits, clearExpiredByTimeout: false });
      // Windows long over are removed now and then (an expired row is also reset by the next charge).
      limits.sweeper = setInterval(() => {
        db.delete(rateLimits)
          .where(lt(rateLimits.expire, new Date(Date.now() - settings.windowSeconds * 1000)))
          .catch(() => {}); // the database may be restarting; the next round removes them
      }, SWEEP_INTERVAL_MS).unref();
    }
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
        return { name: `${CLASS_NAMES[limitClass]} per ${scope}`, allowed, limiter: store(options) };
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
    const charged = await Promise.allSettled([
      pair.token.limiter.consume(subject.tokenId, points),
      pair.organization.limiter.consume(subject.organizationId, points),
    ]);
    let refusal: { limit: Limit; msBeforeNext: number } | null = null;
    for (const [index, outcome] of charged.entries()) {
      if (outcome.status === 'fulfilled') continue;
      // With an insurance limiter, a store failure is answered from memory: a rejection is a refusal.
      if (!(outcome.reason instanceof RateLimiterRes)) throw outcome.reason;
      const limit = index === 0 ? pair.token : pair.organization;
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

  /** The row budget of one ingest request. */
  rowBudget(subject: RateLimitSubject): RowBudget {
    const charge = async (count: number): Promise<void> => {
      const refusal = await this.consume(subject, 'ingestRows', count);
      if (refusal) throw refusal;
    };
    const enabled = this.limits.has('ingestRows');
    return {
      charge,
      async *counted<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
        if (!enabled) {
          yield* items;
          return;
        }
        let uncharged = 0;
        for await (const item of items) {
          yield item;
          if (++uncharged === ROWS_PER_CHARGE) {
            await charge(uncharged);
            uncharged = 0;
          }
        }
        await charge(uncharged);
      },
    };
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.redis?.disconnect();
  }
}

type StoreOptions = {
  keyPrefix: string;
  points: number;
  duration: number;
  inMemoryBlockOnConsumed: number;
  insuranceLimiter: RateLimiterMemory;
};
