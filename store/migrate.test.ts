import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import pg from 'pg';
import { dropSchema, TEST_DATABASE_URL, testPool, testSchemaName } from '../lib/test-db.ts';
import { migrate } from './migrate.ts';

describe('migrate', () => {
  const pool = testPool();
  // Fails fast instead of waiting: a lock migrate should not need is an error here, not a hang.
  const impatient = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2, options: '-c lock_timeout=2000' });
  const schema = testSchemaName('migrate');
  after(async () => {
    await dropSchema(pool, schema);
    await impatient.end();
    await pool.end();
  });

  it('creates everything once, then adds missing offset rows for more partitions', async () => {
    await migrate(pool, schema, 2);
    await migrate(pool, schema, 4);
    const r = await pool.query(
      `SELECT (SELECT count(*) FROM ${schema}.loader_offsets)::int AS l, (SELECT count(*) FROM ${schema}.batch_watermarks)::int AS b`,
    );
    assert.deepEqual(r.rows[0], { l: 4, b: 4 });
  });

  it('on a complete schema takes no lock a working loader holds (it used to deadlock the loader)', async () => {
    const loader = await pool.connect();
    try {
      // What the loader holds mid-transaction: its offset row and a write lock on raw_events.
      await loader.query('BEGIN');
      await loader.query(`UPDATE ${schema}.loader_offsets SET next_offset = next_offset WHERE partition = 0`);
      await loader.query(
        `INSERT INTO ${schema}.raw_events (id, source, type, key, event_time, payload, partition, log_offset) VALUES ('x', 's', 't', 'k', 0, '{}', 0, 0)`,
      );
      await migrate(impatient, schema, 4);
    } finally {
      await loader.query('ROLLBACK');
      loader.release();
    }
  });

  it('repairs a schema missing a table', async () => {
    await pool.query(`DROP TABLE ${schema}.pairings`);
    await migrate(pool, schema, 4);
    assert.equal((await pool.query(`SELECT to_regclass('${schema}.pairings') IS NOT NULL AS ok`)).rows[0].ok, true);
  });
});
