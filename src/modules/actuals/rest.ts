import { isError } from '../../errors.js';
import { acceptedAndDone, errorResponse, objectBody, type Route } from '../../rest/kit.js';
import { submitActuals } from './service.js';

// The agent's actuals route (DataRobot MLOps wire format).

export const actualRoutes: Route[] = [
  {
    method: 'POST',
    path: '/api/v2/deployments/:deploymentId/actuals/fromJSON/',
    ingest: true,
    handler: async (req) => {
      const body = objectBody(await req.json());
      if (isError(body)) return errorResponse(body);
      if (Array.isArray(body.data)) await req.rows.charge(body.data.length);
      const result = await submitActuals(req.ctx.app.db, req.ctx.viewer, {
        deploymentId: req.params.deploymentId!,
        actuals: body.data,
        itemPath: 'data',
      });
      return isError(result) ? errorResponse(result) : acceptedAndDone(result);
    },
  },
];
