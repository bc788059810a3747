import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

// Ids are opaque text with a type prefix (org_, usr_, tok_, dep_, mb_): the same string is used by
// GraphQL (node ids), REST and headers, and the prefix lets node(id) resolve without a lookup.
// Every table below the deployment carries deployment_id so it can be distributed by deployment.

// Millisecond precision: a JS Date round-trips exactly, so keyset cursors never skip a row.
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const userRole = pgEnum('user_role', ['ADMIN', 'MEMBER']);
export const targetType = pgEnum('target_type', ['BINARY', 'MULTICLASS', 'REGRESSION']);

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** Batches per deployment per UTC day; null = unlimited. */
  dailyBatchLimit: integer('daily_batch_limit'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    role: userRole('role').notNull().default('MEMBER'),
    /** The bootstrap user: may create organizations. */
    isServerAdmin: boolean('is_server_admin').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('users_organization_idx').on(t.organizationId)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    /** sha256 of the token; the token itself is shown once and never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: ts('created_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

export interface FeatureDefinition {
  name: string;
  type: 'NUMERIC' | 'CATEGORICAL';
  importance: number | null;
}

export const deployments = pgTable(
  'deployments',
  {
    id: text('id').primaryKey(),
    organizationId: text('organization_id')
      .notNull()
      .references(() => organizations.id),
    label: text('label').notNull(),
    description: text('description'),
    targetType: targetType('target_type').notNull(),
    targetName: text('target_name').notNull(),
    classNames: text('class_names').array(),
    positiveClass: text('positive_class'),
    predictionThreshold: doublePrecision('prediction_threshold').notNull().default(0.5),
    features: jsonb('features').$type<FeatureDefinition[]>().notNull().default(sql`'[]'::jsonb`),
    modelId: text('model_id').notNull(),
    batchMonitoringEnabled: boolean('batch_monitoring_enabled').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('deployments_organization_idx').on(t.organizationId, t.createdAt, t.id)],
);

export const monitoringBatches = pgTable(
  'monitoring_batches',
  {
    id: text('id').primaryKey(),
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    organizationId: text('organization_id').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    externalUrl: text('external_url'),
    createdAt: ts('created_at').notNull().defaultNow(),
    createdById: text('created_by_id')
      .notNull()
      .references(() => users.id),
    isLocked: boolean('is_locked').notNull().default(false),
    /** Set by delete: the batch vanishes from every read at once; rows are purged in the background. */
    deletedAt: ts('deleted_at'),
    earliestPredictionAt: ts('earliest_prediction_at'),
    latestPredictionAt: ts('latest_prediction_at'),
    predictionCount: bigint('prediction_count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    index('monitoring_batches_deployment_created_idx').on(t.deploymentId, t.createdAt, t.id),
    index('monitoring_batches_deployment_name_idx').on(t.deploymentId, t.name, t.id),
    index('monitoring_batches_deleted_idx')
      .on(t.deletedAt)
      .where(sql`deleted_at is not null`),
  ],
);

/** One row per model that scored a batch (C3); start/end say which period the data represents. */
export const batchModelHistory = pgTable(
  'batch_model_history',
  {
    deploymentId: text('deployment_id').notNull(),
    batchId: text('batch_id')
      .notNull()
      .references(() => monitoringBatches.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    predictionCount: bigint('prediction_count', { mode: 'number' }).notNull().default(0),
    /** Earliest / latest prediction timestamp seen for this model in this batch. */
    earliestPredictionAt: ts('earliest_prediction_at'),
    latestPredictionAt: ts('latest_prediction_at'),
    /** User-set period (backfills); null falls back to the prediction timestamps. */
    startTime: ts('start_time'),
    endTime: ts('end_time'),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.modelId] })],
);

/** Batches created per deployment per UTC day. Never decremented: deleting does not refund. */
export const batchQuotaUsage = pgTable(
  'batch_quota_usage',
  {
    deploymentId: text('deployment_id')
      .notNull()
      .references(() => deployments.id),
    day: date('day', { mode: 'string' }).notNull(),
    used: integer('used').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deploymentId, t.day] })],
);

