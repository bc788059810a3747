import type { TabProps } from '../app/tabs';

// Placeholder: built next (issue 12).
export function BatchManagementTab({ deployment }: TabProps) {
  return <p>{deployment.label}: coming in this issue.</p>;
}
