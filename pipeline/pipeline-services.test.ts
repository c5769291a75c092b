import { randomUUID } from 'node:crypto';
import { pipelineContract } from './pipeline.contract.ts';
import { createKafkaTopic } from '../log/kafka-topic.ts';
import { createRedisStore, deletePrefixKeys } from '../speed/redis-store.ts';

// Production stack: real Kafka + real Redis (unreachable = failure, not a skip).
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `pipe-${randomUUID()}`;

pipelineContract('kafka + redis', {
  topic: (_pool, name) => createKafkaTopic({ brokers, name: `${name}-${randomUUID()}`, partitions: 3 }),
  store: () => createRedisStore({ url: redisUrl, prefix, slice: 50 }),
  flush: async (s) => {
    // What a FLUSHALL does to this deployment: every key of its prefix is gone.
    await deletePrefixKeys(redisUrl, prefix);
    return s;
  },
});
