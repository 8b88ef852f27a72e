/**
 * The live console (/console): sign in with an API key, then the tenant's events as they become
 * readable, the pipeline's figures, and dead letters with replay. Everything comes from the public
 * API through this gateway; the key stays in sessionStorage and travels only as a bearer token.
 */
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import {
  type Answer,
  Api,
  ApiError,
  type DeadLetter,
  type EventItem,
  explain,
  type Page,
  type Pipeline,
  type ReplayAnswer,
} from './api';
import { LineChart } from './charts';

const KEY_STORAGE = 'splitstream.console.apiKey';
const POLL_MS = 1000;
const DEAD_LETTER_POLL_MS = 2000;
const PIPELINE_WINDOW_SECONDS = 120;
const PIPELINE_STEP_SECONDS = 2;
/** Staleness samples kept for the chart: one per read answer, about five minutes at the poll rate. */
const STALENESS_SAMPLES = 300;

/** Runs `task` now and then every `intervalMs` after the previous run ended, until unmounted or deps change. */
function usePoll(task: () => Promise<void>, intervalMs: number, deps: unknown[]) {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        await task();
      } finally {
        if (!stopped) timer = setTimeout(run, intervalMs);
      }
    };
    void run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, deps);
}

function SignIn({ onSignedIn, notice }: { onSignedIn: (key: string) => void; notice: string | null }) {
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
        {error && (
          <p class="error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <p class="hint">The key is kept in this tab only (sessionStorage) and sent as a bearer token.</p>
      </form>
    </main>
  );
}

interface Sample {
  at: number;
  stalenessMs: number;
}

function round(n: number | null, digits = 1): string {
  if (n === null || Number.isNaN(n)) return '–';
  return n.toFixed(digits);
}

function Figure({ name, label, value, unit }: { name: string; label: string; value: string; unit: string }) {
  return (
    <div class="figure" data-figure={name}>
      <span class="label">{label}</span>
      <span class="value" data-testid={`figure-${name}`}>
        {value}
      </span>
      <span class="unit">{unit}</span>
    </div>
  );
}

function Figures({ pipeline, samples }: { pipeline: Pipeline | null; samples: Sample[] }) {
  const buckets = pipeline?.buckets ?? [];
  const step = pipeline?.stepSeconds ?? PIPELINE_STEP_SECONDS;
  // "Now" is the last five buckets (10 s at the default step): the window average moves too slowly.
  const recent = buckets.slice(-5);
  const rate = (pick: (b: Pipeline['buckets'][number]) => number) =>
    recent.length === 0 ? null : recent.reduce((n, b) => n + pick(b), 0) / (recent.length * step);
  const staleness = samples.at(-1)?.stalenessMs ?? null;
  return (
    <section class="panel" aria-label="Pipeline">
      <h2>Pipeline</h2>
      <div class="figures">
        <Figure name="accepted" label="Accepted" value={round(rate((b) => b.accepted))} unit="events/s" />
        <Figure name="stored" label="Stored" value={round(rate((b) => b.stored))} unit="events/s" />
        <Figure name="reads" label="Reads" value={round(rate((b) => b.reads))} unit="reads/s" />
        <Figure
          name="p50"
          label="Arrival → readable p50"
          value={round(pipeline?.latencyMs.p50 ?? null, 0)}
          unit="ms"
        />
        <Figure
          name="p99"
          label="Arrival → readable p99"
          value={round(pipeline?.latencyMs.p99 ?? null, 0)}
          unit="ms"
        />
        <Figure name="staleness" label="Replica staleness" value={round(staleness, 0)} unit="ms" />
      </div>
      <div class="charts">
        <LineChart
          title={`Events per second, last ${PIPELINE_WINDOW_SECONDS / 60} min`}
          unit="/s"
          series={[
            { name: 'accepted', color: '#2f6fdf', values: buckets.map((b) => b.accepted / step) },
            { name: 'stored', color: '#1a9c5b', dashed: true, values: buckets.map((b) => b.stored / step) },
          ]}
        />
        <LineChart
          title="Reads per second"
          unit="/s"
          series={[{ name: 'reads', color: '#8a4fd1', values: buckets.map((b) => b.reads / step) }]}
        />
        <LineChart
          title="Arrival → readable latency"
          unit="ms"
          series={[
            { name: 'p50', color: '#d9822b', values: buckets.map((b) => b.latencyP50Ms) },
            { name: 'p99', color: '#c23030', values: buckets.map((b) => b.latencyP99Ms) },
          ]}
        />
        <LineChart
          title="Replica staleness"
          unit="ms"
          series={[{ name: 'staleness', color: '#5c7080', values: samples.map((s) => s.stalenessMs) }]}
        />
      </div>
      {pipeline?.sampled && <p class="hint">More events than one answer reads: figures are a lower bound.</p>}
    </section>
  );
}

interface Filters {
  type: string;
  source: string;
  subject: string;
  since: string;
  until: string;
}

const NO_FILTERS: Filters = { type: '', source: '', subject: '', since: '', until: '' };

/** A datetime-local value (local time, no zone) → RFC 3339 UTC; empty stays empty. */
function toRfc3339(local: string): string {
  if (!local) return '';
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

function FilterForm({ onApply }: { onApply: (filters: Filters) => void }) {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const field = (name: keyof Filters, label: string, type = 'text') => (
    <label>
      {label}
      <input
        name={`filter-${name}`}
        type={type}
        step={type === 'datetime-local' ? 1 : undefined}
        value={draft[name]}
        onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })}
      />
    </label>
  );
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(draft);
      }}
    >
      {field('type', 'Type')}
      {field('source', 'Source')}
      {field('subject', 'Subject')}
      {field('since', 'Since', 'datetime-local')}
      {field('until', 'Until', 'datetime-local')}
      <button type="submit">Apply</button>
      <button
        type="button"
        onClick={() => {
          setDraft(NO_FILTERS);
          onApply(NO_FILTERS);
        }}
      >
        Clear
      </button>
    </form>
  );
}

