import fs from 'node:fs';
import type postgres from 'postgres';
import { machineCpuSeconds, readStat } from './cpu.js';

/**
 * CPU used by a whole PostgreSQL server (postmaster and every child, including parallel workers and
 * backends that start and exit in between), a set of other processes and this process, and what is
 * left of the machine's busy time for everything else ("other"): how far a timing can be trusted
 * on a shared machine. Local servers on Linux only.
 *
 * PostgreSQL's tree: the postmaster's own time plus its reaped children's (cutime + cstime), plus
 * the time of the children alive at the end; children alive at the start are counted from their
 * reading then.
 */

function childrenOf(ppid: number): Map<number, number> {
  const result = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === ppid) result.set(Number(entry), stat.own);
  }
  return result;
}

/** The postmaster's pid, from a backend's parent (null when PostgreSQL is not on this machine). */
export async function postmasterPid(sql: postgres.Sql): Promise<number | null> {
  const [{ pid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  const stat = readStat(pid);
  return stat ? stat.ppid : null;
}

function treeSeconds(postmaster: number): { total: number } {
  const root = readStat(postmaster);
  const children = childrenOf(postmaster);
  let total = root ? root.own + root.children : 0;
  for (const seconds of children.values()) total += seconds;
  return { total };
}

export class TreeCpuMeter {
  private readonly startTree: { total: number } | null;
  private readonly startOthers: Map<number, number>;
  private readonly clientBefore = process.cpuUsage();
  private readonly machineBefore = machineCpuSeconds();
  private readonly started = performance.now();

  constructor(
    private readonly postmaster: number | null,
    private readonly others: Record<string, number>,
  ) {
    this.startTree = postmaster === null ? null : treeSeconds(postmaster);
    this.startOthers = new Map(Object.values(others).map((pid) => [pid, readStat(pid)?.own ?? NaN]));
  }

  /** CPU seconds per group, `client`, `machine`, `other`, and `other_cores` (other ÷ wall seconds). */
  stop(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.others)) {
      const now = readStat(pid)?.own;
      result[name] = now === undefined ? NaN : round2(now - this.startOthers.get(pid)!);
    }
    if (this.postmaster !== null && this.startTree) {
      const end = treeSeconds(this.postmaster);
      // A child alive at both ends counts its time since the start; one that exited meanwhile is
      // in the postmaster's cutime with its whole life, less its start reading (in the start total):
      // its time since the start too. Children started meanwhile count whole, alive or reaped.
      result.postgres = round2(end.total - this.startTree.total);
    }
    const client = process.cpuUsage(this.clientBefore);
    result.client = round2((client.user + client.system) / 1e6);
    const machine = machineCpuSeconds();
    result.machine = round2(machine.busy - this.machineBefore.busy);
    const ours = Object.entries(result).reduce(
      (sum, [name, seconds]) => (name === 'machine' || !Number.isFinite(seconds) ? sum : sum + seconds),
      0,
    );
    result.other = round2(Math.max(0, result.machine - ours));
    result.other_cores = round2(result.other / ((performance.now() - this.started) / 1000));
    return result;
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;
