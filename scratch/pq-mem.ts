import { exportPlan } from '../src/modules/exports/columns.js';
import { parquetChunks } from '../src/modules/exports/parquet.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const GROUP = Number(process.argv[3] ?? 100_000);
const features = [
  ...Array.from({ length: 15 }, (_, i) => ({ name: `n${i}`, type: 'NUMERIC' as const, importance: 1 })),
  ...Array.from({ length: 5 }, (_, i) => ({ name: `c${i}`, type: 'CATEGORICAL' as const, importance: 1 })),
];
const plan = exportPlan({ features, targetType: 'REGRESSION', classNames: null } as never, false);
const batch = { id: 'mb_0123456789abcdef01234567', name: 'bench batch 1', rowCount: ROWS };
const snapshot = {
  async *values(_plan: unknown, n: number) {
    for (let s = 0; s < ROWS; s += n) {
      const rows: unknown[][] = [];
      for (let i = s; i < Math.min(ROWS, s + n); i++) {
        const r: unknown[] = ['model_abc', 1.7e12 + i, `assoc-${i}-xxxxxxxx`];
        for (let f = 0; f < 15; f++) r.push(i % 10 === f ? null : Math.random() * 1000);
        for (let f = 0; f < 5; f++) r.push(i % 7 === f ? null : `category-${(i * (f + 3)) % (12 * (f + 1))}`);
        r.push(Math.random());
        rows.push(r);
      }
      yield { batch, rows };
    }
  },
};
let peak = 0;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const t = performance.now();
let bytes = 0;
for await (const chunk of parquetChunks(snapshot as never, plan, GROUP)) bytes += chunk.length;
clearInterval(timer);
console.log(
  JSON.stringify({
    rows: ROWS,
    group: GROUP,
    ms: Math.round(performance.now() - t),
    bytes,
    peakMb: Math.round(process.resourceUsage().maxRSS / 1024),
    rowsPerS: Math.round(ROWS / ((performance.now() - t) / 1000)),
  }),
);
