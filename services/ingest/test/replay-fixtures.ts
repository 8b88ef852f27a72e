import {
  createWriteClient,
  type DeadLetterRecord,
  deadLetterId,
  KAFKA_HEADERS,
  SCOPES,
  STORE,
} from '@splitstream/shared';
import { testInfra } from '@splitstream/shared/testing';
import type { FastifyInstance } from 'fastify';
import type { Collection, MongoClient } from 'mongodb';
import { type IngestSuite, type IngestSuiteOptions, ingestSuite, writeHeaders } from './helpers';

export const RECEIVED_AT = '2026-11-20T08:00:00.000Z';
export const adminHeaders = (tenant: string) => writeHeaders(tenant, [SCOPES.admin]);

/** POST /v1/deadletters/replay as `headers` (the tenant's admin by default); no body when undefined. */
export const postReplay = (app: FastifyInstance, body: unknown, headers: Record<string, string>) =>
  app.inject({
    method: 'POST',
    url: '/v1/deadletters/replay',
    headers,
    ...(body === undefined ? {} : { payload: body as object }),
  });

/** A dead letter as the writer records it (shared DeadLetterRecord), for an original value. */
export function deadLetter(
  tenant: string | undefined,
  value: string | null,
  at: { topic: string; partition: number; offset: number; time: Date },
  reason = 'rejected-by-store: field name not allowed',
): DeadLetterRecord {
  const parsed = (() => {
    try {
      return JSON.parse(value ?? '') as Record<string, unknown>;
    } catch {
      return {};
    }
  })();
  const pick = (name: string) => (typeof parsed[name] === 'string' ? { [name]: parsed[name] as string } : {});
  return {
    _id: deadLetterId(at.topic, at.partition, String(at.offset)),
    ...(tenant ? { tenant } : {}),
    ...pick('id'),
    ...pick('source'),
    ...pick('type'),
    reason,
    deadLetteredAt: at.time,
    topic: at.topic,
    partition: at.partition,
    offset: String(at.offset),
    key: tenant ? `${tenant}/x` : null,
    headers: {
      [KAFKA_HEADERS.contentType]: 'application/cloudevents+json',
      ...(tenant ? { [KAFKA_HEADERS.tenant]: tenant } : {}),
      [KAFKA_HEADERS.receivedAt]: RECEIVED_AT,
    },
    value,
  };
}

/** An ingest suite whose dead-letter collection holds `records` for its duration (removed after). */
export function deadLetterSuite(records: DeadLetterRecord[], options: IngestSuiteOptions = {}) {
  let mongo: MongoClient | undefined;
  let deadLetters: Collection<DeadLetterRecord> | undefined;
  const suite = ingestSuite({
    ...options,
    afterApp: async () => {
      await deadLetters?.deleteMany({ tenant: { $in: [...new Set(records.map((r) => r.tenant))] } });
      await mongo?.close();
    },
  });
  beforeAll(async () => {
    mongo = createWriteClient(testInfra().writeUri);
    deadLetters = mongo.db(STORE.database).collection<DeadLetterRecord>(STORE.collections.deadLetters);
    await deadLetters.insertMany(records);
  });
  const ready = () => {
    if (!deadLetters) throw new Error("the suite's deadLetters is set in beforeAll");
    return deadLetters;
  };
  return Object.defineProperty(suite, 'deadLetters', { get: ready }) as IngestSuite & {
    readonly deadLetters: Collection<DeadLetterRecord>;
  };
}
