import { fromMap, perRequest } from '../../graphql/loaders.js';
import { type Baseline, currentBaselines } from './current.js';

export const baselineLoaders = perRequest(({ app, viewer }) => ({
  /** The current baseline by deployment id. */
  baseline: fromMap<Baseline, null>((ids) => currentBaselines(app.db, viewer.organizationId, ids), null),
}));
