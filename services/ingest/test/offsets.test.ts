import type { RecordMetadata } from 'kafkajs';
import { acknowledgedOffsets, layOut } from '../src/domain/offsets';

const outgoing = (partitions: number[]) =>
  partitions.map((partition, n) => ({ message: { key: `k${n}`, value: String(n) }, size: 1, partition }));

const record = (partition: number, baseOffset?: string): RecordMetadata => ({
  topicName: 't',
  partition,
  errorCode: 0,
  ...(baseOffset === undefined ? {} : { baseOffset }),
});

describe('layOut', () => {
  it('sets each message its partition and numbers it within that partition, in send order', () => {
    const { messages, placements } = layOut(outgoing([2, 0, 2, 2, 0]));
    expect(messages.map((m) => [m.key, m.partition])).toEqual([
      ['k0', 2],
      ['k1', 0],
      ['k2', 2],
      ['k3', 2],
      ['k4', 0],
    ]);
    expect(placements).toEqual([
      { partition: 2, index: 0 },
      { partition: 0, index: 0 },
      { partition: 2, index: 1 },
      { partition: 2, index: 2 },
      { partition: 0, index: 1 },
    ]);
  });
});

describe('acknowledgedOffsets', () => {
  it('adds each index to its partition base offset, as int64 decimal strings', () => {
    const { placements } = layOut(outgoing([1, 0, 1]));
    const written = acknowledgedOffsets([record(0, '7'), record(1, '9007199254740993')], placements);
    expect(written).toEqual([
      { partition: 1, offset: '9007199254740993' },
      { partition: 0, offset: '7' },
      { partition: 1, offset: '9007199254740994' },
    ]);
  });

  it('refuses a send with a partition the broker did not acknowledge', () => {
    const { placements } = layOut(outgoing([0, 3]));
    expect(() => acknowledgedOffsets([record(0, '1'), record(3)], placements)).toThrow(
      'no acknowledgement for partition 3',
    );
    expect(() => acknowledgedOffsets([record(0, '1')], placements)).toThrow(/partition 3/);
  });
});
