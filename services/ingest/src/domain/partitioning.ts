import { Partitioners, type PartitionMetadata } from 'kafkajs';

// kafkajs's default partitioner is the Java client's (murmur2 of the key), so any other producer
// of this topic agrees on where a key lives. For keyed messages it only reads the partition count.
const partitioner = Partitioners.DefaultPartitioner();
const metadataByCount = new Map<number, PartitionMetadata[]>();

function metadataFor(partitions: number): PartitionMetadata[] {
  let metadata = metadataByCount.get(partitions);
  if (!metadata) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [],
      isr: [],
    }));
    metadataByCount.set(partitions, metadata);
  }
  return metadata;
}

/** The partition Kafka's default partitioner picks for `key` on a topic with `partitions` partitions. */
export function partitionFor(key: string, partitions: number): number {
  return partitioner({
    topic: '',
    partitionMetadata: metadataFor(partitions),
    message: { key, value: null },
  });
}
