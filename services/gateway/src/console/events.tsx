import { useEffect, useState } from 'preact/hooks';
import { type Answer, type Api, type EventItem, explain, type Page } from './api';
import { EmptyRow, ErrorLine, TableHead } from './parts';
import { POLL_MS, usePoll } from './poll';

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

export function Events({ api, onRead }: { api: Api; onRead: (answer: Answer<unknown>) => void }) {
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
      <ErrorLine error={error} />
      <div class="split">
        <div class="scroll">
          <table class="events" data-testid="events">
            <TableHead columns={['Time', 'Type', 'Source', 'Subject', 'Id']} />
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
              {items.length === 0 && <EmptyRow columns={5}>No events yet.</EmptyRow>}
            </tbody>
          </table>
        </div>
        {selected && <EventDetail api={api} event={selected} onClose={() => setSelected(null)} />}
      </div>
    </section>
  );
}
