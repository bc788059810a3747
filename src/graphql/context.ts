import type { LoaderScope } from './loaders.js';

/** What every GraphQL resolver is given: the request context and its lazily made dataloaders. */
export type GraphQLContext = LoaderScope;
