import { randomBytes } from 'node:crypto';
import { headerString, KAFKA_HEADERS } from '@splitstream/shared';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';

export interface TailCommand {
  brokers: string[];
  topic: string;
  tenant: string | undefined;
  type: string | undefined;
  fromBeginning: boolean;
  /** Stop after this many events (undefined: until interrupted). */
  max: number | undefined;
  json: boolean;
}

export interface TailedEvent {
  tenant: string | null;
  partition: number;
  offset: string;
  receivedAt: string | null;
  event: Record<string, unknown> | null;
  /** The value as received when it is not a JSON object (the writer dead-letters those). */
  raw?: string;
}

/** One Kafka message of the events topic as the tail shows it. */
export function tailedEvent(partition: number, message: KafkaMessage): TailedEvent {
  const value = message.value?.toString() ?? '';
  let event: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      event = parsed as Record<string, unknown>;
  } catch {}
  return {
    tenant: headerString(message.headers, KAFKA_HEADERS.tenant) ?? null,
    partition,
    offset: message.offset,
    receivedAt: headerString(message.headers, KAFKA_HEADERS.receivedAt) ?? null,
    event,
    ...(event ? {} : { raw: value.slice(0, 200) }),
  };
}

export function matches(tailed: TailedEvent, command: Pick<TailCommand, 'tenant' | 'type'>): boolean {
  if (command.tenant !== undefined && tailed.tenant !== command.tenant) return false;
  if (command.type !== undefined && tailed.event?.type !== command.type) return false;
  return true;
}

/** One line per event: when ingest accepted it, tenant, partition@offset, type, source, id. */
export function formatTailed(tailed: TailedEvent): string {
  const { event } = tailed;
  const where = `${tailed.tenant ?? '(no tenant)'} p${tailed.partition}@${tailed.offset}`;
  const what = event
    ? `${event.type} ${event.source} ${event.id}`
    : `not an event: ${JSON.stringify(tailed.raw)}`;
  return `${tailed.receivedAt ?? '-'} ${where} ${what}`;
}

/**
 * Follows the events topic as the writer sees it, from the end (or the beginning), in a consumer
 * group of its own that is deleted afterwards. `ready` is called once every partition's end is
 * known: whatever is produced after it is shown. Resolves after `max` events or `stop()`.
 */
export async function tail(
  command: TailCommand,
  print: (line: string) => void,
  ready: (message: string) => void,
  stopSignal: AbortSignal,
): Promise<number> {
  const kafka = new Kafka({
    clientId: 'splitstream-cli-tail',
    brokers: command.brokers,
    connectionTimeout: 3_000,
    retry: { retries: 2 },
    logLevel: logLevel.NOTHING,
  });
  const groupId = `splitstream-cli-tail-${randomBytes(6).toString('hex')}`;
  const admin = kafka.admin();
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let seen = 0;
  try {
    await admin.connect();
    const start = command.fromBeginning ? undefined : await admin.fetchTopicOffsets(command.topic);
    await consumer.connect();
    await consumer.subscribe({ topic: command.topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      stopSignal.addEventListener('abort', () => resolve(), { once: true });
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (command.max !== undefined && seen >= command.max) return;
          const tailed = tailedEvent(partition, message);
          if (!matches(tailed, command)) return;
          seen += 1;
          print(command.json ? JSON.stringify(tailed) : formatTailed(tailed));
          if (command.max !== undefined && seen >= command.max) resolve();
        },
      });
    });
    // Seeking to the ends fetched before joining: nothing produced after `ready` is skipped.
    for (const { partition, high } of start ?? [])
      consumer.seek({ topic: command.topic, partition, offset: high });
    ready(
      `tailing ${command.topic}${command.tenant ? ` (tenant ${command.tenant})` : ''}${command.type ? ` (type ${command.type})` : ''} ` +
        `from ${command.fromBeginning ? 'the beginning' : 'now'}; Ctrl-C stops`,
    );
    await done;
    return seen;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
