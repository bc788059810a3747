import type postgres from 'postgres';
import type { BaselineColumn, BaselineColumns } from '../../src/db/tables.js';
import type { FieldName, Selection } from './metrics-graphql.js';
import type { TargetType } from './metrics-targets.js';

/**
 * The raw-scan baseline of bench/metrics: the same quantities as serviceHealth, dataDrift and
 * accuracy, computed by one SQL statement each over the `predictions` rows of the selected
 * batches (found through predictions_batch_idx on batch_key = monitoring_batches.key), as one
 * would without per-batch aggregates. It reads the stored columns themselves (features at their
 * place in numeric_features / categorical_features, by the deployment's declaration order), not
 * the prediction_rows view, whose joins would make the baseline slower than a raw scan is.
 * Written independently of src/ (bins in SQL, PSI here) so it also checks the server's answers.
 *
 * - service: count(*), avg(prediction), min/max(timestamp) over the rows — what of service health
 *   the rows hold (execution times and error flags are request statistics, not in the rows);
 * - drift: every feature and the prediction binned in one pass (width_bucket over the baseline
 *   edges; categorical: position among the baseline's values, else "other"; null → missing),
 *   counted per (column, bin); PSI per column from those counts (zero shares → 0.0001);
 * - accuracy: predictions joined to actuals on the deployment and the association id (stored as
 *   association_uuid or association_text; actuals keep it as text); regression: RMSE,
 *   MAE, R², MAPE from the sums; binary: log loss (p clipped to [1e-15, 1 − 1e-15]), the confusion
 *   counts at the deployment's threshold (accuracy, TPR, PPV, F1) and the positives / negatives per
 *   probability bin (floor(p·1000), the last bin closed) for the ROC AUC (ties within a bin count
 *   half); multiclass: log loss of the actual class's probability, accuracy (predicted = actual).
 */

const ZERO_SHARE = 0.0001;

/** The selection as a CTE `sel(key)` of live batches of the deployment ($1), ids in $2 when given. */
function selectionCte(selection: Selection): { cte: string; params: (deploymentId: string) => unknown[] } {
  if ('last' in selection) {
    return {
      cte: `sel as (select key from monitoring_batches where deployment_id = $1 and deleted_at is null order by created_at desc, id desc limit ${Number(selection.last)})`,
      params: (deploymentId) => [deploymentId],
    };
  }
  return {
    cte: `sel as (select key from monitoring_batches where deployment_id = $1 and deleted_at is null and id = any($2::text[]))`,
    params: (deploymentId) => [deploymentId, selection.batchIds],
  };
}

const float8Array = (values: number[]) => `'{${values.map((v) => String(v)).join(',')}}'::float8[]`;
const textLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;
const textArray = (values: string[]) => `array[${values.map(textLiteral).join(',')}]::text[]`;

/** SQL for a column's bin index (as the baseline's bins: value bins, [other,] missing last). */
function binExpression(column: BaselineColumn, value: string): string {
  if (column.kind === 'numeric') {
    const missing = column.edges.length + 1;
    return `case when ${value} is null then ${missing} else width_bucket((${value})::float8, ${float8Array(column.edges)}) end`;
  }
  const other = column.values.length;
  return `case when ${value} is null then ${other + 1} else coalesce(array_position(${textArray(column.values)}, ${value}) - 1, ${other}) end`;
}

export interface RawDrift {
  /** Column name ('' for the prediction) → counts per bin and PSI against the baseline. */
  columns: Map<string, { counts: number[]; psi: number | null; sampleSize: number }>;
}

export interface RawService {
  rows: number;
  meanPrediction: number | null;
}

export interface RawAccuracy {
  count: number;
  logLoss: number | null;
  auc: number | null;
  accuracy: number | null;
  f1: number | null;
  tpr: number | null;
  ppv: number | null;
  rmse: number | null;
  mae: number | null;
  r2: number | null;
  mape: number | null;
}

