import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from './test-db.ts';
import { inTransaction } from './pg-tx.ts';

const pool = testPool();
const schema = testSchemaName('pgtx');

describe('inTransaction', () => {
  before(() => pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (n int)`));
  after(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('commits what fn did when it resolves, rolls it back when it throws', async () => {
    assert.equal(
      await inTransaction(pool, async (c) => (await c.query(`INSERT INTO ${schema}.t VALUES (1)`), 'ok')),
      'ok',
    );
    await assert.rejects(
      inTransaction(pool, async (c) => {
        await c.query(`INSERT INTO ${schema}.t VALUES (2)`);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual((await pool.query(`SELECT n FROM ${schema}.t`)).rows, [{ n: 1 }]);
  });

  it('runs at the isolation level it is given', async () => {
    const level = await inTransaction(
      pool,
      async (c) => (await c.query('SHOW transaction_isolation')).rows[0].transaction_isolation,
      'BEGIN ISOLATION LEVEL REPEATABLE READ',
    );
    assert.equal(level, 'repeatable read');
  });

  it('drops a broken connection instead of returning it to the pool', async () => {
    let pid = 0;
    await assert.rejects(
      inTransaction(pool, async (c) => {
        c.on('error', () => undefined); // the terminated session's socket error: the statement below reports it
        pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        // Another session kills this one: the next statement and the ROLLBACK both fail.
        await pool.query('SELECT pg_terminate_backend($1)', [pid]);
        await c.query('SELECT 1');
      }),
    );
    // Every pooled connection now is a live one: none is the killed backend.
    const pids = await Promise.all(
      Array.from({ length: 3 }, () =>
        inTransaction(pool, async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid),
      ),
    );
    assert.ok(!pids.includes(pid), `the killed backend ${pid} is not reused`);
    assert.equal(await inTransaction(pool, async (c) => (await c.query('SELECT 1 AS one')).rows[0].one), 1);
  });
});
