import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../store/migrate.ts';
import { createPostgresTopic } from '../log/postgres-topic.ts';
import { waitFor } from '../log/topic.contract.ts';
import { TEST_DATABASE_URL, dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { csvTail } from './connectors/csv-tail.ts';
import { fileSnapshot } from './connectors/file-snapshot.ts';
import { restPoll } from './connectors/rest-poll.ts';
import { sqlPolling } from './connectors/sql-polling.ts';
import { postgresCdc } from './connectors/postgres-cdc.ts';
import { createCdcFixture, insertOrders } from './connectors/postgres-cdc.testkit.ts';
import type { Connector, ConnectorDefinition } from './define-connector.ts';
import type { z } from 'zod';

// `connectors skip` for connectors whose position is JSON state: a CSV file's line, a SQL watermark.
// The skip is saved (with its dead letter) before the connector runs; it must then read from there.
describe('connectors skip: csv-tail lines, sql-polling watermarks, postgres-cdc LSNs', { timeout: 60_000 }, () => {
  const pool = testPool();
  const schema = testSchemaName('skip');
  const log = createPostgresTopic({ pool, name: 'log', partitions: 2, schema });
  let dir = '';
  const running: Connector[] = [];
  const start = async (def: ConnectorDefinition<z.ZodType>, name: string, config: unknown) => {
    const c = def.create(def.config.parse(config), {
      name,
      pool,
      schema,
      log,
      openTopic: (n, p) => createPostgresTopic({ pool, name: n, partitions: p, schema }),
      onError: () => undefined,
    });
    running.push(c);
    await c.start();
    return c;
  };
  const ids = async (prefix: string) =>
    (await pool.query(`SELECT value FROM ${schema}.records`)).rows
      .map((r) => JSON.parse(r.value).id as string)
      .filter((id) => id.startsWith(prefix))
      .sort();
  const deadLetters = async (connector: string) =>
    (await pool.query(`SELECT position, reason FROM ${schema}.dead_letters WHERE connector = $1`, [connector])).rows;

  before(async () => {
    await migrate(pool, schema, 2);
    await log.ensure();
    dir = await mkdtemp(join(tmpdir(), 'skip-'));
  });
  after(async () => {
    for (const c of running) await c.stop();
    await log.close();
    await rm(dir, { recursive: true, force: true });
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('csv-tail: FILE#LINE is the next line read; the lines before it are one dead letter', async () => {
    const file = 'energy-2026-01-01.csv';
    const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
    await writeFile(
      join(dir, file),
      `interval_start,machine_id,wh\n${[0, 1, 2, 3, 4].map((m) => `${at(m)},DIE-1,${100 + m}`).join('\n')}\n`,
    );
    const config = { directory: dir, pattern: '^energy-.*\\.csv$', schema: 'energy', pollMs: 50 };
    const target = { pool, schema, connector: 'csv' };
    await assert.rejects(csvTail.skip!(csvTail.config.parse(config), target, 'energy.csv', 'x'), /expected FILE#LINE/);
    await assert.rejects(
      csvTail.skip!(csvTail.config.parse(config), target, `${file}#9`, 'x'),
      /has 6 complete lines; line 9 is not there yet/,
    );
    // Lines 1..4: the header and the readings of minutes 0, 1 and 2.
    const r = await csvTail.skip!(csvTail.config.parse(config), target, `${file}#5`, 'a poisoned line');
    assert.deepEqual(r, { position: `${file}#1-4`, skipped: `lines 1..4 of ${file}`, next: `${file}#5` });
    await assert.rejects(
      csvTail.skip!(csvTail.config.parse(config), target, `${file}#5`, 'x'),
      /reads energy-2026-01-01\.csv at line 5; --to .* would not skip anything/,
    );
    const c = await start(csvTail as unknown as ConnectorDefinition<z.ZodType>, 'csv', config);
    await waitFor('the lines after the skip', async () => (await ids('energy:')).length === 2, 30_000);
    assert.deepEqual(
      await ids('energy:'),
      [3, 4].map((m) => `energy:DIE-1:${Date.UTC(2026, 0, 1, 0, m)}`),
    );
    const dl = await deadLetters('csv');
    assert.deepEqual(
      dl.map((d) => d.position),
      [`${file}#1-4`],
    );
    assert.match(dl[0].reason, /skipped by an operator \(lines 1\.\.4 of .* not read\): a poisoned line/);
    const st = await c.status();
    assert.deepEqual([st.deadLetters, st.lag, st.lastError], [1, 0, null]);
  });

  it('sql-polling: WATERMARK,KEY is the last row skipped; reading goes on after it', async () => {
    const src = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1, options: '-c TimeZone=UTC' });
    const table = `skip_wo_${randomBytes(3).toString('hex')}`;
    try {
      await src.query(
        `CREATE TABLE ${table} (wo_id text PRIMARY KEY, sku text, planned_qty int, due_date date, updated_at timestamptz(3) NOT NULL)`,
      );
      for (let i = 1; i <= 4; i++)
        await src.query(`INSERT INTO ${table} VALUES ($1, 'SKU', $2, '2026-02-01', $3)`, [
          `WO-${i}`,
          i,
          new Date(Date.UTC(2026, 0, 1, i)),
        ]);
      const config = {
        dialect: 'postgres',
        url: TEST_DATABASE_URL,
        table,
        columns: ['wo_id', 'sku', 'planned_qty', 'due_date', 'updated_at'],
        watermarkColumn: 'updated_at',
        keyColumn: 'wo_id',
        lagWindowMs: 0,
        pollMs: 50,
        mapping: 'work-order',
      };
      const parsed = sqlPolling.config.parse(config);
      const target = { pool, schema, connector: 'sql' };
      await assert.rejects(sqlPolling.skip!(parsed, target, 'WO-2', 'x'), /expected WATERMARK,KEY/);
      // The first run reads all four; its saved cursor shows the watermark's spelling.
      const first = await start(sqlPolling as unknown as ConnectorDefinition<z.ZodType>, 'sql', config);
      await waitFor('four work orders', async () => (await ids('sql:work_order:')).length === 4, 30_000);
      await first.stop();
      const saved = (await pool.query(`SELECT state FROM ${schema}.connector_state WHERE connector = 'sql'`)).rows[0]
        .state.cursor as { wm: string; key: string };
      assert.equal(saved.key, 'WO-4');
      await assert.rejects(
        sqlPolling.skip!(parsed, target, `${saved.wm},WO-3`, 'x'),
        /already past .*WO-4; --to .* would not skip anything/,
      );
      // Two more rows; the first of them is skipped.
      for (let i = 5; i <= 6; i++)
        await src.query(`INSERT INTO ${table} VALUES ($1, 'SKU', $2, '2026-02-01', $3)`, [
          `WO-${i}`,
          i,
          new Date(Date.UTC(2026, 0, 1, i)),
        ]);
      const wm5 = saved.wm.replace(/T?04:/, (m) => m.replace('04', '05'));
      assert.notEqual(wm5, saved.wm, `the hour of ${saved.wm} found`);
      const r = await sqlPolling.skip!(parsed, target, `${wm5},WO-5`, 'a row the driver cannot read');
      assert.equal(r.skipped, `rows after ${saved.wm},WO-4 through ${wm5},WO-5`);
      await start(sqlPolling as unknown as ConnectorDefinition<z.ZodType>, 'sql', config);
      await waitFor('the row after the skip', async () => (await ids('sql:work_order:WO-6')).length === 1, 30_000);
      assert.deepEqual(
        (await ids('sql:work_order:')).map((id) => id.split(':')[2]),
        ['WO-1', 'WO-2', 'WO-3', 'WO-4', 'WO-6'],
      );
      const dl = await deadLetters('sql');
      assert.equal(dl.length, 1);
      assert.match(dl[0].reason, /skipped by an operator .*: a row the driver cannot read/);
    } finally {
      await src.query(`DROP TABLE IF EXISTS ${table}`);
      await src.end();
    }
  });

  it('postgres-cdc: --to LSN moves the idle slot and the saved LSN; transactions before it are one dead letter', async () => {
    const f = await createCdcFixture();
    try {
      const orderIds = async () => (await ids(`pg:${f.table}:`)).map((id) => id.split(':').pop()).sort();
      const c = await start(postgresCdc as unknown as ConnectorDefinition<z.ZodType>, 'cdc', f.config);
      await insertOrders(f, ['RO-A']);
      await waitFor('the first order', async () => (await orderIds()).length === 1, 30_000);
      const parsed = postgresCdc.config.parse(f.config);
      const target = { pool, schema, connector: 'cdc' };
      const end = async () => (await f.pool.query(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l as string;
      await assert.rejects(postgresCdc.skip!(parsed, target, await end(), 'x'), /is in use: stop connector cdc first/);
      await c.stop();
      running.splice(running.indexOf(c), 1);
      await insertOrders(f, ['RO-B']);
      const afterB = await end();
      await insertOrders(f, ['RO-C']);
      await assert.rejects(postgresCdc.skip!(parsed, target, 'not-an-lsn', 'x'), /expected an LSN/);
      const r = await postgresCdc.skip!(parsed, target, afterB, 'a change the decoder cannot read');
      assert.match(r.position, new RegExp(`^${f.config.slot}:[0-9A-F]+/[0-9A-F]+-${afterB}$`));
      await start(postgresCdc as unknown as ConnectorDefinition<z.ZodType>, 'cdc', f.config);
      await waitFor('the order after the skip', async () => (await orderIds()).includes('RO-C'), 30_000);
      assert.deepEqual(await orderIds(), ['RO-A', 'RO-C']);
      const dl = await deadLetters('cdc');
      assert.equal(dl.length, 1);
      assert.match(dl[0].reason, /skipped by an operator \(WAL .* not read\): a change the decoder cannot read/);
    } finally {
      for (const c of running.splice(0)) await c.stop();
      await f.cleanup();
    }
  });

  it('kinds with no position a record can poison have no skip', () => {
    assert.equal((fileSnapshot as { skip?: unknown }).skip, undefined);
    assert.equal((restPoll as { skip?: unknown }).skip, undefined);
  });
});
