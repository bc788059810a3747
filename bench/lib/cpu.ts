import fs from 'node:fs';
import type postgres from 'postgres';

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on Linux everywhere that matters). */
const TICKS = 100;

export interface ProcStat {
  ppid: number;
  /** utime + stime, seconds. */
  own: number;
  /** cutime + cstime (reaped children), seconds. */
  children: number;
}

/** A process's parent and CPU seconds from /proc/<pid>/stat, or null if it is gone (or not on this machine). */
export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces; fields after the closing parenthesis are fixed:
  // state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    ppid: Number(fields[1]),
    own: (Number(fields[11]) + Number(fields[12])) / TICKS,
    children: (Number(fields[13]) + Number(fields[14])) / TICKS,
  };
}

/** User + system CPU seconds a process has used, or null if it is gone (or not on this machine). */
export function processCpuSeconds(pid: number): number | null {
  return readStat(pid)?.own ?? null;
}

/** Busy and total CPU seconds of the whole machine since boot (/proc/stat), summed over cores. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle, iowait
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0); // without guest time, which is counted in user
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

/** PostgreSQL's server processes (backends and background workers) as it lists them; local servers only. */
export async function postgresPids(sql: postgres.Sql): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity`;
  return rows.map((row) => row.pid).filter((pid) => fs.existsSync(`/proc/${pid}`));
}

/**
 * CPU seconds used by groups of processes between construction and stop(). Processes that start
 * in between are not counted (take the snapshot once connections exist); processes that exit are
 * counted up to their last reading at stop (i.e. not at all) — keep groups to long-lived processes.
 */
export class CpuMeter {
  private readonly before = new Map<number, number>();
  private readonly clientBefore = process.cpuUsage();
  private readonly machineBefore = machineCpuSeconds();

  constructor(private readonly groups: Record<string, number[]>) {
    for (const pids of Object.values(groups)) for (const pid of pids) this.before.set(pid, processCpuSeconds(pid) ?? NaN);
  }

  /**
   * Seconds per group, plus `client` (this process), `machine` (every core's busy time) and `other`:
   * machine minus all of these — CPU taken by processes outside the benchmark, which on a shared
   * machine says how far to trust a run.
   */
  stop(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [group, pids] of Object.entries(this.groups)) {
      let total = 0;
      for (const pid of pids) {
        const now = processCpuSeconds(pid);
        const before = this.before.get(pid)!;
        if (now !== null && Number.isFinite(before)) total += now - before;
      }
      result[group] = Math.round(total * 100) / 100;
    }
    const client = process.cpuUsage(this.clientBefore);
    result.client = Math.round((client.user + client.system) / 1e4) / 100;
    const machine = machineCpuSeconds();
    result.machine = Math.round((machine.busy - this.machineBefore.busy) * 100) / 100;
    const ours = Object.entries(result).reduce((sum, [group, seconds]) => (group === 'machine' ? sum : sum + seconds), 0);
    result.other = Math.round(Math.max(0, result.machine - ours) * 100) / 100;
    return result;
  }
}

/**
 * On a shared machine: waits until processes outside the benchmark use less than `maxCores` cores
 * (measured over `windowMs` while the benchmark itself is idle), up to `timeoutMs`. Returns the last
 * measured load in cores and whether it was quiet.
 */
export async function waitForQuiet(
  options: { maxCores?: number; windowMs?: number; timeoutMs?: number; onWait?: (cores: number) => void } = {},
): Promise<{ cores: number; quiet: boolean }> {
  const maxCores = options.maxCores ?? 0.2;
  const windowMs = options.windowMs ?? 2000;
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  let reported = false;
  for (;;) {
    const before = machineCpuSeconds().busy;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const cores = Math.round(((machineCpuSeconds().busy - before) / (windowMs / 1000)) * 100) / 100;
    if (cores <= maxCores) return { cores, quiet: true };
    if (Date.now() >= deadline) return { cores, quiet: false };
    if (!reported) options.onWait?.(cores);
    reported = true;
  }
}
