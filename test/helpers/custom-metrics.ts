import { expect } from 'vitest';
import {
  CreateCustomMetricDocument,
  type CreateCustomMetricInput,
  type CustomMetricBucketInput,
  ReportCustomMetricValuesDocument,
} from '../generated/graphql.js';
import { type Endpoint, runOperation } from './graphql.js';
import type { RestAnswer, TestServer } from './server.js';

// Custom metrics (C8): their REST routes, fixtures, and the values a list of raw buckets must give,
// computed here the plain way (every bucket kept) to check the server's merged aggregates against.

const api = (deploymentId: string) => `/api/v2/deployments/${deploymentId}`;
export const customMetricsPath = (deploymentId: string) => `${api(deploymentId)}/customMetrics/`;
export const customMetricPath = (deploymentId: string, metricId: string) => `${customMetricsPath(deploymentId)}${metricId}/`;
export const fromJsonPath = (deploymentId: string, metricId: string) => `${customMetricPath(deploymentId, metricId)}fromJSON/`;
export const batchSummaryPath = (deploymentId: string, metricId: string, query = '') =>
  `${customMetricPath(deploymentId, metricId)}batchSummary/${query}`;
export const valuesOverBatchPath = (deploymentId: string, metricId: string, query = '') =>
  `${customMetricPath(deploymentId, metricId)}valuesOverBatch/${query}`;

/** A well-formed id nobody has, and what REST answers for it (a foreign id must answer the same). */
export const MISSING_METRIC = 'cm_000000000000000000000000';
export const METRIC_NOT_FOUND = { message: 'Custom metric not found' };

/** `?batchId=a&batchId=b…` plus other parameters. */
export function selectionQuery(batchIds: string[], extra: Record<string, string> = {}): string {
  const query = new URLSearchParams();
  for (const id of batchIds) query.append('batchId', id);
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  const text = query.toString();
  return text ? `?${text}` : '';
}

/** A custom metric as the REST routes answer it (DataRobot's names). */
export interface RestMetric {
  id: string;
  deploymentId: string;
  name: string;
  units: string;
  baselineValues: { value: number }[];
  isModelSpecific: boolean;
  type: 'average' | 'sum' | 'gauge';
  directionality: 'higherIsBetter' | 'lowerIsBetter';
  timeStep: string;
  description: string;
  isGeospatial: boolean;
  createdAt: string;
  createdBy: { id: string };
}

export interface RestBatchSummary {
  metric: {
    id: string;
    name: string;
    value: number | null;
    sampleCount: number;
    baselineValue: number | null;
    percentChange: number | null;
  };
  batchCount: number;
}

export interface RestValuesOverBatch {
  buckets: {
    batch: { id: string; name: string; createdAt: string; lastPredictionTimestamp?: string };
    value: number | null;
    sampleSize: number;
  }[];
  metric: RestMetric;
}

export interface RestMetricPage {
  count: number;
  totalCount: number;
  next: string | null;
  previous: string | null;
  data: RestMetric[];
}

/** The JSON of an answer, as the shape its route answers with. */
export const bodyOf = <T>(answer: RestAnswer): T => answer.json as unknown as T;

/** DataRobot's create body with these fields (a sum metric of the deployment, by default). */
export function metricBody(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `metric ${Math.random().toString(36).slice(2, 10)}`,
    units: 'dollars',
    baselineValues: [],
    isModelSpecific: false,
    type: 'sum',
    directionality: 'higherIsBetter',
    timeStep: 'hour',
    description: '',
    ...fields,
  };
}

/** POST …/customMetrics/ (asserting the 201); the metric's JSON. */
export async function createRestMetric(
  server: TestServer,
  deploymentId: string,
  fields: Record<string, unknown> = {},
  token = server.adminToken,
) {
  const answer = await server.rest('POST', customMetricsPath(deploymentId), { token, body: metricBody(fields) });
  expect(answer.status, JSON.stringify(answer.json)).toBe(201);
  return bodyOf<RestMetric>(answer);
}

/** createCustomMetric over GraphQL (a SUM metric of the deployment unless overridden), asserting success. */
export async function createMetric(
  server: Endpoint,
  deploymentId: string,
  input: Partial<CreateCustomMetricInput> = {},
  token = server.adminToken,
) {
  const data = await runOperation(
    server,
    CreateCustomMetricDocument,
    {
      input: {
        deploymentId,
        name: `metric ${Math.random().toString(36).slice(2, 10)}`,
        units: 'count',
        type: 'SUM',
        directionality: 'HIGHER_IS_BETTER',
        isModelSpecific: false,
        ...input,
      },
    },
    token,
  );
  if (data.createCustomMetric.__typename !== 'CreateCustomMetricSuccess') throw new Error(JSON.stringify(data));
  return data.createCustomMetric.customMetric;
}