const NO_ACCURACY: RawAccuracy = {
  count: 0,
  logLoss: null,
  auc: null,
  accuracy: null,
  f1: null,
  tpr: null,
  ppv: null,
  rmse: null,
  mae: null,
  r2: null,
  mape: null,
};

/** ROC AUC from positives / negatives per bin, bins in increasing score; ties within a bin count half. */
function binnedAuc(positives: Map<number, number>, negatives: Map<number, number>): number | null {
  const bins = [...new Set([...positives.keys(), ...negatives.keys()])].sort((a, b) => a - b);
  let p = 0;
  let n = 0;
  for (const bin of bins) {
    p += positives.get(bin) ?? 0;
    n += negatives.get(bin) ?? 0;
  }
  if (p === 0 || n === 0) return null;
  // Pairs (positive, negative) with the positive in a higher bin, plus half of those in the same bin.
  let negativesBelow = 0;
  let pairs = 0;
  for (const bin of bins) {
    const pos = positives.get(bin) ?? 0;
    const neg = negatives.get(bin) ?? 0;
    pairs += pos * (negativesBelow + neg / 2);
    negativesBelow += neg;
  }
  return pairs / (p * n);
}

export function psi(baseline: number[], current: number[]): number | null {
  const total = (c: number[]) => c.reduce((a, b) => a + b, 0);
  const e = total(baseline);
  const a = total(current);
  if (e === 0 || a === 0) return null;
  let score = 0;
  for (let i = 0; i < baseline.length; i++) {
    const x = current[i]! / a || ZERO_SHARE;
    const y = baseline[i]! / e || ZERO_SHARE;
    score += (x - y) * Math.log(x / y);
  }
  return score;
}

/** The stored place of each declared feature: SQL over the prediction row `p`, by name. */
function featureColumns(features: { name: string; type: string }[]): Map<string, string> {
  const columns = new Map<string, string>();
  let numeric = 0;
  let categorical = 0;
  for (const feature of features) {
    // float8[] subscripts start at 1, jsonb array positions at 0.
    columns.set(
      feature.name,
      feature.type === 'NUMERIC' ? `p.numeric_features[${++numeric}]` : `(p.categorical_features->>${categorical++})`,
    );
  }
  return columns;
}

/** The association id of the prediction row `p` as the text actuals are keyed by. */
const ASSOCIATION_ID = 'coalesce(p.association_text, p.association_uuid::text)';

interface DeploymentTarget {
  type: TargetType;
  classNames: string[] | null;
  positiveClass: string | null;
  threshold: number;
}

export class RawScan {
  constructor(
    private readonly sql: postgres.Sql,
    private readonly deploymentId: string,
    private readonly deploymentKey: number,
    private readonly features: Map<string, string>,
    private readonly baseline: BaselineColumns,
    private readonly target: DeploymentTarget,
  ) {}

  static async forDeployment(sql: postgres.Sql, deploymentId: string): Promise<RawScan> {
    const [row] = await sql<
      {
        columns: BaselineColumns;
        target_type: TargetType;
        class_names: string[] | null;
        positive_class: string | null;
        threshold: number;
        key: number;
        features: { name: string; type: string }[];
      }[]
    >`
      select b.columns, d.target_type, d.class_names, d.positive_class, d.prediction_threshold as threshold, d.key, d.features
      from training_baselines b join deployments d on d.id = b.deployment_id and d.baseline_version = b.version
      where d.id = ${deploymentId}`;
    if (!row) throw new Error(`deployment ${deploymentId} has no training baseline`);
    return new RawScan(sql, deploymentId, Number(row.key), featureColumns(row.features), row.columns, {
      type: row.target_type,
      classNames: row.class_names,
      positiveClass: row.positive_class,
      threshold: Number(row.threshold),
    });
  }

  /** The most bins of any column of the baseline. */
  get maxBins(): number {
    const columns = [...this.baseline.features, ...(this.baseline.prediction ? [this.baseline.prediction] : [])];
    return Math.max(...columns.map((c) => (c.kind === 'numeric' ? c.edges.length + 2 : c.values.length + 2)));
  }

