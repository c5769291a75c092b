import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import kafkajs, { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import { snappyDecompress } from '@platformatic/wasm-utils';
import { kafkaSource } from './kafka-source.ts';
import { createKafkaTopic } from '../../log/kafka-topic.ts';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import { guardDecompress, UNREADABLE_ATTEMPTS } from '../../log/unreadable-batch.ts';
import { migrate } from '../../store/migrate.ts';
import { waitFor } from '../../log/topic.contract.ts';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import type { Connector } from '../define-connector.ts';

// A batch that stays unreadable is dead-lettered by itself after its retries and the connector reads
// on; a broker that is only unreachable for a while is waited for, and nothing is dead-lettered.
// Real Kafka, batches produced by librdkafka (kcat), real broker connections cut for the second.
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const exec = promisify(execFile);
const { CompressionCodecs, CompressionTypes } = kafkajs;

const machining = (n: number) =>
  JSON.stringify({
    eventId: `unr-${n}`,
    kind: 'enter',
    partId: `P${n}`,
    station: 'DIE',
    machine: 'DIE-1',
    operator: 'E0001',
    at: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    nextStation: null,
    errorCode: null,
    cycleTimeMs: null,
    pad: 'x'.repeat(500), // librdkafka sends a batch uncompressed when compressing would not shrink it
  });

/** One batch of `ns` to partition 0 with kcat, compressed with `codec` (or none). */
async function kcat(topic: string, codec: string, ns: number[]): Promise<void> {
  const child = exec(
    'kcat',
    ['-P', '-b', brokers.join(','), '-t', topic, '-p', '0', '-z', codec, '-X', 'linger.ms=200'],
    { timeout: 30_000 },
  );
  child.child.stdin!.end(ns.map((n) => `${machining(n)}\n`).join(''));
  await child;
}

describe(
  'kafka source: unreadable batches are dead-lettered, broker outages are waited out',
  { timeout: 180_000 },
  () => {
    const pool = testPool();
    const schema = testSchemaName('kunr');
    const run = randomBytes(3).toString('hex');
    const log = createPostgresTopic({ pool, name: 'log', partitions: 2, schema });
    const admin = new Kafka({ clientId: 'millrace-test', brokers, logLevel: logLevel.NOTHING }).admin();
    const topics: string[] = [];
    const connectors: Connector[] = [];
    const table = CompressionCodecs as Record<number, () => unknown>;
    let realSnappy: (() => unknown) | null = null;

    const open = (topic: string, name: string, errors: string[], socketFactory?: ISocketFactory) => {
      const c = kafkaSource.create(kafkaSource.config.parse({ topic, partitions: 1, schema: 'machining' }), {
        name,
        pool,
        schema,
        log,
        prefix: `t${run}`,
        stallAfterMs: 60_000,
        openTopic: (n, p) =>
          createKafkaTopic({
            brokers,
            name: n,
            partitions: p,
            clientId: 'millrace-test',
            logLevel: logLevel.NOTHING,
            socketFactory,
          }),
        onError: (err) => void errors.push((err as Error).message),
      });
      connectors.push(c);
      return c;
    };
    const logIds = async () =>
      (await pool.query(`SELECT value FROM ${schema}.records`)).rows.map((x) => JSON.parse(x.value).id as string);
    const deadLetters = async (connector: string) =>
      (await pool.query(`SELECT position, reason FROM ${schema}.dead_letters WHERE connector = $1`, [connector])).rows;

    before(async () => {
      await migrate(pool, schema, 2);
      await log.ensure();
    });
    after(async () => {
      for (const c of connectors) await c.stop();
      if (realSnappy) table[CompressionTypes.Snappy] = realSnappy;
      await log.close();
      await admin.connect();
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
      await dropSchema(pool, schema);
      await pool.end();
    });

    it(`dead-letters a batch that cannot be read after ${UNREADABLE_ATTEMPTS} attempts and reads the records around it`, async () => {
      const topic = `unr-${run}-corrupt`;
      const source = createKafkaTopic({ brokers, name: topic, partitions: 1, clientId: 'millrace-test' });
      await source.ensure();
      await source.close();
      topics.push(topic);
      await kcat(topic, 'none', [0, 1]); // offsets 0, 1
      await kcat(topic, 'snappy', [2, 3, 4]); // offsets 2..4: the batch made unreadable
      await kcat(topic, 'none', [5, 6]); // offsets 5, 6
      const c = open(topic, 'corrupt', []);
      // After the connector opened its topic (which registers the guarded codecs): a snappy codec whose
      // output is the batch's records less their last byte — a corrupt record set, through the real guard.
      realSnappy = table[CompressionTypes.Snappy];
      let seen = 0;
      const corrupt = guardDecompress('snappy', CompressionTypes.Snappy, async (b) => {
        seen++;
        const out = snappyDecompress(b);
        return out.subarray(0, out.length - 1);
      });
      table[CompressionTypes.Snappy] = () => ({ compress: async () => Buffer.alloc(0), decompress: corrupt });
      await c.start();
      const errorsSeen: string[] = [];
      await waitFor(
        'the good records on both sides of the batch',
        async () => {
          const st = await c.status();
          if (st.lastError) errorsSeen.push(st.lastError);
          return (await logIds()).length === 4;
        },
        90_000,
      );
      assert.deepEqual(
        (await logIds()).sort(),
        [0, 1, 5, 6].map((n) => `machining:unr-${n}`),
      );
      assert.ok(seen >= UNREADABLE_ATTEMPTS, `the batch was tried ${seen} times`);
      const dl = await deadLetters('corrupt');
      assert.equal(dl.length, 1, JSON.stringify(dl));
      assert.equal(dl[0].position, `${topic}:0:2-4`);
      assert.match(
        dl[0].reason,
        /the snappy batch at offsets 2\.\.4 could not be read in 3 attempts: it decompresses to/,
      );
      const st = await c.status();
      assert.deepEqual([st.lag, st.deadLetters, st.lastError, st.state], [0, 1, null, 'running']);
      await kcat(topic, 'none', [7]);
      await waitFor('a record after it', async () => (await logIds()).includes('machining:unr-7'), 30_000);
      table[CompressionTypes.Snappy] = realSnappy;
      await c.stop();
    });

    it('waits out a broker it cannot reach: no dead letter, every record once', async () => {
      const topic = `unr-${run}-outage`;
      const source = createKafkaTopic({ brokers, name: topic, partitions: 1, clientId: 'millrace-test' });
      await source.ensure();
      await source.close();
      topics.push(topic);
      await pool.query(`DELETE FROM ${schema}.records`);
      // Every broker connection of the connector's client goes through here; `cut` refuses them all.
      const sockets = new Set<net.Socket>();
      let cut = false;
      const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
        const s = net.connect({ host, port }, onConnect);
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        if (cut) s.destroy(new Error('connection cut by the test'));
        return s;
      };
      const errors: string[] = [];
      const c = open(topic, 'outage', errors, socketFactory);
      await kcat(topic, 'none', [10, 11]);
      await c.start();
      await waitFor('the first records', async () => (await logIds()).length === 2, 60_000);
      cut = true;
      for (const s of sockets) s.destroy(new Error('connection cut by the test'));
      // Compressed records arrive while the connector cannot reach the broker.
      await kcat(topic, 'snappy', [12, 13, 14]);
      await kcat(topic, 'lz4', [15, 16]);
      // status() itself asks the broker for the topic's end, so it cannot answer during the cut.
      await waitFor('the outage to be reported', async () => errors.length > 0, 90_000);
      assert.match(errors.join('\n'), /connection cut by the test/);
      cut = false;
      await waitFor('every record after the outage', async () => (await logIds()).length === 7, 90_000);
      const ids = await logIds();
      assert.deepEqual(
        ids.sort(),
        [10, 11, 12, 13, 14, 15, 16].map((n) => `machining:unr-${n}`),
      );
      assert.deepEqual(await deadLetters('outage'), [], 'a broker outage is not a dead letter');
      await waitFor('running again', async () => (await c.status()).state === 'running', 30_000);
      const st = await c.status();
      assert.deepEqual([st.lag, st.deadLetters, st.lastError], [0, 0, null]);
      await c.stop();
    });
  },
);
