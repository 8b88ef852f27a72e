import { ConfigError, TOPICS } from '@splitstream/shared';
import { loadWriterConfig } from '../../src/config';
import { backoffDelay } from '../../src/domain/backoff';

describe('backoffDelay', () => {
  it('doubles up to the ceiling, with jitter between half and all of it', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffDelay(a, 100, 1_000, () => 1))).toEqual([
      100, 200, 400, 800, 1_000,
    ]);
    expect([1, 2, 3, 4, 10].map((a) => backoffDelay(a, 100, 1_000, () => 0))).toEqual([
      50, 100, 200, 400, 500,
    ]);
    expect(backoffDelay(1_000, 100, 1_000, () => 0.5)).toBe(750);
  });
});

describe('writer configuration', () => {
  it('has defaults for every setting', () => {
    expect(loadWriterConfig({})).toMatchObject({
      PORT: 8083,
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_TOPIC: TOPICS.events.name,
      KAFKA_DEAD_LETTER_TOPIC: TOPICS.deadLetter.name,
      KAFKA_GROUP_ID: 'splitstream-writer',
      MONGO_WRITE_URI: 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false',
      WRITER_MICRO_BATCH_SIZE: 1_000,
      WRITER_PARTITIONS_CONCURRENCY: 3,
    });
  });

  it('reads and converts the environment', () => {
    const config = loadWriterConfig({ KAFKA_BROKERS: 'a:1,b:2', WRITER_MICRO_BATCH_SIZE: '250', PORT: '0' });
    expect(config).toMatchObject({ KAFKA_BROKERS: 'a:1,b:2', WRITER_MICRO_BATCH_SIZE: 250, PORT: 0 });
  });

  it('refuses bad values, naming each', () => {
    const load = () =>
      loadWriterConfig({
        WRITER_MICRO_BATCH_SIZE: '0',
        MONGO_WRITE_URI: 'postgres://x',
        KAFKA_BROKERS: 'a, b',
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      /WRITER_MICRO_BATCH_SIZE[\s\S]*MONGO_WRITE_URI|MONGO_WRITE_URI[\s\S]*WRITER_MICRO_BATCH_SIZE/,
    );
    expect(load).toThrow(/KAFKA_BROKERS/);
  });
});
