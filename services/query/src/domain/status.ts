import { type DeadLetterRecord, STORE } from '@splitstream/shared';
import { findEvent } from './events';
import type { StoreRead } from './store-read';

export const EVENT_STATUS = Object.freeze({
  stored: 'stored',
  deadLettered: 'dead-lettered',
  unknown: 'unknown',
} as const);
export type EventStatus = (typeof EVENT_STATUS)[keyof typeof EVENT_STATUS];

export interface StatusResult {
  id: string;
  status: EventStatus;
  source?: string;
  storedAt?: string;
  reason?: string;
  deadLetteredAt?: string;
}

/**
 * Stored wins over dead-lettered (a replay that succeeded); among several dead letters of the same
 * event the newest reason is the one that matters. Neither: not (yet) known.
 */
export async function findStatus(
  read: StoreRead,
  tenant: string,
  id: string,
  source: string | undefined,
): Promise<StatusResult> {
  const stored = await findEvent(read, tenant, id, source);
  if (stored)
    return {
      id,
      status: EVENT_STATUS.stored,
      source: stored.source,
      storedAt: stored.storedAt.toISOString(),
    };
  const deadLetter = await read.db
    .collection<DeadLetterRecord>(STORE.collections.deadLetters)
    .find({ tenant, id, ...(source !== undefined ? { source } : {}) }, { maxTimeMS: read.maxTimeMS })
    .sort({ deadLetteredAt: -1, _id: -1 })
    .limit(1)
    .next();
  if (deadLetter) {
    return {
      id,
      status: EVENT_STATUS.deadLettered,
      ...(deadLetter.source !== undefined ? { source: deadLetter.source } : {}),
      reason: deadLetter.reason,
      deadLetteredAt: deadLetter.deadLetteredAt.toISOString(),
    };
  }
  return { id, status: EVENT_STATUS.unknown, ...(source !== undefined ? { source } : {}) };
}
