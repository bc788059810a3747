import { useState } from 'preact/hooks';
import { ApiError, request } from '../api/client';
import { signIn } from '../api/session';
import { ErrorNote } from '../app/ui';
import { SignedInViewerDocument } from '../generated/graphql';

/** The API token form: the token is checked against the server before it is kept for this tab. */
export function SignIn() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [pending, setPending] = useState(false);
  return (
    <main class="sign-in">
      <h1>batchlens</h1>
      <p>Batch monitoring for machine-learning deployments. Sign in with an API token.</p>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const value = token.trim();
          if (!value) return setError('Enter an API token.');
          setPending(true);
          setError(undefined);
          try {
            await request(SignedInViewerDocument, {}, value);
            signIn(value);
          } catch (caught) {
            setError(
              caught instanceof ApiError && caught.code === 'UNAUTHENTICATED'
                ? 'This token is not valid (or was revoked).'
                : String((caught as Error).message),
            );
          } finally {
            setPending(false);
          }
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
          required
        />
        <button type="submit" class="primary" disabled={pending}>
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorNote error={error} />
      </form>
      <p class="hint">The token is kept in this tab only (session storage) until you sign out or close the tab.</p>
    </main>
  );
}
