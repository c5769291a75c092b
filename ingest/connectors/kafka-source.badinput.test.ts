import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { badInputSuite } from '../bad-input.testkit.ts';
import { kafkaSource } from './kafka-source.ts';
import { createKafkaTopic } from '../../log/kafka-topic.ts';
import type { ConnectorDefinition } from '../define-connector.ts';

// The Kafka source connector (machining schema) against a real Kafka topic: raw bytes produced by a
// plain kafkajs producer, so that wrongly encoded values reach the connector as they would from a plant.
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const T0 = Date.UTC(2026, 0, 1);

const message = (eventId: string, n: number, over: Record<string, unknown> = {}) => ({
  eventId,
  kind: 'exit',
  partId: `P${n}`,
  station: 'DIE',
  machine: 'DIE-1',
  operator: 'E0001',
  at: new Date(T0 + n * 1000).toISOString(),
  nextStation: 'BND',
  errorCode: null,
  cycleTimeMs: 1200,
  ...over,
});

badInputSuite({
  name: 'kafka (machining messages)',
  definition: kafkaSource as unknown as ConnectorDefinition<z.ZodType>,
  openTopic: (name, partitions) => createKafkaTopic({ brokers, name, partitions }),
  async setup() {
    const name = `bad.machining.${randomBytes(3).toString('hex')}`;
    const topic = createKafkaTopic({ brokers, name, partitions: 1 });
    await topic.ensure();
    await topic.close();
    const producer: Producer = new Kafka({ clientId: 'bad-input', brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    let n = 0;
    const send = async (value: Buffer | string | null) => {
      const [r] = await producer.send({ topic: name, messages: [{ key: `P${n}`, value, partition: 0 }] });
      return `${name}:0:${r.baseOffset}`;
    };
    const json = (over: Record<string, unknown>) => JSON.stringify(message(`bad-${n++}`, n, over));
    return {
      config: { topic: name, partitions: 1, schema: 'machining' },
      source: {
        async append(k) {
          const ids: string[] = [];
          for (let i = 0; i < k; i++) {
            const eventId = `ok-${name}-${n++}`;
            ids.push(`machining:${eventId}`);
            await send(JSON.stringify(message(eventId, n)));
          }
          return ids;
        },
        bad: [
          { class: 'malformed', what: 'not JSON', write: () => send('{"eventId": 42') },
          { class: 'malformed', what: 'an empty value (tombstone)', write: () => send(null) },
          { class: 'malformed', what: 'a JSON array', write: () => send('[1,2,3]') },
          { class: 'truncated', what: 'a message cut in half', write: () => send(json({}).slice(0, 60)) },
          {
            class: 'oversized',
            what: 'a 600 KiB operator id',
            write: () => send(json({ operator: 'E'.repeat(600 << 10) })),
          },
          { class: 'wrongly encoded', what: 'UTF-16LE JSON', write: () => send(Buffer.from(json({}), 'utf16le')) },
          {
            class: 'wrongly encoded',
            what: 'a Latin-1 byte in a UTF-8 message',
            write: () => {
              const [a, b] = json({ operator: 'M\u00fcller' }).split('\u00fc');
              return send(Buffer.concat([Buffer.from(a), Buffer.from([0xfc]), Buffer.from(b)]));
            },
          },
          {
            class: 'schema-drifted',
            what: 'station renamed stationId',
            write: () => send(json({ station: undefined, stationId: 'DIE' })),
          },
          {
            class: 'schema-drifted',
            what: 'cycleTimeMs as a string of seconds',
            write: () => send(json({ cycleTimeMs: '1.2' })),
          },
          { class: 'schema-drifted', what: 'an unknown kind', write: () => send(json({ kind: 'rework' })) },
        ],
        cleanup: () => producer.disconnect(),
      },
    };
  },
});
