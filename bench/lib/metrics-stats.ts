import type { Prng } from './prng.js';

/** The q-quantile of `values` by linear interpolation between closest ranks (numpy's default). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export const p50 = (values: number[]) => quantile(values, 0.5);
export const p95 = (values: number[]) => quantile(values, 0.95);

/** `k` distinct elements of `list`, uniformly (partial Fisher–Yates on a copy). */
export function sample<T>(list: readonly T[], k: number, rng: Prng): T[] {
  const copy = [...list];
  const n = Math.min(k, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(copy.length - i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

/** Relative difference |a − b| / max(|a|, |b|, tiny): how two computations of one figure agree. */
export function relativeDifference(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}
