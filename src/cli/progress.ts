import cliProgress from 'cli-progress';

// Progress on stderr: a cli-progress bar in a terminal; elsewhere (a pipe, a log file) a plain line
// when the phase changes and now and then while it lasts.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressState {
  /** One bar per stage in a terminal ("upload", "job"); the phase is its label. */
  stage: string;
  /** What is going on: "uploading", "RUNNING", "downloading" … (a plain line when it changes). */
  phase: string;
  /** 0–100. */
  percent: number;
  detail: string;
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private lastPlainAt = 0;
  private lastPlain = '';
  private lastPhase = '';
  private lastStage = '';

  constructor(
    private readonly stream: ProgressStream,
    /** How often (at most) a plain line repeats a phase's progress. */
    private readonly plainEveryMs = 2000,
  ) {}

  get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** A message on its own line (ends the bar of the phase before it). */
  line(text: string): void {
    this.stop();
    this.stream.write(`${text}\n`);
  }

  update(state: ProgressState): void {
    const percent = Math.max(0, Math.min(100, state.percent));
    const changed = state.phase !== this.lastPhase;
    const newStage = state.stage !== this.lastStage;
    this.lastPhase = state.phase;
    this.lastStage = state.stage;
    if (this.tty) {
      const payload = { phase: state.phase.padEnd(12), detail: state.detail };
      if (this.bar && newStage) this.stop();
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          {
            stream: this.stream as NodeJS.WritableStream,
            format: '{phase} |{bar}| {percentage}% | {detail}',
            barCompleteChar: '\u2588',
            barIncompleteChar: '\u2591',
            hideCursor: true,
            clearOnComplete: false,
            barsize: 30,
          },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(100, percent, payload);
      } else {
        this.bar.update(percent, payload);
      }
      return;
    }
    const text = `${state.phase} ${formatPercent(percent)}% ${state.detail}`;
    const now = Date.now();
    if (text !== this.lastPlain && (changed || now - this.lastPlainAt >= this.plainEveryMs)) {
      this.stream.write(`${text}\n`);
      this.lastPlain = text;
      this.lastPlainAt = now;
    }
  }

  /** Ends the bar (leaving its last state on screen) and restores the cursor. */
  stop(): void {
    if (!this.bar) return;
    this.bar.stop();
    this.bar = null;
  }
}

const formatPercent = (percent: number) => (Number.isInteger(percent) ? String(percent) : percent.toFixed(1));

/** 1234567 → "1.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
