/** Progress lines go to stdout with a time stamp; the last line of a benchmark is its JSON (printResult). */
const started = Date.now();

export function progress(message: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(7);
  console.log(`[${s}s] ${message}`);
}

export function printResult(result: Record<string, unknown>): void {
  console.log(JSON.stringify(result));
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const round = (value: number, digits = 0) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/**
 * A benchmark's entry point: runs `main`, reports an error through the exit code, always runs
 * `cleanup`, then exits (nothing left running should keep the process alive).
 */
export async function runBenchmark(main: () => Promise<void>, cleanup: () => Promise<void>): Promise<never> {
  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
  process.exit();
}

/** Runs `cleanup` once on normal completion, on an error and on Ctrl-C / SIGTERM. */
export function onShutdown(cleanup: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const run = () => (done ??= cleanup().catch((error: unknown) => console.error('cleanup failed:', error)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: cleaning up`);
      void run().then(() => process.exit(130));
    });
  }
  return run;
}
