import { isError, ValidationError } from '../../errors.js';
import { errorResponse, type Route } from '../../rest/kit.js';
import { updateDeploymentSettings } from './service.js';

export const deploymentRoutes: Route[] = [
  {
    // DataRobot: PATCH settings with {"batchMonitoring": {"enabled": true}} switches batch monitoring (C1).
    method: 'PATCH',
    path: '/api/v2/deployments/:deploymentId/settings/',
    handler: async (req) => {
      const body = await req.json();
      const batchMonitoring = (body as { batchMonitoring?: unknown } | null)?.batchMonitoring;
      if (batchMonitoring === undefined) {
        return errorResponse(ValidationError.of('batchMonitoring', 'is required: {"batchMonitoring": {"enabled": true|false}}'));
      }
      if (
        batchMonitoring === null ||
        typeof batchMonitoring !== 'object' ||
        typeof (batchMonitoring as { enabled?: unknown }).enabled !== 'boolean'
      ) {
        return errorResponse(ValidationError.of('batchMonitoring.enabled', 'must be true or false'));
      }
      const enabled = (batchMonitoring as { enabled: boolean }).enabled;
      const deployment = await updateDeploymentSettings(req.ctx.app.db, req.ctx.viewer, req.params.deploymentId!, {
        batchMonitoringEnabled: enabled,
      });
      if (isError(deployment)) return errorResponse(deployment);
      return { status: 200, body: { batchMonitoring: { enabled: deployment.batchMonitoringEnabled } } };
    },
  },
];