/** reportCustomMetricValues over GraphQL, asserting success; its summary. */
export async function report(
  server: Endpoint,
  metricId: string,
  buckets: CustomMetricBucketInput[],
  options: { modelId?: string; dryRun?: boolean; token?: string } = {},
) {
  const { token = server.adminToken, ...rest } = options;
  const data = await runOperation(server, ReportCustomMetricValuesDocument, { input: { metricId, buckets, ...rest } }, token);
  const result = data.reportCustomMetricValues;
  if (result.__typename !== 'ReportCustomMetricValuesSuccess') throw new Error(JSON.stringify(result));
  return result;
}

/** POST …/fromJSON/ with a JSON body. */
export function postValues(server: TestServer, deploymentId: string, metricId: string, body: unknown, token = server.adminToken) {
  return server.rest('POST', fromJsonPath(deploymentId, metricId), { token, body });
}

/** The aggregate rows stored for a metric (behind the API), ordered by batch and model. */
export async function storedValues(server: TestServer, metricId: string) {
  return server.sql<
    { batch_id: string; model_id: string; bucket_count: number; sample_size: number; value_sum: number; gauge_value: number }[]
  >`select batch_id, model_id, bucket_count::int, sample_size::int, value_sum, gauge_value
      from batch_custom_metric_values where metric_id = ${metricId} order by batch_id, model_id`;
}

/** A bucket as the test sends it: GraphQL's batchId; converted for REST by `wireBucket`. */
export interface RawBucket {
  value: number;
  sampleSize?: number;
  /** ISO; default: the time of the request. */
  timestamp?: string;
  batchId: string;
}

export const wireBucket = ({ batchId, ...bucket }: RawBucket) => ({ ...bucket, batch: batchId });

export interface Expected {
  value: number | null;
  sampleCount: number;
  bucketCount: number;
  min: number | null;
  max: number | null;
}

/**
 * What a metric of `type` reads for these buckets, given in the order they were reported, from the
 * raw buckets: sum Σ value; average Σ value·sampleSize ÷ Σ sampleSize; gauge the value with the latest
 * timestamp (of equal ones, the bucket reported later). Tests give distinct timestamps wherever
 * buckets of different batches are merged.
 */
export function expected(type: 'SUM' | 'AVERAGE' | 'GAUGE', buckets: RawBucket[]): Expected {
  if (!buckets.length) return { value: null, sampleCount: 0, bucketCount: 0, min: null, max: null };
  const size = (b: RawBucket) => b.sampleSize ?? 1;
  const sampleCount = buckets.reduce((n, b) => n + size(b), 0);
  let value: number;
  if (type === 'SUM') value = buckets.reduce((s, b) => s + b.value, 0);
  else if (type === 'AVERAGE') value = buckets.reduce((s, b) => s + b.value * size(b), 0) / sampleCount;
  else {
    let latest = buckets[0]!;
    for (const b of buckets) if (Date.parse(b.timestamp!) >= Date.parse(latest.timestamp!)) latest = b;
    value = latest.value;
  }
  const values = buckets.map((b) => b.value);
  return { value, sampleCount, bucketCount: buckets.length, min: Math.min(...values), max: Math.max(...values) };
}

/** Compares a reading with what the raw buckets give (sums of floats: to 9 digits). */
export function expectReading(
  actual: { value?: number | null; sampleCount: number; bucketCount?: number; min?: number | null; max?: number | null },
  want: Expected,
) {
  if (want.value === null) expect(actual.value).toBeNull();
  else expect(actual.value).toBeCloseTo(want.value, 9);
  expect(actual.sampleCount).toBe(want.sampleCount);
  if (actual.bucketCount !== undefined) expect(actual.bucketCount).toBe(want.bucketCount);
  if (actual.min !== undefined) expect(actual.min).toBe(want.min);
  if (actual.max !== undefined) expect(actual.max).toBe(want.max);
}

/** Random buckets into the batches, with distinct timestamps an hour apart from `start`. */
export function randomBuckets(next: () => number, batchIds: string[], count: number, start = Date.UTC(2026, 0, 1)): RawBucket[] {
  return Array.from({ length: count }, (_, i) => ({
    value: Math.round((next() * 200 - 50) * 1000) / 1000,
    sampleSize: 1 + Math.floor(next() * 20),
    timestamp: new Date(start + i * 3_600_000).toISOString(),
    batchId: batchIds[Math.floor(next() * batchIds.length)]!,
  }));
}
