import { after } from 'node:test';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createPostgresTopic } from './postgres-topic.ts';
import { topicContract } from './topic.contract.ts';

// A real Postgres (scripts/services-up.sh starts one), in a schema of this run's own.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 12 });
const schema = `log_test_${randomBytes(4).toString('hex')}`;

after(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
});

topicContract('postgres', async (name, partitions) => createPostgresTopic({ pool, name, partitions, schema }));
