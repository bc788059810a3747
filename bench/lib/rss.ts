import fs from 'node:fs';

/** Resident memory of a process from /proc/<pid>/status: current (VmRSS) and peak since start (VmHWM), in bytes. */
export function readMemory(pid: number): { rss: number; hwm: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null; // gone
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

export const mb = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;

export interface RssSummary {
  /** Highest VmRSS seen by the sampler, in bytes. */
  peakSampled: number;
  /** VmHWM when the sampler stopped: the kernel's peak since the process started (covers spikes between samples). */
  hwm: number;
  /** VmRSS when sampling started and stopped. */
  first: number;
  last: number;
  samples: number;
  /** [ms since start, VmRSS bytes] every sample, for plots or a closer look. */
  series: [number, number][];
}

/**
 * Samples a process's VmRSS every `intervalMs` (default 100 ms) until stop(). Use a process started
 * for the measurement, so that VmHWM (peak since start) means the same as the sampled peak.
 */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();
  private readonly series: [number, number][] = [];
  private peak = 0;
  private first = 0;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.first = this.peak;
    this.timer = setInterval(() => this.sample(), intervalMs).unref();
  }

  private sample(): void {
    const memory = readMemory(this.pid);
    if (!memory) return;
    this.series.push([Date.now() - this.started, memory.rss]);
    if (memory.rss > this.peak) this.peak = memory.rss;
  }

  /** The highest VmRSS so far, in bytes. */
  get currentPeak(): number {
    return this.peak;
  }

  stop(): RssSummary {
    clearInterval(this.timer);
    this.sample();
    const memory = readMemory(this.pid);
    return {
      peakSampled: this.peak,
      hwm: memory?.hwm ?? NaN,
      first: this.first,
      last: memory?.rss ?? NaN,
      samples: this.series.length,
      series: this.series,
    };
  }
}