  /** The statement and its parameters for one metric over one selection (also for EXPLAIN). */
  statement(metric: FieldName, selection: Selection): { text: string; params: unknown[] } {
    const { cte, params } = selectionCte(selection);
    // = any(array(…)): the planner sees a list of ids and walks predictions_batch_idx per batch (with
    // `in (select …)` it estimated the LIMIT subquery badly for `last` and scanned far more rows).
    const where = `p.deployment_key = ${this.deploymentKey} and p.batch_key = any(array(select key from sel))`;
    const actualsJoin = `join actuals a on a.deployment_id = $1 and a.association_id = ${ASSOCIATION_ID}`;
    let text: string;
    if (metric === 'serviceHealth') {
      text = `with ${cte} select count(*)::bigint as n, avg(p.prediction) as mean, min(p.timestamp) as first, max(p.timestamp) as last from predictions p where ${where}`;
    } else if (metric === 'accuracy' && this.target.type === 'BINARY') {
      // Per (probability bin, actual is positive): count, Σ log loss, rows predicted positive.
      text = `with ${cte}
        select bin, y, count(*)::bigint as n, sum(-ln(case when y then q else 1 - q end)) as ll,
               count(*) filter (where p >= ${Number(this.target.threshold)})::bigint as predicted_positive
        from (select p.prediction as p, least(greatest(p.prediction, 1e-15), 1 - 1e-15) as q,
                     least(999, floor(p.prediction * 1000))::int as bin, a.actual_label = ${textLiteral(this.target.positiveClass!)} as y
              from predictions p ${actualsJoin}
              where ${where}) s
        group by 1, 2`;
    } else if (metric === 'accuracy' && this.target.type === 'MULTICLASS') {
      text = `with ${cte}
        select count(*)::bigint as n,
               sum(-ln(least(greatest(p.probabilities[array_position(${textArray(this.target.classNames!)}, a.actual_label)], 1e-15), 1 - 1e-15))) as ll,
               count(*) filter (where p.predicted_label = a.actual_label)::bigint as correct
        from predictions p ${actualsJoin}
        where ${where}`;
    } else if (metric === 'accuracy') {
      text = `with ${cte}
        select count(*)::bigint as n, sum(e) as se, sum(abs(e)) as sae, sum(e * e) as sse, sum(y) as sy, sum(y * y) as syy,
               sum(abs(e / y)) filter (where y <> 0) as sape, count(*) filter (where y <> 0)::bigint as nz
        from (select p.prediction - a.actual_value as e, a.actual_value as y
              from predictions p ${actualsJoin}
              where ${where}) s`;
    } else {
      const columns = this.driftColumns();
      const values = columns.map(({ column, value }, i) => `(${i}, ${binExpression(column, value)})`).join(',\n          ');
      text = `with ${cte}
        select c.i, c.bin, count(*)::bigint as n
        from predictions p cross join lateral (values
          ${values}) as c(i, bin)
        where ${where}
        group by 1, 2`;
    }
    return { text, params: params(this.deploymentId) };
  }

  private driftColumns(): { name: string; column: BaselineColumn; value: string }[] {
    const features = this.baseline.features.map((column) => ({
      name: column.name,
      column,
      value: this.featureColumn(column.name),
    }));
    const prediction = this.baseline.prediction;
    const value = this.target.type === 'MULTICLASS' ? 'p.predicted_label' : 'p.prediction';
    return prediction ? [...features, { name: '', column: prediction, value }] : features;
  }

  private featureColumn(name: string): string {
    const column = this.features.get(name);
    if (!column) throw new Error(`baseline feature ${name} is not a declared feature of deployment ${this.deploymentId}`);
    return column;
  }

  async service(selection: Selection): Promise<RawService> {
    const { text, params } = this.statement('serviceHealth', selection);
    const [row] = await this.sql.unsafe<{ n: string; mean: number | null }[]>(text, params as never[]);
    return { rows: Number(row!.n), meanPrediction: row!.mean === null ? null : Number(row!.mean) };
  }

