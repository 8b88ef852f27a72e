import { useState } from 'preact/hooks';
import { Api, explain } from './api';
import { ErrorLine } from './parts';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (key: string) => void; notice: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return setError('Enter an API key.');
    setBusy(true);
    try {
      // Any read proves the key: the pipeline figures are the smallest one.
      await new Api(trimmed).get('/v1/pipeline', { window: 10 });
      onSignedIn(trimmed);
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Splitstream console</h1>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          placeholder="sk_…"
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <ErrorLine error={error} testId="signin-error" />
        <p class="hint">The key is kept in this tab only (sessionStorage) and sent as a bearer token.</p>
      </form>
    </main>
  );
}
