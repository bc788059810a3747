import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/events/hub.js';
import { type MemberSink, SharedMember, type SharedState, SharedSubscriptions } from '../../src/events/shared.js';
import { silentLogger } from '../../src/observability/log.js';
import { sleep } from '../helpers/time.js';

// The pacing of a shared group's deliveries (issue 14), on the group itself: its upstream is a
// Channel as the hub hands out, its members' sinks write into arrays and take a fixed time per
// write, so a delivery's cost is known. End to end over graphql-ws: test/live-fanout.test.ts.

const SHARE = 0.25;
const BUDGET_MS = 350;

/** Blocks the thread for `ms`, as writing to many sockets does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

interface Received {
  values: number[];
  /** When each delivery reached this member (performance.now()). */
  at: number[];
}

async function member(shared: SharedSubscriptions, upstream: Channel<number>, writeMs: number): Promise<Received> {
  const joined = await shared.subscribe('the group', () => upstream);
  if (!(joined instanceof SharedMember)) throw new Error('not a member');
  const received: Received = { values: [], at: [] };
  const sink: MemberSink = {
    ready: () => true,
    write: (state: SharedState) => {
      busy(writeMs);
      received.values.push(JSON.parse(state.encoded.toString()) as number);
      received.at.push(performance.now());
    },
  };
  joined.attach(sink);
  return received;
}

/** Shared groups encoding states as JSON, with the pacing above. */
const sharedGroups = () =>
  new SharedSubscriptions({
    log: silentLogger,
    encode: (value) => Buffer.from(JSON.stringify(value)),
    fanOutShare: SHARE,
    finalBudgetMs: BUDGET_MS,
  });

/** A member of `shared`'s group fed by a new latest-only source holding `initial`. */
async function joinedMember(shared: SharedSubscriptions, initial: number) {
  const upstream = new Channel<number>('latest');
  upstream.push(initial);
  const joined = await shared.subscribe('the group', () => upstream);
  if (!(joined instanceof SharedMember)) throw new Error('not a member');
  return { upstream, joined };
}

describe('a shared group whose deliveries are costly', () => {
  it('delivers the current state first, then at most its share of the time, and always the final value in time', async () => {
    const encoded: number[] = [];
    const shared = new SharedSubscriptions({
      log: silentLogger,
      encode: (value) => {
        encoded.push(value as number);
        return Buffer.from(JSON.stringify(value));
      },
      fanOutShare: SHARE,
      finalBudgetMs: BUDGET_MS,
    });
    const upstream = new Channel<number>('latest');
    upstream.push(0);
    // 10 members × 2 ms: every delivery costs ≥ 20 ms, so the group may deliver at most every 80 ms.
    const members: Received[] = [];
    for (let m = 0; m < 10; m++) members.push(await member(shared, upstream, 2));
    await sleep(20);
    for (const m of members) expect(m.values).toEqual([0]); // the current state first

    // A state every 5 ms for 1.5 s (300 states): without pacing, ~6 ms of writes every 5 ms.
    const started = performance.now();
    let late: Received | undefined;
    let joinedAt = 0;
    for (let value = 1; value <= 300; value++) {
      upstream.push(value);
      await sleep(5);
      if (value === 150) {
        joinedAt = performance.now();
        late = await member(shared, upstream, 2);
      }
    }
    const lastPushed = performance.now();
    await sleep(BUDGET_MS + 100);

    for (const m of [...members, late!]) {
      expect(m.values.at(-1)).toBe(300); // the final value
      expect([...m.values].sort((a, b) => a - b)).toEqual(m.values); // never an older one after a newer
      expect(m.at.at(-1)! - lastPushed).toBeLessThanOrEqual(BUDGET_MS + 50);
    }
    // The member that joined mid-burst got a state at once (the group's newest), not at the next delivery.
    expect(late!.at[0]! - joinedAt).toBeLessThan(50);
    expect(late!.values[0]).toBeGreaterThan(100);
    // Paced: deliveries ≥ cost ÷ share apart (cost ≥ 20 ms) while the states kept coming.
    const deliveries = members[0]!.at;
    const during = deliveries.filter((t) => t >= started && t <= lastPushed);
    const elapsed = lastPushed - started;
    console.log(`pacing: ${during.length} deliveries in ${Math.round(elapsed)} ms for 300 states; ${encoded.length} encodings`);
    expect(during.length).toBeLessThanOrEqual(Math.ceil(elapsed / (20 / SHARE)) + 1);
    expect(during.length).toBeGreaterThanOrEqual(3); // still live while the states keep coming
    for (let i = 1; i < during.length; i++) expect(during[i]! - during[i - 1]!).toBeGreaterThanOrEqual(20 / SHARE - 5);
    // One encoding per delivered state, however many members.
    expect(encoded.length).toBeLessThanOrEqual(during.length + 3);
  });

  it('a cheap group is not held back: every state of a slow stream arrives at once', async () => {
    const shared = sharedGroups();
    const upstream = new Channel<number>('latest');
    upstream.push(0);
    const received = await member(shared, upstream, 0);
    for (let value = 1; value <= 20; value++) {
      upstream.push(value);
      await sleep(10);
    }
    expect(received.values).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });

  it('a member whose receiver is behind gets only the latest state once it can take one, and ends after it', async () => {
    const { upstream, joined } = await joinedMember(sharedGroups(), 0);
    let ready = true;
    const values: number[] = [];
    joined.attach({ ready: () => ready, write: (state) => values.push(JSON.parse(state.encoded.toString()) as number) });
    const ended = joined.next();
    ready = false;
    for (let value = 1; value <= 10; value++) {
      upstream.push(value);
      await sleep(5);
    }
    upstream.close(); // the source ends (a deleted batch) while the member still holds its latest
    await sleep(20);
    expect(values).toEqual([0]);
    ready = true;
    expect(await ended).toEqual({ value: undefined, done: true });
    expect(values).toEqual([0, 10]);
  });

  it('a member whose source ends before its transport attaches still gets the state it joined with, then ends', async () => {
    const { upstream, joined } = await joinedMember(sharedGroups(), 7);
    upstream.close(); // a deleted batch, right after joining
    await sleep(20);
    const values: number[] = [];
    joined.attach({ ready: () => true, write: (state) => values.push(JSON.parse(state.encoded.toString()) as number) });
    expect(await joined.next()).toEqual({ value: undefined, done: true });
    expect(values).toEqual([7]);
  });
});
