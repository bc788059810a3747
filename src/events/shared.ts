import { type DocumentNode, print } from 'graphql';
import type { Logger } from '../observability/log.js';
import { Channel } from './hub.js';

// Thousands of dashboards watching the same batch send the same subscription. Executing it once per
// subscriber per state (resolvers, loaders, serialization of the result) is what limits fan-out,
// so subscribers of the same operation, with the same variables, as the same user, share one
// execution: each new state is executed once and handed to every member, each of which keeps only
// the latest state it has not sent yet (a slow socket never queues). The group is keyed by the
// user (organization, role) as well, so nobody is ever handed a result executed for someone else.
//
// Many commits to a state watched by very many (issue 14): writing a state to 10,000 sockets costs
// the server (and the clients) far more than executing it, so a state is also encoded once for all
// members (`SharedState.encoded`, by the transport's encoder) and written by the transport straight
// from the group's loop (`MemberSink`), in slices of a few milliseconds so that an upload being
// stored is not held up for the whole delivery; and a group's deliveries are paced by what its last
// one cost: the next may start only once that cost is at most `fanOutShare` of the time since the
// last one started — except that the newest state is never held longer than `finalBudgetMs` minus
// how long a delivery takes, so the final value still arrives within the live views' 500 ms.

/** What a shared group's opener returns: an async iterator of results, or a single (error) result. */
type Opened = AsyncIterableIterator<unknown> | unknown;

const RETRY = Symbol('retry');
/** How often a member whose receiver is behind looks again whether it can take the latest state. */
const BLOCKED_RETRY_MS = 50;
/** The longest a delivery writes to members before other work gets its turn. */
const SLICE_MS = 10;
/** How long a delivery may take while letting other work run between its slices; past it, it writes the rest at once. */
const ROUND_SPREAD_MS = 150;

function isAsyncIterator(value: unknown): value is AsyncIterableIterator<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** One state of a group, with its encoding made at most once for every member. */
export class SharedState {
  private bytes: Buffer | undefined;

  constructor(
    readonly value: unknown,
    private readonly encoder: (value: unknown) => Buffer,
  ) {}

  get encoded(): Buffer {
    this.bytes ??= this.encoder(this.value);
    return this.bytes;
  }
}

/** Where a member's states go once its transport writes them itself. */
export interface MemberSink {
  /** Whether a state may be written now (false while the receiver is behind: it then gets only the latest, later). */
  ready(): boolean;
  write(state: SharedState): void;
}

/**
 * One subscriber of a group. Iterated, it yields the states' values (latest only, like a `Channel`);
 * once a transport attaches a sink, states go straight to the sink and the iterator only ends.
 */
export class SharedMember implements AsyncIterableIterator<unknown> {
  private readonly channel = new Channel<unknown>('latest');
  private sink: MemberSink | undefined;
  /** The newest state not written yet because the sink was not ready. */
  private pending: SharedState | undefined;
  private lastOffered: SharedState | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private ended: (() => void) | undefined;
  private readonly done = new Promise<IteratorResult<unknown>>((resolve) => {
    this.ended = () => resolve({ value: undefined, done: true });
  });
  onClose: (() => void) | undefined;

  /** From now on, states are written through `sink` (the latest one not taken yet at once). */
  attach(sink: MemberSink): void {
    if (this.sink) throw new Error('a member has one sink');
    this.sink = sink;
    if (this.lastOffered && this.channel.received) {
      // What was handed to the channel and not taken yet is the latest: written through the sink instead.
      // Nothing iterates a member before its transport attaches, so the channel still holds it.
      void this.channel.return();
      this.toSink(this.lastOffered, sink); // even when the source ended meanwhile: it is the last state
    }
    if (this.closed && !this.pending) this.finish();
  }

  offer(state: SharedState): void {
    if (this.closed || state === this.lastOffered) return;
    this.lastOffered = state;
    if (this.sink) this.toSink(state, this.sink);
    else this.channel.push(state.value);
  }

