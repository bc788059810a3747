/**
 * Preloaded into a server under test (`node --import tsx --import bench/lib/memory-probe.ts …`, see
 * startServer's `preload`): prints `memory-probe {json}` lines to stderr, every
 * BENCH_MEMORY_PROBE_MS (default 1000) ms, and on SIGUSR2 after a full GC (with --expose-gc), so the
 * live heap can be told apart from garbage V8 has not collected yet. With BENCH_HEAPSNAPSHOT_DIR
 * set, SIGUSR2 also writes a heap snapshot there. Touches nothing else in the process.
 */
import v8 from 'node:v8';

const MB = 1024 * 1024;
const started = Date.now();

function report(kind: string): void {
  const m = process.memoryUsage();
  const heap = v8.getHeapSpaceStatistics();
  const space = (name: string) => Math.round((heap.find((s) => s.space_name === name)?.space_used_size ?? 0) / MB);
  const line = {
    kind,
    t: Math.round((Date.now() - started) / 100) / 10,
    rss: Math.round(m.rss / MB),
    heapTotal: Math.round(m.heapTotal / MB),
    heapUsed: Math.round(m.heapUsed / MB),
    external: Math.round(m.external / MB),
    arrayBuffers: Math.round(m.arrayBuffers / MB),
    newSpace: space('new_space'),
    oldSpace: space('old_space'),
    largeObjects: space('large_object_space'),
    code: space('code_space'),
  };
  process.stderr.write(`memory-probe ${JSON.stringify(line)}\n`);
}

const every = Number(process.env.BENCH_MEMORY_PROBE_MS ?? 1000);
if (every > 0) setInterval(() => report('tick'), every).unref();
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    report('after-gc');
  } else report('no-gc (run with --expose-gc)');
  const dir = process.env.BENCH_HEAPSNAPSHOT_DIR;
  if (dir)
    process.stderr.write(`memory-probe heap snapshot ${v8.writeHeapSnapshot(`${dir}/server-${process.pid}-${Date.now()}.heapsnapshot`)}\n`);
});
