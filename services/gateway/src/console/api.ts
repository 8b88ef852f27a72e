/**
 * The console's only way to the platform: the public API through this gateway, with the API key as
 * a bearer token (never in a URL). Every answer keeps the freshness headers a read carries.
 */

export interface Problem {
  status: number;
  title?: string;
  detail?: string;
}

export interface Answer<T> {
  status: number;
  body: T;
  /** Splitstream-Staleness-Ms of a read, when the query service sent it. */
  stalenessMs: number | null;
  appliedTime: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

export type Params = Record<string, string | number | boolean | undefined>;

export function query(params: Params): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export class Api {
  constructor(private readonly key: string) {}

  get<T>(path: string, params: Params = {}): Promise<Answer<T>> {
    return this.send<T>('GET', `${path}${query(params)}`);
  }

  post<T>(path: string, body: unknown): Promise<Answer<T>> {
    return this.send<T>('POST', path, body);
  }

  private async send<T>(method: string, url: string, body?: unknown): Promise<Answer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url, {
      method,
      headers,
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) throw new ApiError(response.status, (parsed as Problem | null) ?? null);
    const staleness = response.headers.get('splitstream-staleness-ms');
    return {
      status: response.status,
      body: parsed as T,
      stalenessMs: staleness === null ? null : Number(staleness),
      appliedTime: response.headers.get('splitstream-applied-time'),
    };
  }
}

/** What a person should read when a request was refused. */
export function explain(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401)
      return 'This API key was refused (401): check that it is complete and not revoked.';
    if (error.status === 403) return `Not allowed with this API key (403): ${error.message}`;
    if (error.status === 429) return 'Rate limited (429): the console slows down and retries.';
    return `${error.status}: ${error.message}`;
  }
  return error instanceof Error ? `Network error: ${error.message}` : String(error);
}

export interface EventItem {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  data?: unknown;
  _splitstream: { receivedAt: string; storedAt: string; topic: string; partition: number; offset: string };
  [attribute: string]: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface DeadLetter {
  id?: string;
  source?: string;
  type?: string;
  reason: string;
  deadLetteredAt: string;
  topic: string;
  partition: number;
  offset: string;
  replayedAt?: string;
}
