import { useState } from 'preact/hooks';
import { signIn } from '../state/session.js';

/** The token login (auth on, no valid token): the token is checked with `GET /auth/whoami` and kept in sessionStorage. */
export function LoginView({ error, busy }: { error?: string; busy: boolean }) {
  const [token, setToken] = useState('');
  return (
    <main class="center-card">
      <h1>Sisyphus</h1>
      <p class="muted">This server requires a token. Sign in with an admin or submitter token.</p>
      <form
        class="login-form"
        onSubmit={(e) => {
          e.preventDefault();
          void signIn(token);
        }}
      >
        <label for="login-token">Token</label>
        <input
          id="login-token"
          type="password"
          autoComplete="current-password"
          data-testid="login-token"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          autoFocus
        />
        <button type="submit" class="primary" data-testid="login-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error ? (
          <p class="error-text" role="alert" data-testid="login-error">
            {error}
          </p>
        ) : null}
      </form>
      <p class="muted small">The token is kept for this browser tab only.</p>
    </main>
  );
}