  async drift(selection: Selection): Promise<RawDrift> {
    const { text, params } = this.statement('dataDrift', selection);
    const rows = await this.sql.unsafe<{ i: number; bin: number; n: string }[]>(text, params as never[]);
    const columns = this.driftColumns();
    const counts = columns.map(({ column }) =>
      new Array<number>(column.kind === 'numeric' ? column.edges.length + 2 : column.values.length + 2).fill(0),
    );
    for (const row of rows) counts[row.i]![row.bin]! += Number(row.n);
    const result: RawDrift = { columns: new Map() };
    columns.forEach(({ name, column }, i) => {
      const current = counts[i]!;
      const sampleSize = current.reduce((a, b) => a + b, 0);
      result.columns.set(name, { counts: current, psi: psi(column.counts, current), sampleSize });
    });
    return result;
  }

  async accuracy(selection: Selection): Promise<RawAccuracy> {
    if (this.target.type === 'BINARY') return this.binaryAccuracy(selection);
    if (this.target.type === 'MULTICLASS') return this.multiclassAccuracy(selection);
    const { text, params } = this.statement('accuracy', selection);
    const [row] = await this.sql.unsafe<
      { n: string; se: number; sae: number; sse: number; sy: number; syy: number; sape: number | null; nz: string }[]
    >(text, params as never[]);
    const n = Number(row!.n);
    if (n === 0) return NO_ACCURACY;
    const sse = Number(row!.sse);
    const sy = Number(row!.sy);
    const totalSquares = Number(row!.syy) - (sy * sy) / n;
    const nz = Number(row!.nz);
    return {
      ...NO_ACCURACY,
      count: n,
      rmse: Math.sqrt(sse / n),
      mae: Number(row!.sae) / n,
      r2: totalSquares > 0 ? 1 - sse / totalSquares : null,
      mape: nz > 0 ? (100 * Number(row!.sape)) / nz : null,
    };
  }

  private async binaryAccuracy(selection: Selection): Promise<RawAccuracy> {
    const { text, params } = this.statement('accuracy', selection);
    const rows = await this.sql.unsafe<{ bin: number; y: boolean; n: string; ll: number; predicted_positive: string }[]>(
      text,
      params as never[],
    );
    const positives = new Map<number, number>();
    const negatives = new Map<number, number>();
    let n = 0;
    let logLoss = 0;
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    for (const row of rows) {
      const count = Number(row.n);
      const predictedPositive = Number(row.predicted_positive);
      n += count;
      logLoss += Number(row.ll);
      (row.y ? positives : negatives).set(row.bin, count);
      if (row.y) {
        tp += predictedPositive;
        fn += count - predictedPositive;
      } else {
        fp += predictedPositive;
        tn += count - predictedPositive;
      }
    }
    if (n === 0) return NO_ACCURACY;
    const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
    const tpr = ratio(tp, tp + fn);
    const ppv = ratio(tp, tp + fp);
    return {
      ...NO_ACCURACY,
      count: n,
      logLoss: logLoss / n,
      auc: binnedAuc(positives, negatives),
      accuracy: (tp + tn) / n,
      tpr,
      ppv,
      f1: tpr !== null && ppv !== null && tpr + ppv > 0 ? (2 * tpr * ppv) / (tpr + ppv) : null,
    };
  }

  private async multiclassAccuracy(selection: Selection): Promise<RawAccuracy> {
    const { text, params } = this.statement('accuracy', selection);
    const [row] = await this.sql.unsafe<{ n: string; ll: number | null; correct: string }[]>(text, params as never[]);
    const n = Number(row!.n);
    if (n === 0) return NO_ACCURACY;
    return { ...NO_ACCURACY, count: n, logLoss: Number(row!.ll) / n, accuracy: Number(row!.correct) / n };
  }

  run(metric: FieldName, selection: Selection): Promise<unknown> {
    return metric === 'serviceHealth' ? this.service(selection) : metric === 'dataDrift' ? this.drift(selection) : this.accuracy(selection);
  }
}
