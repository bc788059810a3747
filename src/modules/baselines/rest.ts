import { isError } from '../../errors.js';
import { errorResponse, type Route } from '../../rest/kit.js';
import { getDeployment } from '../deployments/service.js';
import { uploadItems } from '../rows/rest.js';
import { setTrainingBaseline } from './service.js';

export const baselineRoutes: Route[] = [
  {
    // A training baseline of any size, streamed like the bulk upload (same row shapes).
    method: 'POST',
    path: '/api/v2/deployments/:deploymentId/trainingBaseline/',
    handler: async (req) => {
      const { db, pg } = req.ctx.app;
      const deployment = await getDeployment(db, req.ctx.viewer, req.params.deploymentId!);
      if (isError(deployment)) return errorResponse(deployment);
      const baseline = await setTrainingBaseline(pg, req.ctx.viewer, {
        deploymentId: deployment.id,
        items: uploadItems(req, deployment),
        itemPath: 'data',
      });
      if (isError(baseline)) return errorResponse(baseline);
      req.ctx.app.scheduleRebin();
      return {
        status: 201,
        body: {
          deploymentId: baseline.deploymentId,
          version: baseline.version,
          rowCount: baseline.rowCount,
          createdAt: baseline.createdAt.toISOString(),
          columns: baseline.columns,
        },
      };
    },
  },
];