  private toSink(state: SharedState, sink: MemberSink): void {
    if (this.pending === undefined && sink.ready()) {
      sink.write(state);
      return;
    }
    this.pending = state;
    this.retry ??= setTimeout(() => this.flush(), BLOCKED_RETRY_MS);
  }

  private flush(): void {
    this.retry = undefined;
    const state = this.pending;
    if (!state || !this.sink) return;
    if (!this.sink.ready()) {
      this.retry = setTimeout(() => this.flush(), BLOCKED_RETRY_MS);
      return;
    }
    this.pending = undefined;
    this.sink.write(state);
    if (this.closed) this.finish();
  }

  /** The source ended: the stream completes after the state it still holds. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
    this.onClose?.();
    if (this.sink && !this.pending) this.finish();
  }

  private finish(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.pending = undefined;
    this.ended?.();
  }

  next(): Promise<IteratorResult<unknown>> {
    return this.sink ? this.done : this.channel.next();
  }

  /** The subscriber left: nothing more is written. */
  async return(): Promise<IteratorResult<unknown>> {
    this.pending = undefined;
    this.close();
    this.finish();
    await this.channel.return();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export interface SharedSubscriptionsOptions {
  log: Logger;
  /** Encodes a state once for every member whose transport writes it through a sink. */
  encode: (value: unknown) => Buffer;
  /** The most of the time a group's deliveries may take (their measured cost ÷ the time between their starts). */
  fanOutShare: number;
  /** The longest the newest state waits, counting its delivery's cost, before it is delivered anyway. */
  finalBudgetMs: number;
}

class SharedGroup {
  private readonly members = new Set<SharedMember>();
  /** The newest state: the one delivered last, or the one waiting for its turn. */
  private latest: SharedState | undefined;
  private waiting: SharedState | undefined;
  private waitingSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** The delivery under way: the members still to be written, in slices between which other work runs. */
  private round: { queue: SharedMember[]; next: number; started: number; cost: number } | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  /** What the last delivery cost (ms of writing, summed over its slices) and how long it took from start to end. */
  private lastCost = 0;
  private lastSpread = 0;
  private opened: Promise<Opened> | undefined;
  private upstream: AsyncIterableIterator<unknown> | undefined;
  private ended = false;

  constructor(
    private readonly open: () => Opened | Promise<Opened>,
    private readonly onEnd: () => void,
    private readonly options: SharedSubscriptionsOptions,
  ) {}

  /** A member's stream (or the error result every member gets), or RETRY when the group ended meanwhile. */
  async join(): Promise<unknown> {
    this.opened ??= this.start();
    const opened = await this.opened;
    if (!isAsyncIterator(opened)) return opened;
    if (this.ended) return RETRY;
    const member = new SharedMember();
    // The current state first: the newest the group has, even one still waiting for its turn.
    if (this.latest) member.offer(this.latest);
    this.members.add(member);
    member.onClose = () => {
      this.members.delete(member);
      if (this.members.size === 0) this.end();
    };
    return member;
  }

  private async start(): Promise<Opened> {
    let opened: Opened;
    try {
      opened = await this.open();
    } catch (error) {
      this.end();
      throw error;
    }
    if (!isAsyncIterator(opened)) {
      // Not found, forbidden …: nothing to share; the next subscriber asks again.
      this.end();
      return opened;
    }
    this.upstream = opened;
    void this.pump(opened);
    return opened;
  }

  private async pump(upstream: AsyncIterableIterator<unknown>): Promise<void> {
    try {
      for await (const value of upstream) this.arrived(new SharedState(value, this.options.encode));
    } catch (error) {
      this.options.log.error({ err: error }, 'shared subscription failed');
    } finally {
      this.end();
      // The source ended (a deleted batch): every member's stream completes after the latest state.
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      const last = this.latest;
      for (const member of [...this.members]) {
        if (last) member.offer(last);
        member.close();
      }
    }
  }

  /** A new state: delivered now, or when the pace allows, but never later than the final-value budget. */
  private arrived(state: SharedState): void {
    this.latest = state;
    this.waiting = state;
    this.waitingSince = performance.now();
    if (this.round) {
      // A delivery is under way: those it has not reached get this state; those it has, once their
      // turn comes again — at once (the delivery goes on to them) when the pace or the budget says so.
      if (this.dueAt() <= this.waitingSince) {
        const { round } = this;
        round.queue.push(...round.queue.slice(0, round.next));
        this.waiting = undefined;
      }
      return;
    }
    this.schedule();
  }

  /** When the waiting state is due: when the pace allows, but never later than the final-value budget. */
  private dueAt(): number {
    const paced = this.lastStart + this.lastCost / this.options.fanOutShare;
    // Only the newest state must arrive in time: it may wait what its budget leaves after a delivery's duration.
    const deadline = this.waitingSince + Math.max(0, this.options.finalBudgetMs - this.lastSpread);
    return Math.min(paced, deadline);
  }

  private schedule(): void {
    if (!this.waiting || this.ended) return;
    const now = performance.now();
    const at = this.dueAt();
    if (at <= now) {
      this.deliver();
      return;
    }
    if (this.timer && this.timerAt === at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.deliver();
    }, at - now);
  }

  private deliver(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.waiting) return;
    this.waiting = undefined;
    this.lastStart = performance.now();
    this.round = { queue: [...this.members], next: 0, started: this.lastStart, cost: 0 };
    this.slice();
  }