function EventDetail({ api, event, onClose }: { api: Api; event: EventItem; onClose: () => void }) {
  const [full, setFull] = useState<EventItem | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .get<EventItem>(`/v1/events/${encodeURIComponent(event.id)}`, { source: event.source })
      .then((answer) => setFull(answer.body))
      .catch((e) => setError(explain(e)));
  }, [api, event.id, event.source]);
  return (
    <aside class="detail" aria-label="Event detail" data-testid="event-detail">
      <header>
        <h3>{event.id}</h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      {error && <p class="error">{error}</p>}
      <pre>{JSON.stringify(full ?? event, null, 2)}</pre>
    </aside>
  );
}

function Events({ api, onRead }: { api: Api; onRead: (answer: Answer<unknown>) => void }) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [items, setItems] = useState<EventItem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<EventItem | null>(null);
  const [updated, setUpdated] = useState<Date | null>(null);
  usePoll(
    async () => {
      try {
        const answer = await api.get<Page<EventItem>>('/v1/events', {
          order: 'desc',
          limit: 50,
          type: filters.type,
          source: filters.source,
          subject: filters.subject,
          since: toRfc3339(filters.since),
          until: toRfc3339(filters.until),
        });
        setItems(answer.body.items);
        setError(null);
        setUpdated(new Date());
        onRead(answer);
      } catch (e) {
        setError(explain(e));
      }
    },
    POLL_MS,
    [api, filters],
  );
  return (
    <section class="panel" aria-label="Live events">
      <h2>
        Live events <span class="hint">newest first, refreshed every second</span>
        {updated && <span class="hint"> · updated {updated.toLocaleTimeString()}</span>}
      </h2>
      <FilterForm onApply={setFilters} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="split">
        <div class="scroll">
          <table class="events" data-testid="events">
            <thead>
              <tr>
                <th>Time</th>
                <th>Type</th>
                <th>Source</th>
                <th>Subject</th>
                <th>Id</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr
                  key={`${item.source} ${item.id}`}
                  data-event-id={item.id}
                  class={selected?.id === item.id && selected.source === item.source ? 'selected' : ''}
                  onClick={() => setSelected(item)}
                >
                  <td>{item.time ? new Date(item.time).toLocaleTimeString() : ''}</td>
                  <td>{item.type}</td>
                  <td>{item.source}</td>
                  <td>{item.subject ?? ''}</td>
                  <td class="mono">{item.id}</td>
                </tr>
              ))}
              {items.length === 0 && (
                <tr>
                  <td colSpan={5} class="hint">
                    No events yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {selected && <EventDetail api={api} event={selected} onClose={() => setSelected(null)} />}
      </div>
    </section>
  );
}

