import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import '../modules/organizations/schema.js';
import '../modules/deployments/schema.js';
import '../modules/batches/schema.js';

export const schema = builder.toSchema();

/** The committed schema.graphql: sorted, so diffs show only real changes. */
export const sortedSchema = lexicographicSortSchema(schema);
