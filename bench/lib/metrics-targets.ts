import type { Prng } from './prng.js';

/**
 * What a bench/metrics deployment predicts, per target type, derived from the regression
 * prediction v (≈ 100 + 25.3·N(0,1)) of a row of bench/lib/predictions-data.ts, so the rows (and
 * the client's cost per row) stay those of the pool:
 *
 * - REGRESSION: v + shift, shift = 5·b/batches (the prediction drifts over the batches);
 *   actual = prediction + N(0, 10²), rounded to 4 decimals;
 * - BINARY (classes no, yes; positive yes): p = σ(1.2·z − 0.3 + s), z = (v − 100)/25.3, s the
 *   drift level; actual = yes with probability p (a calibrated model: AUC ≈ 0.8);
 * - MULTICLASS (`classes` classes k0…): probabilities = softmax(−(z + s − c_j)²), centres c_j
 *   spread over [−2, 2]; actual drawn from the probabilities.
 *
 * Classification outputs use DRIFT_LEVELS levels of s (0 … 0.875), each formatted once per
 * distinct v and kept: formatting doubles per row would cost the client CPU the server needs.
 */
export type TargetType = 'REGRESSION' | 'BINARY' | 'MULTICLASS';
export const TARGET_TYPES: TargetType[] = ['REGRESSION', 'BINARY', 'MULTICLASS'];

export const DRIFT_LEVELS = 8;
export const BINARY_CLASSES = ['no', 'yes'];
export const POSITIVE_CLASS = 'yes';

export interface TargetSpec {
  type: TargetType;
  /** Classification: class names in the deployment's order. */
  classNames: string[] | null;
  positiveClass: string | null;
}

export function targetSpec(type: TargetType, classes: number): TargetSpec {
  if (type === 'BINARY') return { type, classNames: BINARY_CLASSES, positiveClass: POSITIVE_CLASS };
  if (type === 'MULTICLASS') return { type, classNames: Array.from({ length: classes }, (_, k) => `k${k}`), positiveClass: null };
  return { type, classNames: null, positiveClass: null };
}

/** One row's output: the NDJSON member(s) after the features, and the actual drawn for it. */
interface Output {
  /** `"prediction":…` or `"probabilities":[…]`. */
  json: string;
  /** Class probabilities (classification), to draw the actual from. */
  probabilities: number[] | null;
  prediction: number | null;
}

export class TargetOutputs {
  private readonly cache = new Map<string, Output[]>();

  constructor(readonly spec: TargetSpec) {}

  /** The output of the row whose pool prediction is `predictionText`, in batch `batch` of `batches`. */
  output(predictionText: string, batch: number, batches: number): Output {
    if (this.spec.type === 'REGRESSION') {
      const prediction = Number(predictionText) + (5 * batch) / batches;
      return { json: `"prediction":${prediction}`, probabilities: null, prediction };
    }
    let levels = this.cache.get(predictionText);
    if (!levels) {
      const z = (Number(predictionText) - 100) / 25.3;
      levels = Array.from({ length: DRIFT_LEVELS }, (_, level) => this.classify(z, level / DRIFT_LEVELS));
      this.cache.set(predictionText, levels);
    }
    return levels[Math.min(DRIFT_LEVELS - 1, Math.floor((DRIFT_LEVELS * batch) / batches))]!;
  }

  private classify(z: number, shift: number): Output {
    if (this.spec.type === 'BINARY') {
      const p = 1 / (1 + Math.exp(-(1.2 * z - 0.3 + shift)));
      return { json: `"prediction":${p}`, probabilities: [1 - p, p], prediction: p };
    }
    const k = this.spec.classNames!.length;
    const logits = Array.from({ length: k }, (_, j) => -((z + shift - (-2 + (4 * j) / (k - 1))) ** 2));
    const top = Math.max(...logits);
    const weights = logits.map((l) => Math.exp(l - top));
    const total = weights.reduce((a, b) => a + b, 0);
    const probabilities = weights.map((w) => w / total);
    return { json: `"probabilities":[${probabilities.join(',')}]`, probabilities, prediction: null };
  }

  /** The actual for a row with this output: a number (regression) or a class name. */
  actual(output: Output, rng: Prng): number | string {
    if (this.spec.type === 'REGRESSION') return Math.round((output.prediction! + 10 * rng.normal()) * 1e4) / 1e4;
    const classes = this.spec.classNames!;
    if (this.spec.type === 'BINARY') return rng.next() < output.prediction! ? POSITIVE_CLASS : classes[0]!;
    const u = rng.next();
    let seen = 0;
    const probabilities = output.probabilities!;
    for (let j = 0; j < probabilities.length; j++) {
      seen += probabilities[j]!;
      if (u < seen) return classes[j]!;
    }
    return classes.at(-1)!;
  }
}
