import { it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { migrate } from '../store/migrate.ts';
import { createPostgresTopic } from '../log/postgres-topic.ts';
import { replayDeadLetters } from './replay.ts';
import { kafkaSource } from './connectors/kafka-source.ts';
import type { ConnectorDefinition } from './define-connector.ts';
import type { z } from 'zod';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';

const pool = testPool();
const schema = testSchemaName('replay');
before(() => migrate(pool, schema, 1));
after(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

it('publishes dead letters that parse now, marks them replayed, and keeps the rest with their new reason', async () => {
  const good = JSON.stringify({
    eventId: 'r1',
    kind: 'enter',
    partId: 'P1',
    station: 'DIE',
    machine: 'DIE-1',
    operator: 'E1',
    at: '2026-11-01T08:00:00.000Z',
    nextStation: null,
    errorCode: null,
    cycleTimeMs: null,
  });
  await pool.query(
    `INSERT INTO ${schema}.dead_letters (connector, source, position, raw, reason) VALUES
     ('m', 'kafka:t', 't:0:1', $1, 'rejected by an older, stricter schema'), ('m', 'kafka:t', 't:0:2', 'garbage', 'not JSON'), ('other', 'x', 'x:1', $1, 'n/a')`,
    [good],
  );
  const log = createPostgresTopic({ pool, name: 'replay_log', partitions: 1, schema });
  await log.ensure();
  const opts = {
    pool,
    schema,
    log,
    connector: 'm',
    definition: kafkaSource as unknown as ConnectorDefinition<z.ZodType>,
    config: { topic: 't', schema: 'machining' },
  };
  assert.deepEqual(await replayDeadLetters(opts), { examined: 2, replayed: 1, stillRejected: 1 });
  const rec = await pool.query(`SELECT value FROM ${schema}.records WHERE topic = 'replay_log'`);
  assert.equal(rec.rowCount, 1);
  assert.equal(JSON.parse(rec.rows[0].value).id, 'machining:r1');
  const dl = await pool.query(
    `SELECT position, reason, replayed_at IS NOT NULL AS done FROM ${schema}.dead_letters WHERE connector = 'm' ORDER BY position`,
  );
  assert.deepEqual(dl.rows, [
    { position: 't:0:1', reason: 'rejected by an older, stricter schema', done: true },
    { position: 't:0:2', reason: 'not JSON', done: false },
  ]);
  // A second replay examines only what is still rejected.
  assert.deepEqual(await replayDeadLetters(opts), { examined: 1, replayed: 0, stillRejected: 1 });
  await log.close();
});
