import type { DeploymentHeaderFragment } from '../generated/graphql';

/** What every tab of a deployment is given. */
export interface TabProps {
  deployment: DeploymentHeaderFragment;
  /** The tab's item in the route (`#/deployments/<id>/<tab>/<itemId>`): a batch, a job run, an export. */
  itemId?: string;
  /** Reloads the deployment (after its settings changed). */
  reloadDeployment: () => void;
}
