import { afterAll as after, beforeAll as before } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaTopic } from './kafka-topic.ts';
import { topicContract } from './topic.contract.ts';

// A real broker (scripts/services-up.sh starts one). Unreachable means a failed test, not a skip.
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const admin = new Kafka({
  clientId: 'millrace-test',
  brokers,
  logLevel: logLevel.NOTHING,
  retry: { retries: 3 },
}).admin();
const made = new Set<string>();

before(async () => {
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (err) {
    throw new Error(
      `Kafka is not reachable at ${brokers.join(',')} (run \`npm run services:up\`): ${(err as Error).message}`,
    );
  }
});

after(async () => {
  // Test topics would otherwise pile up in the broker's data dir run after run.
  if (made.size > 0) await admin.deleteTopics({ topics: [...made] }).catch(() => undefined);
  await admin.disconnect();
});

topicContract('kafka', async (name, partitions) => {
  made.add(name);
  return createKafkaTopic({ brokers, name, partitions, clientId: 'millrace-test' });
});
