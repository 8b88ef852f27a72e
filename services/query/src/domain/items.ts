import type { CloudEvent, StoredEvent } from '@splitstream/shared';

/**
 * Name of the member that carries our metadata beside the event's attributes. CloudEvents attribute
 * names are lower-case letters and digits only, so a name with an underscore can never collide with
 * an extension attribute a producer sent.
 */
export const METADATA_FIELD = '_splitstream';

export interface EventMetadata {
  receivedAt: string;
  storedAt: string;
  topic: string;
  partition: number;
  offset: string;
}

export type EventItem = CloudEvent & { [METADATA_FIELD]: EventMetadata };

/** The CloudEvent exactly as ingested, plus where and when Splitstream stored it. */
export function toItem(doc: StoredEvent): EventItem {
  return {
    ...doc.event,
    [METADATA_FIELD]: {
      receivedAt: doc.receivedAt.toISOString(),
      storedAt: doc.storedAt.toISOString(),
      topic: doc.topic,
      partition: doc.partition,
      offset: doc.offset,
    },
  };
}
