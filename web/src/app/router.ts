import { useEffect, useState } from 'preact/hooks';

// Hash routes (the server serves one page at `/`):
//   #/                                   deployments inventory
//   #/deployments/<id>/<tab>             a deployment's tab (batches, service, drift, accuracy, …)
//   #/deployments/<id>/<tab>/<itemId>    one item of a tab: a batch, a job run, an export

export type Route = { page: 'inventory' } | { page: 'deployment'; deploymentId: string; tab: string; itemId?: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'deployments' && parts[1]) {
    return { page: 'deployment', deploymentId: parts[1], tab: parts[2] ?? 'batches', ...(parts[3] ? { itemId: parts[3] } : {}) };
  }
  return { page: 'inventory' };
}

export function href(route: Route): string {
  if (route.page === 'inventory') return '#/';
  const path = ['deployments', route.deploymentId, route.tab, ...(route.itemId ? [route.itemId] : [])];
  return `#/${path.map(encodeURIComponent).join('/')}`;
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