  /**
   * Writes to members for up to SLICE_MS, then lets other work (an upload being stored) run before
   * the next slice. Members not reached yet get the newest state, should one arrive meanwhile.
   */
  private slice(): void {
    const round = this.round;
    if (!round) return;
    const started = performance.now();
    const state = this.latest!;
    const { queue } = round;
    let i = round.next;
    while (i < queue.length) {
      queue[i++]!.offer(state);
      if ((i & 63) !== 0) continue;
      // Other work gets its turn every SLICE_MS, as long as the delivery is not late: then it goes on to the end.
      const now = performance.now();
      if (now - started >= SLICE_MS && now - round.started < ROUND_SPREAD_MS) break;
    }
    round.next = i;
    const ended = performance.now();
    round.cost += ended - started;
    if (i < queue.length && !this.ended) {
      setImmediate(() => this.slice());
      return;
    }
    this.round = undefined;
    this.lastCost = round.cost;
    this.lastSpread = ended - round.started;
    // The newest state went to those reached after it arrived; the others get it in the next round.
    this.schedule();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    void this.upstream?.return?.();
  }
}

export class SharedSubscriptions {
  private readonly groups = new Map<string, SharedGroup>();
  private readonly printed = new WeakMap<DocumentNode, string>();

  constructor(private readonly options: SharedSubscriptionsOptions) {}

  /** The group key: who asks (`scope`, e.g. organization and user) and exactly what they ask. */
  key(scope: string, document: DocumentNode, operationName: string | null | undefined, variables: unknown): string {
    let text = this.printed.get(document);
    if (text === undefined) {
      text = print(document);
      this.printed.set(document, text);
    }
    return JSON.stringify([scope, operationName ?? null, text, variables ?? {}]);
  }

  /** Joins the group of `key`, opening its one execution with `open` when it has none. */
  async subscribe(key: string, open: () => Opened | Promise<Opened>): Promise<unknown> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let group = this.groups.get(key);
      if (!group) {
        const created: SharedGroup = new SharedGroup(
          open,
          () => {
            if (this.groups.get(key) === created) this.groups.delete(key);
          },
          this.options,
        );
        group = created;
        this.groups.set(key, group);
      }
      const joined = await group.join();
      if (joined !== RETRY) return joined;
    }
    // The stream keeps ending as soon as it starts: so does this subscriber's.
    const ended = new Channel<unknown>('latest');
    ended.close();
    return ended;
  }
}
