import type { Deployment } from '../../db/tables.js';
import { associationIdSql, featureLayout } from '../rows/storage.js';

// The columns of an export file (C12), one plan per deployment: what each column is called, its
// type, and the SQL that reads it from a prediction row `p` (joined to its model `m` and its actual `a`). Features
// keep their own names; a fixed column whose name a feature already uses gets a leading `_`.

export type ExportColumnType = 'STRING' | 'DOUBLE' | 'TIMESTAMP' | 'BOOLEAN';

export interface ExportColumn {
  name: string;
  type: ExportColumnType;
  /** SQL over `p` (predictions), `m` (its model) and `a` (actuals); the batch columns are filled in per batch. */
  sql: string;
  /** The batch id or name: the same for every row of a batch, not read from the row. */
  batchField?: 'id' | 'name';
}

export interface ExportPlan {
  columns: ExportColumn[];
  includeActuals: boolean;
}

/** A SQL string literal (standard_conforming_strings is on: only quotes need doubling). */
export function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const isoUtc = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export function exportPlan(deployment: Deployment, includeActuals: boolean): ExportPlan {
  const featureNames = new Set(deployment.features.map((f) => f.name));
  const taken = new Set(featureNames);
  const fixedName = (wanted: string): string => {
    let name = wanted;
    while (taken.has(name)) name = `_${name}`;
    taken.add(name);
    return name;
  };
  const fixed = (name: string, type: ExportColumnType, sql: string, batchField?: 'id' | 'name'): ExportColumn => ({
    name: fixedName(name),
    type,
    sql,
    ...(batchField ? { batchField } : {}),
  });

  const columns: ExportColumn[] = [
    fixed('batch_id', 'STRING', 'p.batch_id', 'id'),
    fixed('batch_name', 'STRING', '', 'name'),
    fixed('model_id', 'STRING', 'm.model_id'),
    fixed('timestamp', 'TIMESTAMP', 'p.timestamp'),
    fixed('association_id', 'STRING', associationIdSql('p')),
  ];
  const stored = featureLayout(deployment.features).sql;
  for (const feature of deployment.features) {
    const sql = stored.get(feature.name)!;
    columns.push(feature.type === 'NUMERIC' ? { name: feature.name, type: 'DOUBLE', sql } : { name: feature.name, type: 'STRING', sql });
  }
  if (deployment.targetType === 'REGRESSION') {
    columns.push(fixed('prediction', 'DOUBLE', 'p.prediction'));
  } else {
    (deployment.classNames ?? []).forEach((className, i) => {
      columns.push(fixed(`probability_${className}`, 'DOUBLE', `p.probabilities[${i + 1}]`));
    });
    columns.push(fixed('predicted_label', 'STRING', 'p.predicted_label'));
  }
  if (includeActuals) {
    columns.push(
      deployment.targetType === 'REGRESSION'
        ? fixed('actual_value', 'DOUBLE', 'a.actual_value')
        : fixed('actual_value', 'STRING', 'a.actual_label'),
      fixed('actual_timestamp', 'TIMESTAMP', 'a.timestamp'),
      fixed('was_acted_on', 'BOOLEAN', 'a.was_acted_on'),
    );
  }
  return { columns, includeActuals };
}

/** The SELECT list for CSV text made by PostgreSQL (timestamps as ISO 8601 in UTC). */
export function csvSelectList(plan: ExportPlan, batch: { id: string; name: string }): string {
  return plan.columns
    .map((c) => {
      if (c.batchField) return sqlLiteral(c.batchField === 'id' ? batch.id : batch.name);
      if (c.type === 'TIMESTAMP') return isoUtc(c.sql);
      return c.type === 'BOOLEAN' ? `case when ${c.sql} then 'true' when not ${c.sql} then 'false' end` : c.sql;
    })
    .join(', ');
}

/**
 * The SELECT list for typed values read by the server (the batch columns are added per batch);
 * timestamps as epoch milliseconds (float8 holds them exactly).
 */
export function valueSelectList(plan: ExportPlan): string {
  return plan.columns
    .filter((c) => !c.batchField)
    .map((c) => (c.type === 'TIMESTAMP' ? `(extract(epoch from ${c.sql}) * 1000)::float8` : c.sql))
    .join(', ');
}
