import {
  DEAD_LETTER_HEADERS,
  type DeadLetterRecord,
  DUPLICATE_KEY,
  deadLetterId,
  headerString,
  STORE,
  storableString,
} from '@splitstream/shared';
import type { IHeaders, Producer } from 'kafkajs';
import { type Db, MongoBulkWriteError } from 'mongodb';
import type { DeadLetter } from '../domain/decode';
import type { DeadLetterSink } from '../domain/ports';
import { DeadLetterUnavailableError } from '../errors';
import { classifyStoreError } from './store-errors';

/**
 * Dead letters go to the store's `deadletters` collection (so the query service can report an
 * event's status and list them) and to the dead-letter topic (so any consumer can replay them).
 * The record comes first and is keyed by topic/partition/offset, so a retry after a failed send
 * records nothing twice.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly deadLetterTopic: string,
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const now = this.clock();
    try {
      await this.db.collection<DeadLetterRecord>(STORE.collections.deadLetters).insertMany(
        letters.map((letter) => toDeadLetterRecord(letter, now)),
        { ordered: false },
      );
    } catch (error) {
      const onlyDuplicates =
        error instanceof MongoBulkWriteError &&
        !error.result?.getWriteConcernError?.() &&
        [error.writeErrors].flat().every((e) => e.code === DUPLICATE_KEY);
      if (!onlyDuplicates) throw classifyStoreError(error);
    }
    try {
      await this.producer.send({
        topic: this.deadLetterTopic,
        acks: -1,
        messages: letters.map(toDeadLetterMessage),
      });
    } catch (error) {
      throw new DeadLetterUnavailableError(`dead-letter topic ${this.deadLetterTopic} did not acknowledge`, {
        cause: error,
      });
    }
  }
}

/** The original key, value and headers, plus where the message was and why it is here. */
export function toDeadLetterMessage(letter: DeadLetter) {
  return {
    key: letter.message.key,
    value: letter.message.value,
    headers: {
      ...letter.message.headers,
      [DEAD_LETTER_HEADERS.reason]: letter.reason,
      [DEAD_LETTER_HEADERS.topic]: letter.topic,
      [DEAD_LETTER_HEADERS.partition]: String(letter.partition),
      [DEAD_LETTER_HEADERS.offset]: letter.message.offset,
    },
  };
}

export function toDeadLetterRecord(letter: DeadLetter, now: Date): DeadLetterRecord {
  const { message } = letter;
  const optional = (name: string, value: string | undefined) =>
    value === undefined ? {} : { [name]: storableString(value) };
  return {
    _id: deadLetterId(letter.topic, letter.partition, message.offset),
    ...optional('tenant', letter.tenant),
    ...optional('id', letter.id),
    ...optional('source', letter.source),
    ...optional('type', letter.type),
    reason: storableString(letter.reason),
    deadLetteredAt: now,
    topic: letter.topic,
    partition: letter.partition,
    offset: message.offset,
    key: message.key === null ? null : storableString(message.key.toString('utf8')),
    headers: headersAsStrings(message.headers),
    value: message.value === null ? null : storableString(message.value.toString('utf8')),
  };
}

function headersAsStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers ?? {})) {
    const value = headerString(headers, name);
    if (value !== undefined) out[storableString(name)] = storableString(value);
  }
  return out;
}
