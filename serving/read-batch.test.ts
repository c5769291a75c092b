import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pg from 'pg';
import { TEST_DATABASE_URL, dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
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

const q = { metric: 'parts_exited', grain: 'hour' as const, from: 0, to: 3_600_000 * 24 };

const servingOver = (over: pg.Pool, poolStatementTimeoutMs?: number) =>
  createServing({
    pool: over,
    schema,
    store: createMemoryStore(),
    metrics: allMetrics,
    partitions: 2,
    slice: 1000,
    poolStatementTimeoutMs,
  });

/** Runs `fn` while a DDL lock on the rollups (what a long migration would hold) blocks every read of them. */
async function withRollupsLocked(fn: () => Promise<void>): Promise<void> {
  const lock = await blocker.connect();
  try {
    await lock.query(`BEGIN; LOCK TABLE ${schema}.rollups IN ACCESS EXCLUSIVE MODE`);
    await fn();
  } finally {
    await lock.query('ROLLBACK');
    lock.release();
  }
}

/** Our reads waiting on that lock in Postgres. */
const readsWaiting = async (): Promise<Array<{ bare: boolean }>> =>
  (
    await blocker.query(
      `SELECT xact_start = query_start AS bare FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE '%${schema}.rollups%'`,
    )
  ).rows;

const deadlineExceeded = (err: Error & { code?: string }) => {
  assert.equal(err.code, 'DEADLINE_EXCEEDED', err.message);
  return true;
};

describe('serving reads and the request deadline', () => {
  it('a read blocked past its deadline is cancelled in Postgres with DEADLINE_EXCEEDED; the pool stays usable', async () => {
    const serving = servingOver(pool);
    await withRollupsLocked(async () => {
      const started = Date.now();
      await assert.rejects(serving.series({ ...q, deadline: Date.now() + 300 }), deadlineExceeded);
      assert.ok(Date.now() - started < 5000, `cut after ${Date.now() - started} ms`);
      // The server cancelled it: nothing of ours still waits on the lock.
      assert.equal((await readsWaiting()).length, 0, 'a cancelled read still waits in Postgres');
    });
    // The connections used are healthy: the same read, without a deadline, answers.
    for (let i = 0; i < 10; i++) {
      const r = await serving.series(q);
      assert.equal(r.metric, 'parts_exited');
    }
    assert.equal(pool.totalCount - pool.idleCount, 0, 'a connection was left checked out');
  });

  it("a deadline about as far as the connections' own statement_timeout runs as the bare statement, cancelled at it", async () => {
    // The pool's connections time out at 800 ms (as app/modules.ts sets MILLRACE_DEADLINE_MS).
    const timed = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2, statement_timeout: 800 });
    const serving = servingOver(timed, 800);
    try {
      await withRollupsLocked(async () => {
        const read = serving.series({ ...q, deadline: Date.now() + 800 });
        // Blocked on the lock: a bare statement is its own transaction (no BEGIN before it).
        let row: { bare: boolean } | undefined;
        for (let i = 0; i < 200 && !row; i++) row = (await readsWaiting())[0];
        assert.ok(row, 'the read never waited on the lock');
        assert.equal(row.bare, true, 'the read ran inside a transaction of its own (BEGIN; SET LOCAL …)');
        await assert.rejects(read, deadlineExceeded);
        assert.equal((await readsWaiting()).length, 0, 'a cancelled read still waits in Postgres');
        // A deadline much sooner than the connections' timeout still sets its own.
        const started = Date.now();
        await assert.rejects(serving.series({ ...q, deadline: Date.now() + 150 }), /deadline/);
        assert.ok(Date.now() - started < 700, `cut after ${Date.now() - started} ms`);
      });
    } finally {
      await timed.end();
    }
  });
});
