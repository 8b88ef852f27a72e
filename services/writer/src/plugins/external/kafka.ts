import { createKafka, splitList } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kafka } from 'kafkajs';

declare module 'fastify' {
  interface FastifyInstance {
    kafka: Kafka;
  }
}

type KafkaLogger = Parameters<typeof createKafka>[0]['logger'];

export interface KafkaPluginOptions {
  brokers: string;
}

/** The kafkajs client (logging through pino); the writer plugin owns its consumer, producer and admin. */
export const kafkaPlugin = fp(
  async (app: FastifyInstance, options: KafkaPluginOptions) => {
    app.decorate(
      'kafka',
      createKafka({
        clientId: 'splitstream-writer',
        brokers: splitList(options.brokers),
        logger: app.log as KafkaLogger,
      }),
    );
  },
  { name: 'writer-kafka' },
);
