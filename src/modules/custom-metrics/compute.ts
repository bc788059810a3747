import type { CustomMetric } from '../../db/tables.js';

// Pure math of custom metric values: merging stored per-batch aggregates and reading a value from
// them. The same for one batch, a selection of batches, one model or all of them.

/** A merge of stored aggregate rows (batch_custom_metric_values) of one metric. */
export interface MetricSums {
  bucketCount: number;
  sampleCount: number;
  /** sum: Σ value; average: Σ value·sampleSize. */
  valueSum: number;
  min: number;
  max: number;
  /** The value of the bucket with the latest timestamp. */
  gaugeValue: number;
  gaugeAt: Date;
}

/**
 * Merges sums, in order: a later entry's gauge wins a tie of timestamps (so, with batches in batch
 * order, the newer batch's).
 */
export function mergeSums(list: readonly (MetricSums | null | undefined)[]): MetricSums | null {
  let merged: MetricSums | null = null;
  for (const sums of list) {
    if (!sums) continue;
    if (!merged) {
      merged = { ...sums };
      continue;
    }
    merged.bucketCount += sums.bucketCount;
    merged.sampleCount += sums.sampleCount;
    merged.valueSum += sums.valueSum;
    merged.min = Math.min(merged.min, sums.min);
    merged.max = Math.max(merged.max, sums.max);
    if (sums.gaugeAt.getTime() >= merged.gaugeAt.getTime()) {
      merged.gaugeValue = sums.gaugeValue;
      merged.gaugeAt = sums.gaugeAt;
    }
  }
  return merged;
}

/** sum: Σ value; average: Σ value·sampleSize ÷ Σ sampleSize; gauge: the latest value. null without values. */
export function metricValue(type: CustomMetric['type'], sums: MetricSums | null): number | null {
  if (!sums || sums.bucketCount === 0) return null;
  switch (type) {
    case 'sum':
      return sums.valueSum;
    case 'average':
      return sums.valueSum / sums.sampleCount;
    case 'gauge':
      return sums.gaugeValue;
  }
}

/** (value − baseline) ÷ |baseline| · 100; null without a value or a baseline, or for a baseline of 0. */
export function percentChange(value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || baseline === 0) return null;
  return ((value - baseline) / Math.abs(baseline)) * 100;
}

export type Change = 'BETTER' | 'WORSE' | 'SAME' | 'UNKNOWN';

/** The value against the baseline, judged by the metric's directionality. */
export function judgeChange(value: number | null, baseline: number | null, directionality: CustomMetric['directionality']): Change {
  if (value === null || baseline === null) return 'UNKNOWN';
  if (value === baseline) return 'SAME';
  return value > baseline === (directionality === 'higherIsBetter') ? 'BETTER' : 'WORSE';
}

/** What every answer about a metric's value shows, from its sums. */
export interface MetricReading {
  value: number | null;
  sampleCount: number;
  bucketCount: number;
  min: number | null;
  max: number | null;
  baselineValue: number | null;
  percentChange: number | null;
  change: Change;
}

export function readMetric(metric: CustomMetric, sums: MetricSums | null): MetricReading {
  const value = metricValue(metric.type, sums);
  return {
    value,
    sampleCount: sums?.sampleCount ?? 0,
    bucketCount: sums?.bucketCount ?? 0,
    min: sums?.min ?? null,
    max: sums?.max ?? null,
    baselineValue: metric.baselineValue,
    percentChange: percentChange(value, metric.baselineValue),
    change: judgeChange(value, metric.baselineValue, metric.directionality),
  };
}
