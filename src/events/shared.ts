import { type DocumentNode, print } from 'graphql';
import type { Logger } from '../observability/log.js';
import { Channel } from './hub.js';

// Thousands of dashboards watching the same batch send the same subscription. Executing it once per
// subscriber per state (resolvers, loaders, serialization of the result) is what limits fan-out,
// so subscribers of the same operation, with the same variables, as the same user, share one
// execution: each new state is executed once and handed to every member, each of which keeps only
// the latest state it has not sent yet (a slow socket never queues). The group is keyed by the
// user (organization, role) as well, so nobody is ever handed a result executed for someone else.

/** What a shared group's opener returns: an async iterator of results, or a single (error) result. */
type Opened = AsyncIterableIterator<unknown> | unknown;

const RETRY = Symbol('retry');

function isAsyncIterator(value: unknown): value is AsyncIterableIterator<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

class SharedGroup {
  private readonly members = new Set<Channel<unknown>>();
  private latest: { value: unknown } | undefined;
  private opened: Promise<Opened> | undefined;
  private upstream: AsyncIterableIterator<unknown> | undefined;
  private ended = false;

  constructor(
    private readonly open: () => Opened | Promise<Opened>,
    private readonly onEnd: () => void,
    private readonly log: Logger,
  ) {}

  /** A member's stream (or the error result every member gets), or RETRY when the group ended meanwhile. */
  async join(): Promise<unknown> {
    this.opened ??= this.start();
    const opened = await this.opened;
    if (!isAsyncIterator(opened)) return opened;
    if (this.ended) return RETRY;
    const member = new Channel<unknown>('latest');
    if (this.latest) member.push(this.latest.value);
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
      for await (const value of upstream) {
        this.latest = { value };
        for (const member of this.members) member.push(value);
      }
    } catch (error) {
      this.log.error({ err: error }, 'shared subscription failed');
    } finally {
      this.end();
      // The source ended (a deleted batch): every member's stream completes after what it holds.
      for (const member of [...this.members]) member.close();
    }
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

  constructor(private readonly log: Logger) {}

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
          this.log,
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
