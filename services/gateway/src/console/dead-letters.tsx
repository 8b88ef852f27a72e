import type { ReplayAnswer } from '@splitstream/shared';
import { useState } from 'preact/hooks';
import { type Api, ApiError, type DeadLetter, explain, type Page } from './api';
import { EmptyRow, ErrorLine, TableHead } from './parts';
import { usePoll } from './poll';

const DEAD_LETTER_POLL_MS = 2000;

export function DeadLetters({ api }: { api: Api }) {
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
      <ErrorLine error={error} />
      <table class="deadletters" data-testid="deadletters">
        <TableHead columns={['Dead-lettered', 'Id', 'Type', 'Reason', 'Replayed']} />
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
          {items.length === 0 && <EmptyRow columns={5}>No dead letters.</EmptyRow>}
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
        <ErrorLine error={replayError} testId="replay-error" />
      </div>
    </section>
  );
}
