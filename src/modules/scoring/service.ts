import type { Viewer } from '../../context.js';
import type { DbOrTx } from '../../db/client.js';
import { isError, type Result } from '../../errors.js';
import { getDeployment } from '../deployments/service.js';
import { targetShape } from '../rows/shape.js';
import { type BackendCheck, backendOf, checkBackend } from './backend.js';

/**
 * "Test connection" for a deployment's model backend: readiness and, for the Open Inference
 * Protocol v2, the model's metadata against the deployment's features. A backend that is down or
 * does not match is a check that found problems, not an error; only a missing backend is.
 */
export async function checkModelBackend(db: DbOrTx, viewer: Viewer, deploymentId: string): Promise<Result<BackendCheck>> {
  const deployment = await getDeployment(db, viewer, deploymentId);
  if (isError(deployment)) return deployment;
  const backend = backendOf(deployment);
  if (isError(backend)) return backend;
  return checkBackend(backend, targetShape(deployment));
}
