import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { kafkaSource } from './kafka-source.ts';
import { createKafkaTopic } from '../../log/kafka-topic.ts';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import { migrate } from '../../store/migrate.ts';
import { skipPosition } from '../skip-position.ts';
import { waitFor } from '../../log/topic.contract.ts';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import type { Connector } from '../define-connector.ts';

// A batch the reader cannot decode stops a partition (the issue: snappy before kafkajs knew it).
// Here a real librdkafka snappy batch meets kafkajs without a snappy codec, as before the fix: the
// connector must say so (stalled, lastError), keep trying, and go on once skipped.
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const exec = promisify(execFile);
const { CompressionCodecs, CompressionTypes } = kafkajs;

const machining = (n: number) =>
  JSON.stringify({
    eventId: `fault-${n}`,
    kind: 'enter',
    partId: `P${n}`,
    station: 'DIE',
    machine: 'DIE-1',
    operator: 'E0001',
    at: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    nextStation: null,
    errorCode: null,
    cycleTimeMs: null,
  });

describe(
  'kafka source: compressed batches, and an unreadable batch that is visible and can be skipped',
  { timeout: 120_000 },
  () => {
    const pool = testPool();
    const schema = testSchemaName('kfault');
    const topicName = `fault-${randomBytes(3).toString('hex')}`;
    const log = createPostgresTopic({ pool, name: 'log', partitions: 2, schema });
    const admin = new Kafka({ clientId: 'millrace-test', brokers, logLevel: logLevel.NOTHING }).admin();
    let connector: Connector | null = null;
    const extraTopics: string[] = [];
    const table = CompressionCodecs as Record<number, () => unknown>;
    let realSnappy: () => unknown;

    before(async () => {
      await migrate(pool, schema, 2);
      await log.ensure();
    });
    after(async () => {
      await connector?.stop();
      if (realSnappy) table[CompressionTypes.Snappy] = realSnappy;
      await log.close();
      await admin.connect();
      await admin.deleteTopics({ topics: [topicName, ...extraTopics] }).catch(() => undefined);
      await admin.disconnect();
      await dropSchema(pool, schema);
      await pool.end();
    });

    it('publishes machining messages librdkafka compressed with each codec', async () => {
      const name = `${topicName}-codecs`;
      const source = createKafkaTopic({ brokers, name, partitions: 1, clientId: 'millrace-test' });
      await source.ensure();
      extraTopics.push(name);
      const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
      for (const [i, codec] of codecs.entries()) {
        const child = exec(
          'kcat',
          ['-P', '-b', brokers.join(','), '-t', name, '-p', '0', '-z', codec, '-X', 'linger.ms=200'],
          { timeout: 30_000 },
        );
        child.child.stdin!.end(
          [0, 1, 2].map((k) => `${machining(100 + i * 3 + k).replace('}', `,"pad":"${'x'.repeat(500)}"}`)}\n`).join(''),
        );
        await child;
      }
      await source.close();
      const c = kafkaSource.create(kafkaSource.config.parse({ topic: name, partitions: 1, schema: 'machining' }), {
        name: 'codecs',
        pool,
        schema,
        log,
        prefix: `t${randomBytes(3).toString('hex')}`,
        openTopic: (n, p) =>
          createKafkaTopic({ brokers, name: n, partitions: p, clientId: 'millrace-test', logLevel: logLevel.NOTHING }),
        onError: () => undefined,
      });
      await c.start();
      try {
        await waitFor('12 events from 4 compressed batches', async () => (await c.status()).events === 12, 60_000);
        const st = await c.status();
        assert.deepEqual([st.lag, st.deadLetters, st.state], [0, 0, 'running']);
        const ids = (await pool.query(`SELECT value FROM ${schema}.records`)).rows.map((x) => JSON.parse(x.value).id);
        for (let n = 100; n < 112; n++)
          assert.ok(ids.includes(`machining:fault-${n}`), `machining:fault-${n} in the log`);
        await pool.query(`DELETE FROM ${schema}.records`);
      } finally {
        await c.stop();
      }
    });

    it('stalls with the reason, then reads on after `skip` (the range a dead letter)', async () => {
      const source = createKafkaTopic({ brokers, name: topicName, partitions: 1, clientId: 'millrace-test' });
      await source.ensure();
      // Offsets 0..2: one snappy batch from librdkafka, made unreadable below.
      const child = exec(
        'kcat',
        ['-P', '-b', brokers.join(','), '-t', topicName, '-p', '0', '-z', 'snappy', '-X', 'linger.ms=200'],
        { timeout: 30_000 },
      );
      child.child.stdin!.end(
        [0, 1, 2].map((n) => `${machining(n).replace('}', `,"pad":"${'x'.repeat(500)}"}`)}\n`).join(''),
      );
      await child;
      connector = kafkaSource.create(
        kafkaSource.config.parse({ topic: topicName, partitions: 1, schema: 'machining' }),
        {
          name: 'machining',
          pool,
          schema,
          log,
          prefix: `t${randomBytes(3).toString('hex')}`,
          stallAfterMs: 200,
          openTopic: (n, p) =>
            createKafkaTopic({
              brokers,
              name: n,
              partitions: p,
              clientId: 'millrace-test',
              logLevel: logLevel.NOTHING,
            }),
          onError: () => undefined,
        },
      );
      // After the connector opened its topic (which registers the real codecs).
      realSnappy = table[CompressionTypes.Snappy];
      // Exactly what kafkajs did before it knew snappy: a non-retriable error, so kafkajs stops the
      // consumer for good (restart: false) and the connector must start a new one itself.
      table[CompressionTypes.Snappy] = () => {
        throw new kafkajs.KafkaJSNonRetriableError('Snappy compression not implemented');
      };
      await connector.start();
      await waitFor(
        'the connector to report stalled',
        async () => (await connector!.status()).state === 'stalled',
        60_000,
      );
      const stalled = await connector.status();
      assert.match(stalled.lastError ?? '', /Snappy compression not implemented/);
      assert.equal(stalled.lag, 3);

      // New, readable records after the poisoned batch; then the operator skips the batch.
      await source.publish([3, 4].map((n) => ({ key: `P${n}`, value: machining(n) })));
      await source.close();
      const r = await skipPosition({
        pool,
        schema,
        connector: 'machining',
        source: `kafka:${topicName}`,
        positionPrefix: topicName,
        partition: 0,
        to: 3,
        note: 'test',
      });
      assert.deepEqual(r, { from: 0, to: 3, position: `${topicName}:0:0-2` });

      await waitFor(
        'records after the skip in the log',
        async () => (await pool.query(`SELECT count(*)::int AS n FROM ${schema}.records`)).rows[0].n === 2,
        60_000,
      );
      const ids = (await pool.query(`SELECT value FROM ${schema}.records`)).rows
        .map((x) => JSON.parse(x.value).id)
        .sort();
      assert.deepEqual(ids, ['machining:fault-3', 'machining:fault-4']);
      await waitFor('running again', async () => (await connector!.status()).state === 'running', 30_000);
      const after = await connector.status();
      assert.equal(after.lastError, null);
      assert.equal(after.lag, 0);
      assert.equal(after.deadLetters, 1);
      const dl = await pool.query(`SELECT position, reason FROM ${schema}.dead_letters WHERE connector = 'machining'`);
      assert.equal(dl.rows[0].position, `${topicName}:0:0-2`);
      assert.match(dl.rows[0].reason, /skipped by an operator \(offsets 0\.\.2 not read\)/);
    });
  },
);
