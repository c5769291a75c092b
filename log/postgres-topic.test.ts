import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createPostgresTopic } from './postgres-topic.ts';
import { topicContract } from './topic.contract.ts';

// A real Postgres (scripts/services-up.sh starts one), in a schema of this run's own.
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  max: 12,
});
const schema = `log_test_${randomBytes(4).toString('hex')}`;

after(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
});

topicContract('postgres', async (name, partitions) => createPostgresTopic({ pool, name, partitions, schema }));

describe('postgres topic: the values as sent (two JSON arrays, not text[])', () => {
  it('stores every string exactly: JSON with escapes, backslashes, control characters; a lone surrogate as U+FFFD, as any UTF-8 text', async () => {
    const t = createPostgresTopic({ pool, name: `enc_${randomBytes(3).toString('hex')}`, partitions: 2, schema });
    await t.ensure();
    const odd = [
      '{"a":"b \\"c\\" \\\\ d","e":"\\u00e9\\n"}',
      '\\',
      '\\\\"',
      '"',
      '{}',
      '[1,"x"]',
      'null',
      '\u0001\u0008\u000c\u001f\u007f',
      'tab\there',
      '\u2028\u2029',
      'é😀',
      ' lead and trail ',
    ];
    const input = [...odd.map((value, i) => ({ key: `k-${i}-"\\`, value })), { key: 'lone-\ud800', value: 'x\udc00y' }];
    const at = await t.publish(input);
    const r = await pool.query(`SELECT partition, "offset", key, value FROM ${schema}.records WHERE topic = $1`, [
      t.name,
    ]);
    const stored = new Map(r.rows.map((x) => [`${x.partition}:${x.offset}`, [x.key, x.value]]));
    const want = input.map((x) => [x.key.replace('\ud800', '\ufffd'), x.value.replace('\udc00', '\ufffd')]);
    assert.deepEqual(
      at.map((p) => stored.get(`${p.partition}:${p.offset}`)),
      want,
    );
    await t.close();
  });
});
