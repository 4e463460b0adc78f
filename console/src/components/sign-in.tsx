import { useState } from 'preact/hooks';
import { json } from '../api.ts';
import { storeKey } from '../session.ts';
import { ErrorNote } from './feedback.tsx';

/** Asks for an API key, checks it against the API, then keeps it in sessionStorage. */
export function SignIn({ onSignedIn }: { onSignedIn(): void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await json('/forms?limit=1', {}, key.trim());
      storeKey(key.trim());
      setKey('');
      onSignedIn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="narrow">
      <h1>Sign in to formhub</h1>
      <form class="card" onSubmit={submit} autocomplete="off">
        <label for="api-key">Workspace API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          required
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
        />
        <p class="hint">
          The key stays in this tab only (session storage) and is sent only in the Authorization
          header.
        </p>
        <ErrorNote error={error} />
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
