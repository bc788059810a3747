import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import type { BinaryCopyRows } from '../../db/copy.js';
import { type Deployment, predictionModels } from '../../db/tables.js';
import type { PredictionRow } from './normalize.js';

// How a prediction row is stored (the `predictions` table, issue 14): integer keys for the
// deployment, batch and model; features in declaration order as a float8[] of the NUMERIC ones and
// a jsonb array of the CATEGORICAL ones; the association id as a uuid when it is a canonical
// lowercase UUID (uuid::text gives back exactly that string) and as text otherwise. Everything that
// writes rows (ingest) or reads them in SQL (actuals, export, re-binning, purge) goes through here.

/** Canonical lowercase UUIDs: the ids stored in `association_uuid`. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isCanonicalUuid = (id: string): boolean => id.length === 36 && CANONICAL_UUID.test(id);

/** The same rule as a PostgreSQL regular expression (for text compared with `association_uuid`). */
export const CANONICAL_UUID_SQL = CANONICAL_UUID.source;

/** The stored association id of the prediction row `alias`, as SQL text (null when it has none). */
export function associationIdSql(alias: string): string {
  return `coalesce(${alias}.association_text, ${alias}.association_uuid::text)`;
}

/** Association ids split by the column that stores them. */
export function splitAssociationIds(ids: readonly string[]): { uuids: string[]; texts: string[] } {
  const uuids: string[] = [];
  const texts: string[] = [];
  for (const id of ids) (isCanonicalUuid(id) ? uuids : texts).push(id);
  return { uuids, texts };
}

/** Where a deployment's features are stored: SQL over the prediction row `p` for each. */
export interface FeatureLayout {
  numeric: string[];
  categorical: string[];
  /** The SQL reading a declared feature (float8 for NUMERIC, text for CATEGORICAL), by name. */
  sql: Map<string, string>;
}

/** The deployment's feature layout, read from the prediction row `p`. */
export function featureLayout(features: Deployment['features']): FeatureLayout {
  const layout: FeatureLayout = { numeric: [], categorical: [], sql: new Map() };
  for (const feature of features) {
    if (feature.type === 'NUMERIC') {
      layout.numeric.push(feature.name);
      layout.sql.set(feature.name, `p.numeric_features[${layout.numeric.length}]`);
    } else {
      layout.sql.set(feature.name, `(p.categorical_features->>${layout.categorical.length})`);
      layout.categorical.push(feature.name);
    }
  }
  return layout;
}

/**
 * The key of a deployment's model in `prediction_models`, created on first use. A committed key is
 * read first (one indexed read); a new one is inserted, and a concurrent insert of the same model is
 * waited for and returned (ON CONFLICT DO UPDATE returns the row either way).
 */
export async function modelKey(tx: DbOrTx, deploymentId: string, modelId: string): Promise<number> {
  const [known] = await tx
    .select({ key: predictionModels.key })
    .from(predictionModels)
    .where(and(eq(predictionModels.deploymentId, deploymentId), eq(predictionModels.modelId, modelId)));
  if (known) return known.key;
  const [created] = await tx
    .insert(predictionModels)
    .values({ deploymentId, modelId })
    .onConflictDoUpdate({ target: [predictionModels.deploymentId, predictionModels.modelId], set: { modelId } })
    .returning({ key: predictionModels.key });
  return created!.key;
}

/** The columns `PredictionCopyFormat` writes, in its order. */
export const PREDICTION_COPY_COLUMNS =
  'batch_key, timestamp, prediction, deployment_key, model_key, numeric_features, categorical_features, probabilities, predicted_label, association_uuid, association_text';
const PREDICTION_COPY_FIELDS = 11;

/**
 * Writes prediction rows in COPY's binary format for PREDICTION_COPY_COLUMNS (`… from stdin with
 * (format binary)`): doubles, keys and timestamps as PostgreSQL's own bytes, so the database parses
 * nothing but the categorical features' JSON array.
 */
export class PredictionCopyFormat {
  private readonly numeric: string[];
  private readonly categorical: string[];
  private readonly numericValues: (number | null)[];
  private readonly categoricalValues: (string | null)[];

  constructor(
    private readonly deploymentKey: number,
    features: Deployment['features'],
    private readonly batchKey: number,
    private readonly modelKey: number,
  ) {
    const layout = featureLayout(features);
    this.numeric = layout.numeric;
    this.categorical = layout.categorical;
    this.numericValues = new Array(this.numeric.length).fill(null);
    this.categoricalValues = new Array(this.categorical.length).fill(null);
  }

  write(out: BinaryCopyRows, timestamp: number, row: PredictionRow): void {
    const features = row.features;
    out.row(PREDICTION_COPY_FIELDS);
    out.int8(this.batchKey);
    out.timestamp(timestamp);
    if (row.prediction === null) out.null();
    else out.float8(row.prediction);
    out.int4(this.deploymentKey);
    out.int4(this.modelKey);
    const numeric = this.numeric;
    if (numeric.length === 0) out.null();
    else {
      for (let i = 0; i < numeric.length; i++) this.numericValues[i] = (features[numeric[i]!] as number | null | undefined) ?? null;
      out.float8Array(this.numericValues);
    }
    const categorical = this.categorical;
    if (categorical.length === 0) out.null();
    else {
      for (let i = 0; i < categorical.length; i++)
        this.categoricalValues[i] = (features[categorical[i]!] as string | null | undefined) ?? null;
      out.jsonb(JSON.stringify(this.categoricalValues));
    }
    if (row.probabilities === null) out.null();
    else out.float8Array(row.probabilities);
    if (row.predictedLabel === null) out.null();
    else out.text(row.predictedLabel);
    const id = row.associationId;
    if (id === null) {
      out.null();
      out.null();
    } else if (isCanonicalUuid(id)) {
      out.uuid(id);
      out.null();
    } else {
      out.null();
      out.text(id);
    }
  }
}
