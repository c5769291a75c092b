import { partitionFor, type Topic, type TopicRecord } from '../../log/topic.ts';

/**
 * TEST DOUBLE of the simulator's destination (the `Topic` interface of `log/topic.ts`): it records
 * publishes in memory so tests can see exactly what the simulator sent and make publishing fail.
 * The real implementations (Kafka, Postgres table) have their own contract suite; this one only
 * stands in for them in simulator and verify unit tests.
 */
export interface RecordingTopic extends Topic {
  /** Every record written, in publish order. */
  readonly records: TopicRecord[];
  /**
   * Make the next publish fail: `before-write` rejects and writes nothing; `after-write` writes the
   * records and then rejects (the ack was lost), so a retry produces duplicates — as Kafka can.
   */
  failNext(mode: 'before-write' | 'after-write'): void;
  publishCalls: number;
}

export function createRecordingTopic(name = 'machining', partitions = 4): RecordingTopic {
  const records: TopicRecord[] = [];
  const ends = new Array<number>(partitions).fill(0);
  let fail: 'before-write' | 'after-write' | null = null;
  const topic: RecordingTopic = {
    name,
    partitions,
    records,
    publishCalls: 0,
    failNext(mode) {
      fail = mode;
    },
    async ensure() {},
    async publish(batch) {
      topic.publishCalls++;
      const mode = fail;
      fail = null;
      if (mode === 'before-write') throw new Error('broker unavailable (test)');
      const positions = batch.map(({ key, value }) => {
        const partition = partitionFor(key, partitions);
        const offset = ends[partition]++;
        records.push({ partition, offset, key, value, timestamp: 0 });
        return { partition, offset };
      });
      if (mode === 'after-write') throw new Error('request timed out (test)');
      return positions;
    },
    async consume() {
      throw new Error('recording topic: consume is not supported (test double)');
    },
    async endOffsets() {
      return [...ends];
    },
    async close() {},
  };
  return topic;
}
