import { byId, perRequest } from '../../graphql/loaders.js';
import { deploymentsByIds } from './service.js';

export const deploymentLoaders = perRequest(({ app, viewer }) => ({
  deployment: byId((ids) => deploymentsByIds(app.db, viewer.organizationId, ids)),
}));
