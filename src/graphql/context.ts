import type { RequestContext } from '../context.js';
import type { Loaders } from './loaders.js';

export interface GraphQLContext extends RequestContext {
  loaders: Loaders;
}
