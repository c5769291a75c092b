import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { migrate } from '../store/migrate.ts';
import { createMemoryStore } from '../speed/memory-store.ts';
import { allMetrics } from '../metrics/index.ts';
import { createServing } from './create-serving.ts';

// The request's deadline reaches Postgres: a read that cannot finish in time is cancelled by the
// server (statement_timeout), not merely abandoned by the client, and the connection goes back to
// the pool healthy.
const pool = testPool();
const blocker = testPool();
const schema = testSchemaName('readbatch');

beforeAll(async () => {
  await migrate(pool, schema, 2);
});
afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
  await blocker.end();
});

describe('serving reads and the request deadline', () => {
  it('a read blocked past its deadline is cancelled in Postgres with DEADLINE_EXCEEDED; the pool stays usable', async () => {
    const serving = createServing({
      pool,
      schema,
      store: createMemoryStore(),
      metrics: allMetrics,
      partitions: 2,
      slice: 1000,
    });
    const q = { metric: 'parts_exited', grain: 'hour' as const, from: 0, to: 3_600_000 * 24 };
    // A DDL lock on the rollups (what a long migration would hold) blocks every read of them.
    const lock = await blocker.connect();
    try {
      await lock.query(`BEGIN; LOCK TABLE ${schema}.rollups IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      await assert.rejects(serving.series({ ...q, deadline: Date.now() + 300 }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'DEADLINE_EXCEEDED', err.message);
        return true;
      });
      assert.ok(Date.now() - started < 5000, `cut after ${Date.now() - started} ms`);
      // The server cancelled it: nothing of ours still waits on the lock.
      const waiting = await blocker.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%${schema}.rollups%'`,
      );
      assert.equal(waiting.rows[0].n, 0, 'a cancelled read still waits in Postgres');
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
    // The connections used are healthy: the same read, without a deadline, answers.
    for (let i = 0; i < 10; i++) {
      const r = await serving.series(q);
      assert.equal(r.metric, 'parts_exited');
    }
    assert.equal(pool.totalCount - pool.idleCount, 0, 'a connection was left checked out');
  });
});
