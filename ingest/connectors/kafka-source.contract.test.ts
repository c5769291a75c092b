import { randomBytes } from 'node:crypto';
import { connectorContract } from '../connector.contract.ts';
import { kafkaSource } from './kafka-source.ts';
import { createKafkaTopic } from '../../log/kafka-topic.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import type { z } from 'zod';

// The Kafka source connector against a real Kafka source topic (the log is a Postgres table topic).
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

connectorContract({
  name: 'kafka (machining messages)',
  definition: kafkaSource as unknown as ConnectorDefinition<z.ZodType>,
  openTopic: (name, partitions) => createKafkaTopic({ brokers, name, partitions }),
  async setup() {
    const name = `contract.machining.${randomBytes(3).toString('hex')}`;
    const topic = createKafkaTopic({ brokers, name, partitions: 2 });
    await topic.ensure();
    let n = 0;
    return {
      config: { topic: name, partitions: 2, schema: 'machining' },
      source: {
        async append(k) {
          const ids: string[] = [];
          const msgs = Array.from({ length: k }, () => {
            const eventId = `c-${name}-${n++}`;
            ids.push(`machining:${eventId}`);
            const value = {
              eventId,
              kind: 'enter',
              partId: `P${n}`,
              station: 'DIE',
              machine: 'DIE-1',
              operator: 'E0001',
              at: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
              nextStation: null,
              errorCode: null,
              cycleTimeMs: null,
            };
            return { key: `P${n}`, value: JSON.stringify(value) };
          });
          await topic.publish(msgs);
          return ids;
        },
        async appendMalformed() {
          const [pos] = await topic.publish([{ key: 'bad', value: '{"eventId": 42' }]);
          return `${name}:${pos.partition}:${pos.offset}`;
        },
        cleanup: () => topic.close(),
      },
    };
  },
});
