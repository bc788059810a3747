import type { DeploymentHeaderFragment } from '../generated/graphql';

/** What every tab of a deployment is given. */
export interface TabProps {
  deployment: DeploymentHeaderFragment;
  /** The batch opened in the Batch Management tab (`#/deployments/<id>/batches/<batchId>`). */
  batchId?: string;
  /** Reloads the deployment (after its settings changed). */
  reloadDeployment: () => void;
}
