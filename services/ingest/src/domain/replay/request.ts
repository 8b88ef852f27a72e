import { type DeadLetterSelection, decodeCursor, parseRange } from '@splitstream/shared';
import { REPLAY_LIMITS, type ReplayRequestBody } from '../../schemas/deadletters';

/** What to replay: which of the tenant's dead letters, how many, and whether replayed ones count. */
export interface ReplaySelection extends Omit<DeadLetterSelection, 'order' | 'replayed'> {
  limit: number;
  includeReplayed: boolean;
}

export interface ReplayRequest {
  selection: Omit<ReplaySelection, 'tenant'>;
  dryRun: boolean;
}

/**
 * The body of POST /v1/deadletters/replay as a request. The route's schema validated it (every
 * fault named, unknown fields refused: a misspelt criterion must never widen a replay), so this
 * only converts: dates, the cursor, and ids without repeats.
 */
export function toReplayRequest(body: ReplayRequestBody): ReplayRequest {
  const filter = body.filter ?? {};
  const range = parseRange(filter, (name) => `/filter/${name}`);
  return {
    dryRun: body.dryRun ?? false,
    selection: {
      ...(filter.ids ? { ids: [...new Set(filter.ids)] } : {}),
      ...(filter.source !== undefined ? { source: filter.source } : {}),
      ...(filter.type !== undefined ? { type: filter.type } : {}),
      ...(filter.reason !== undefined ? { reason: filter.reason } : {}),
      ...(range.since || range.until ? { range } : {}),
      limit: body.limit ?? REPLAY_LIMITS.default,
      ...(body.cursor !== undefined ? { after: decodeCursor(body.cursor, '/cursor') } : {}),
      includeReplayed: body.includeReplayed ?? false,
    },
  };
}
