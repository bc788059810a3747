import { useEffect, useState } from 'preact/hooks';
import { useQuery } from './api/hooks';
import { currentToken, onSessionChange, signOut } from './api/session';
import { useRoute } from './app/router';
import { SignIn } from './auth/SignIn';
import { DeploymentPage } from './deployment/DeploymentPage';
import { SignedInViewerDocument } from './generated/graphql';
import { Inventory } from './inventory/Inventory';

export function App() {
  const [token, setToken] = useState(currentToken);
  useEffect(() => onSessionChange(() => setToken(currentToken())), []);
  return token ? <SignedIn /> : <SignIn />;
}

function SignedIn() {
  const route = useRoute();
  const { data } = useQuery(SignedInViewerDocument, {});
  return (
    <>
      <a class="skip-link" href="#content">
        Skip to content
      </a>
      <header class="top-bar">
        <a href="#/" class="brand">
          batchlens
        </a>
        <span class="spacer" />
        {data ? (
          <span class="muted">
            {data.viewer.name} · {data.viewer.organization.name}
          </span>
        ) : null}
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <div id="content">
        {route.page === 'deployment' ? (
          <DeploymentPage deploymentId={route.deploymentId} tab={route.tab} itemId={route.itemId} />
        ) : (
          <Inventory />
        )}
      </div>
    </>
  );
}
