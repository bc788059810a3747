import { byId, perRequest } from '../../graphql/loaders.js';
import { usersByIds } from './service.js';

export const organizationLoaders = perRequest(({ app, viewer }) => ({
  user: byId((ids) => usersByIds(app.db, viewer.organizationId, ids)),
}));
