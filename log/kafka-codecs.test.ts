import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { snappyCompress } from '@platformatic/wasm-utils';
import { createKafkaTopic } from './kafka-topic.ts';
import { decodeSnappy } from './kafka-codecs.ts';
import { waitFor } from './topic.contract.ts';
import type { Topic, TopicRecord } from './topic.ts';

// Batches compressed by librdkafka (kcat, Debian's build), not by a JavaScript client: what a plant's
// producers write. kcat is installed by scripts/services-up.sh.
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const run = randomBytes(3).toString('hex');
const exec = promisify(execFile);
const { CompressionCodecs, CompressionTypes } = kafkajs;

/** Produce `values` to one partition with kcat in one compressed batch (linger lets them gather). */
async function kcatProduce(topic: string, codec: string, values: string[]): Promise<void> {
  const child = exec(
    'kcat',
    ['-P', '-b', brokers.join(','), '-t', topic, '-p', '0', '-z', codec, '-K', '\t', '-X', 'linger.ms=200'],
    { timeout: 30_000 },
  );
  child.child.stdin!.end(values.map((v, i) => `k${i}\t${v}\n`).join(''));
  await child;
}

describe('Kafka codecs: batches produced by librdkafka (kcat -z)', { timeout: 120_000 }, () => {
  const topics: Topic[] = [];
  const admin = new Kafka({ clientId: 'millrace-test', brokers, logLevel: logLevel.NOTHING }).admin();
  after(async () => {
    await Promise.all(topics.map((t) => t.close()));
    await admin.connect();
    await admin.deleteTopics({ topics: topics.map((t) => t.name) }).catch(() => undefined);
    await admin.disconnect();
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`reads ${codec}-compressed messages, in order, with their keys`, async () => {
      const topic = createKafkaTopic({
        brokers,
        name: `codec-${run}-${codec}`,
        partitions: 1,
        clientId: 'millrace-test',
      });
      topics.push(topic);
      await topic.ensure();
      // Repetitive, kilobyte-sized values: librdkafka sends a batch uncompressed when compressing would not shrink it.
      const values = Array.from({ length: 3 }, (_, i) => JSON.stringify({ n: i, pad: 'machining '.repeat(100 + i) }));
      await kcatProduce(topic.name, codec, values);
      // Prove the batch reached kafkajs compressed: count lookups of this codec while reading.
      const type =
        CompressionTypes[codec === 'gzip' ? 'GZIP' : codec === 'snappy' ? 'Snappy' : codec === 'lz4' ? 'LZ4' : 'ZSTD'];
      const table = CompressionCodecs as Record<number, () => unknown>;
      const real = table[type];
      let lookups = 0;
      table[type] = () => {
        lookups++;
        return real();
      };
      const got: TopicRecord[] = [];
      const sub = await topic.consume({
        group: `codec-${run}-${codec}`,
        startOffset: async () => 0,
        onBatch: async (b) => {
          got.push(...b.records);
        },
      });
      try {
        await waitFor(`${values.length} ${codec} records`, () => got.length >= values.length, 60_000);
      } finally {
        await sub.stop();
        table[type] = real;
      }
      assert.deepEqual(
        got.map((r) => [r.offset, r.key, r.value]),
        values.map((v, i) => [i, `k${i}`, v]),
      );
      assert.ok(lookups > 0, `the ${codec} codec was never asked to decode: kcat did not compress the batch`);
    });
  }
});

describe('decodeSnappy', () => {
  it('reads raw snappy and the xerial framing Java clients write', () => {
    const a = Buffer.from('first block '.repeat(50));
    const b = Buffer.from('second block '.repeat(40));
    assert.deepEqual(decodeSnappy(snappyCompress(a)), a);
    const block = (x: Buffer) => {
      const c = snappyCompress(x);
      const h = Buffer.alloc(4);
      h.writeInt32BE(c.length);
      return [h, c];
    };
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.deepEqual(decodeSnappy(Buffer.concat([header, ...block(a), ...block(b)])), Buffer.concat([a, b]));
  });

  it('refuses a truncated xerial block with a clear error', () => {
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const len = Buffer.alloc(4);
    len.writeInt32BE(1000);
    assert.throws(() => decodeSnappy(Buffer.concat([header, len, Buffer.from('short')])), /runs past the batch/);
  });
});
