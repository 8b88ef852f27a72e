/**
 * The live console (/console): sign in with an API key, then the tenant's events as they become
 * readable, the pipeline's figures, and dead letters with replay. Everything comes from the public
 * API through this gateway; the key stays in sessionStorage and travels only as a bearer token.
 */
import type { PipelineFigures } from '@splitstream/shared';
import { render } from 'preact';
import { useCallback, useRef, useState } from 'preact/hooks';
import { type Answer, Api, ApiError, explain } from './api';
import { DeadLetters } from './dead-letters';
import { Events } from './events';
import { Figures, PIPELINE_STEP_SECONDS, PIPELINE_WINDOW_SECONDS, type Sample } from './figures';
import { ErrorLine } from './parts';
import { POLL_MS, usePoll } from './poll';
import { SignIn } from './sign-in';

const KEY_STORAGE = 'splitstream.console.apiKey';
/** Staleness samples kept for the chart: one per read answer, about five minutes at the poll rate. */
const STALENESS_SAMPLES = 300;

function Console({ apiKey, onSignOut }: { apiKey: string; onSignOut: (notice?: string) => void }) {
  const api = useRef(new Api(apiKey)).current;
  const [pipeline, setPipeline] = useState<PipelineFigures | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<string | null>(null);
  const onRead = useCallback((answer: Answer<unknown>) => {
    const stalenessMs = answer.stalenessMs;
    if (stalenessMs === null) return;
    setSamples((s) => [...s.slice(-(STALENESS_SAMPLES - 1)), { at: Date.now(), stalenessMs }]);
  }, []);
  usePoll(
    async () => {
      try {
        const answer = await api.get<PipelineFigures>('/v1/pipeline', {
          window: PIPELINE_WINDOW_SECONDS,
          step: PIPELINE_STEP_SECONDS,
        });
        setPipeline(answer.body);
        setError(null);
        onRead(answer);
      } catch (e) {
        // A key revoked while signed in: back to the sign-in form, saying why.
        if (e instanceof ApiError && e.status === 401) onSignOut(explain(e));
        else setError(explain(e));
      }
    },
    POLL_MS,
    [api],
  );
  return (
    <div class="console">
      <header class="top">
        <h1>Splitstream console</h1>
        <span class="hint">key {apiKey.slice(0, 10)}…</span>
        <button type="button" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <ErrorLine error={error} />
      <Figures pipeline={pipeline} samples={samples} />
      <Events api={api} onRead={onRead} />
      <DeadLetters api={api} />
    </div>
  );
}

function App() {
  const [apiKey, setApiKey] = useState<string | null>(() => sessionStorage.getItem(KEY_STORAGE));
  const [notice, setNotice] = useState<string | null>(null);
  if (!apiKey)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(key) => {
          sessionStorage.setItem(KEY_STORAGE, key);
          setNotice(null);
          setApiKey(key);
        }}
      />
    );
  return (
    <Console
      key={apiKey}
      apiKey={apiKey}
      onSignOut={(why) => {
        sessionStorage.removeItem(KEY_STORAGE);
        setNotice(why ?? null);
        setApiKey(null);
      }}
    />
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
