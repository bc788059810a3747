import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Viewer } from '../../src/context.js';
import type { Db } from '../../src/db/client.js';
import * as tables from '../../src/db/tables.js';
import { isError } from '../../src/errors.js';
import { currentBaseline } from '../../src/modules/baselines/current.js';
import { getDeployment } from '../../src/modules/deployments/service.js';
import { accuracyShape, driftShape, serviceShape } from '../../src/modules/metrics/shapes.js';
import { accuracySums, columnSums, resolveSelection, serviceSums } from '../../src/modules/metrics/sums.js';
import type { FieldName, Selection } from './metrics-graphql.js';
import { p50 } from './metrics-stats.js';

/**
 * Where the time of one monitoring answer goes, measured in this process against the same
 * database: the resolver's steps called directly (the same src/ functions the GraphQL resolvers
 * call: deployment lookup, resolveSelection, the *Sums reads, the shape), then each SQL statement
 * they sent re-run alone with its parameters, and EXPLAIN ANALYZE of it. GraphQL end-to-end minus
 * these = HTTP, auth, GraphQL parse/validate/execute and JSON.
 */

export interface CapturedStatement {
  query: string;
  params: unknown[];
}

export interface StepTimes {
  deploymentMs: number;
  selectionMs: number;
  sumsMs: number;
  shapeMs: number;
  totalMs: number;
}

export interface StatementTiming {
  /** First 160 characters of the statement, whitespace collapsed. */
  sql: string;
  params: number;
  /** Client round trip of the statement alone, p50 over the runs. */
  p50Ms: number;
  /** EXPLAIN (ANALYZE) of one run. */
  planningMs: number;
  executionMs: number;
  plan?: string;
}

export class InProcessMetrics {
  private readonly sql: postgres.Sql;
  private readonly db: Db;
  private captured: CapturedStatement[] | null = null;
  private readonly viewer: Viewer;

  constructor(databaseUrl: string, organizationId: string) {
    this.sql = postgres(databaseUrl, {
      max: 10,
      onnotice: () => {},
      transform: { undefined: null },
      debug: (_connection, query, parameters) => {
        this.captured?.push({ query, params: [...(parameters as unknown[])] });
      },
    });
    this.db = drizzle(this.sql, { schema: tables });
    this.viewer = { userId: 'bench', organizationId, role: 'ADMIN', isServerAdmin: false, tokenId: 'bench' };
  }

  /** One answer computed as the resolver does, step by step. */
  async answer(metric: FieldName, deploymentId: string, input: Selection): Promise<StepTimes> {
    const t0 = performance.now();
    const deployment = await getDeployment(this.db, this.viewer, deploymentId);
    if (isError(deployment)) throw new Error(`deployment ${deploymentId}: ${deployment.message}`);
    const t1 = performance.now();
    const selection = await resolveSelection(this.db, this.viewer, deploymentId, input);
    if (isError(selection)) throw new Error(`selection: ${selection.message}`);
    const t2 = performance.now();
    let shape: () => unknown;
    if (metric === 'serviceHealth') {
      const sums = await serviceSums(this.db, selection, false);
      shape = () => serviceShape(sums.get(''), selection.batchIds.length);
    } else if (metric === 'dataDrift') {
      const [baseline, sums] = await Promise.all([currentBaseline(this.db, deployment), columnSums(this.db, selection, false)]);
      shape = () => driftShape(deployment, baseline, sums.get(''), 'PSI', selection.batchIds.length);
    } else {
      const sums = await accuracySums(this.db, selection, false);
      shape = () => accuracyShape(deployment, sums.get(''), selection.batchIds.length);
    }
    const t3 = performance.now();
    JSON.stringify(shape());
    const t4 = performance.now();
    return { deploymentMs: t1 - t0, selectionMs: t2 - t1, sumsMs: t3 - t2, shapeMs: t4 - t3, totalMs: t4 - t0 };
  }

  /** The statements one answer sends. */
  async statementsOf(metric: FieldName, deploymentId: string, input: Selection): Promise<CapturedStatement[]> {
    this.captured = [];
    try {
      await this.answer(metric, deploymentId, input);
      return this.captured;
    } finally {
      this.captured = null;
    }
  }

  /** Each statement alone: p50 of `runs` round trips, and one EXPLAIN ANALYZE. */
  async timeStatements(statements: CapturedStatement[], runs: number, withPlan: boolean): Promise<StatementTiming[]> {
    const result: StatementTiming[] = [];
    for (const { query, params } of statements) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await this.sql.unsafe(query, params as never[]);
        times.push(performance.now() - t0);
      }
      const [row] = await this.sql.unsafe<{ 'QUERY PLAN': [{ 'Planning Time': number; 'Execution Time': number; Plan: unknown }] }[]>(
        `explain (analyze, buffers, format json) ${query}`,
        params as never[],
      );
      const explained = row!['QUERY PLAN'][0];
      let plan: string | undefined;
      if (withPlan) {
        const text = await this.sql.unsafe<{ 'QUERY PLAN': string }[]>(`explain (analyze, buffers) ${query}`, params as never[]);
        plan = text.map((line) => line['QUERY PLAN']).join('\n');
      }
      result.push({
        sql: query.replace(/\s+/g, ' ').slice(0, 160),
        params: params.length,
        p50Ms: p50(times),
        planningMs: explained['Planning Time'],
        executionMs: explained['Execution Time'],
        ...(plan ? { plan } : {}),
      });
    }
    return result;
  }

  close(): Promise<void> {
    return this.sql.end({ timeout: 5 });
  }
}
