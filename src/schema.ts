import { builder } from './graphql/builder.js';
import './graphql/errors.js';
import './modules/organizations/schema.js';
import './modules/deployments/schema.js';
import './modules/batches/schema.js';
import './modules/rows/schema.js';
import './modules/predictions/schema.js';
import './modules/actuals/schema.js';
import './modules/baselines/schema.js';
import './modules/metrics/schema.js';
import './modules/metrics/health-schema.js';
import './modules/custom-metrics/schema.js';
import './modules/exports/schema.js';
import './modules/scoring/schema.js';
import './modules/jobs/schema.js';
import './modules/jobs/definitions-schema.js';
import './modules/live/schema.js';

export const schema = builder.toSchema();