function DeadLetters({ api }: { api: Api }) {
  const [items, setItems] = useState<DeadLetter[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [plan, setPlan] = useState<ReplayAnswer | null>(null);
  const [result, setResult] = useState<ReplayAnswer | null>(null);
  const [replayError, setReplayError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  usePoll(
    async () => {
      try {
        const answer = await api.get<Page<DeadLetter>>('/v1/deadletters', { order: 'desc', limit: 50 });
        setItems(answer.body.items);
        setError(null);
      } catch (e) {
        setError(explain(e));
      }
    },
    DEAD_LETTER_POLL_MS,
    [api],
  );
  const replay = async (dryRun: boolean) => {
    setBusy(true);
    setReplayError(null);
    try {
      const answer = await api.post<ReplayAnswer>('/v1/deadletters/replay', { dryRun });
      if (dryRun) {
        setPlan(answer.body);
        setResult(null);
      } else {
        setPlan(null);
        setResult(answer.body);
      }
    } catch (e) {
      setReplayError(
        e instanceof ApiError && e.status === 403
          ? 'Replay needs an API key with the events:admin scope (403).'
          : explain(e),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-label="Dead letters">
      <h2>Dead letters</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table class="deadletters" data-testid="deadletters">
        <thead>
          <tr>
            <th>Dead-lettered</th>
            <th>Id</th>
            <th>Type</th>
            <th>Reason</th>
            <th>Replayed</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={`${item.topic}/${item.partition}/${item.offset}`} data-deadletter-id={item.id ?? ''}>
              <td>{new Date(item.deadLetteredAt).toLocaleTimeString()}</td>
              <td class="mono">{item.id ?? '–'}</td>
              <td>{item.type ?? '–'}</td>
              <td class="reason">{item.reason}</td>
              <td data-testid="replayed-at">
                {item.replayedAt ? new Date(item.replayedAt).toLocaleTimeString() : ''}
              </td>
            </tr>
          ))}
          {items.length === 0 && (
            <tr>
              <td colSpan={5} class="hint">
                No dead letters.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div class="replay">
        <button type="button" disabled={busy} onClick={() => replay(true)}>
          Replay (dry run)
        </button>
        {plan && (
          <div class="plan" data-testid="replay-plan">
            <p>
              Would replay <strong data-testid="replay-count">{plan.replayed}</strong> of {plan.matched}{' '}
              matched dead letters{plan.skipped.length > 0 ? `, skip ${plan.skipped.length}` : ''}
              {plan.ids.length > 0 ? `: ${plan.ids.join(', ')}` : ''}.
            </p>
            {plan.skipped.map((s) => (
              <p key={s.deadLetterId} class="hint">
                skipped {s.id ?? s.deadLetterId}: {s.reason}
              </p>
            ))}
            <button type="button" disabled={busy || plan.replayed === 0} onClick={() => replay(false)}>
              Confirm replay
            </button>
            <button type="button" onClick={() => setPlan(null)}>
              Cancel
            </button>
          </div>
        )}
        {result && (
          <p class="ok" data-testid="replay-result">
            Replayed {result.replayed} event{result.replayed === 1 ? '' : 's'}
            {result.ids.length > 0 ? `: ${result.ids.join(', ')}` : ''}.
          </p>
        )}
        {replayError && (
          <p class="error" role="alert" data-testid="replay-error">
            {replayError}
          </p>
        )}
      </div>
    </section>
  );
}

function Console({ apiKey, onSignOut }: { apiKey: string; onSignOut: (notice?: string) => void }) {
  const api = useRef(new Api(apiKey)).current;
  const [pipeline, setPipeline] = useState<Pipeline | null>(null);
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
        const answer = await api.get<Pipeline>('/v1/pipeline', {
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
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
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
