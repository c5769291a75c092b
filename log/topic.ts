/**
 * A partitioned, ordered, append-only topic (the log and the simulator's source topics).
 * Implementations: `kafka-topic.ts` (production), `postgres-topic.ts` (embedded). One contract
 * suite (`topic.contract.ts`) runs over both.
 */
export interface TopicRecord {
  partition: number;
  /** Position inside the partition; contiguous from 0 for both implementations. */
  offset: number;
  key: string;
  value: string;
  /** Append time, epoch ms, as the topic recorded it. */
  timestamp: number;
  /**
   * Set when the record's batch could not be read (log/unreadable-batch.ts): why. Its key and value
   * are then empty; a reader dead-letters it with this reason. Absent otherwise.
   */
  unreadable?: string;
}

export interface TopicBatch {
  partition: number;
  records: TopicRecord[];
}

export interface ConsumeOptions {
  /** Consumer group id; one member owns each partition. */
  group: string;
  /**
   * Where to start reading partition `p` when this member is given it. The consumer's own store
   * (Postgres) holds the truth; the topic's committed offsets are only a hint.
   */
  startOffset: (partition: number) => Promise<number>;
  /**
   * Called with consecutive batches per partition, in order. When it resolves, the batch is done
   * and the topic may record `last offset + 1` as a hint. When it rejects, the same records are
   * delivered again (after a back-off) from `startOffset`.
   */
  onBatch: (batch: TopicBatch) => Promise<void>;
  /** Upper bound on records per batch. Default 500. */
  maxBatch?: number;
  /**
   * Reading failed outside `onBatch` (a fetch the client could not decode, a consumer that crashed);
   * the topic retries by itself. Lets the consumer show why it does not progress. Default: ignored.
   */
  onError?: (err: Error) => void;
}

export interface Subscription {
  /** Stop consuming; resolves once no `onBatch` is running. */
  stop(): Promise<void>;
}

export interface Topic {
  readonly name: string;
  readonly partitions: number;
  /** Create the topic when missing (idempotent). */
  ensure(): Promise<void>;
  /**
   * Append records; resolves only once all are durably acknowledged. Partition = `partitionFor(key)`.
   * Returns the assigned positions in input order.
   */
  publish(records: Array<{ key: string; value: string }>): Promise<Array<{ partition: number; offset: number }>>;
  /** Consume as a member of a consumer group. */
  consume(options: ConsumeOptions): Promise<Subscription>;
  /** Next offset to be written, per partition (index = partition). */
  endOffsets(): Promise<number[]>;
  close(): Promise<void>;
}

/** FNV-1a 32-bit: a stable key → partition mapping shared by every implementation. */
export function partitionFor(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}
