import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { loadFloorMap } from '../floor.ts';
import { ensureLedger } from '../ledger-schema.ts';
import { sourceSeal } from '../ledger-sources.ts';
import type { MachiningEvent } from '../wire.ts';
import {
  createMariaDbEngine,
  createMssqlEngine,
  createOracleEngine,
  createSqlEngineWriter,
  workOrderData,
  type SqlEngine,
  type SqlEngineTables,
} from './sql-engine.ts';
import { HOUR_MS } from './work-orders.ts';

// The writer against the real MariaDB (MARIADB_URL, default the local one); unique table names per
// run, dropped after. SQL Server and Oracle cannot run here: their runs need MSSQL_URL / ORACLE_URL.
const MARIADB_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';
type MakeEngine = (url: string, opts: { tables: SqlEngineTables }) => SqlEngine;
const ENGINES: Array<{ name: string; url: string | undefined; make: MakeEngine }> = [
  { name: 'MariaDB', url: MARIADB_URL, make: createMariaDbEngine },
  { name: 'SQL Server', url: process.env.MSSQL_URL, make: createMssqlEngine },
  { name: 'Oracle', url: process.env.ORACLE_URL, make: createOracleEngine },
];
const pool = testPool();
const schemas: string[] = [];
const engines: SqlEngine[] = [];
const START = Date.UTC(2026, 9, 1, 6, 30);

async function setup(make: MakeEngine, url: string, seed = 7, now?: () => number) {
  const ledgerSchema = testSchemaName('ledger_sqlw');
  schemas.push(ledgerSchema);
  await ensureLedger(pool, ledgerSchema);
  const sfx = randomBytes(3).toString('hex');
  const engine = make(url, { tables: { archive: `t_archive_${sfx}`, workOrders: `t_wo_${sfx}` } });
  engines.push(engine);
  const writer = createSqlEngineWriter({
    seed,
    startTime: START,
    dataDir: '/nonexistent',
    floor: loadFloorMap(),
    pool,
    ledgerSchema,
    openTopic: () => {
      throw new Error('not used');
    },
    faultRate: 1,
    log: () => undefined,
    engine,
    now,
  });
  const ledgerEntities = async () =>
    (
      await pool.query(
        `SELECT key, data FROM ${ledgerSchema}.entities WHERE source = 'sql-engine' AND entity = 'work_order' ORDER BY key`,
      )
    ).rows.map((r) => [r.key, r.data]);
  return { engine, writer, ledgerSchema, ledgerEntities };
}

after(async () => {
  for (const e of engines) {
    await e.dropTables();
    await e.close();
  }
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

for (const { name, url, make } of ENGINES)
  describe(`sql-engine writer on ${name}`, () => {
    if (!url) {
      it.skip(`${name === 'Oracle' ? 'ORACLE_URL' : 'MSSQL_URL'} not set: no ${name} on this machine, the suite did not run`, () =>
        undefined);
      return;
    }
    const setup_ = (seed?: number, now?: () => number) => setup(make, url, seed, now);
    it('is deterministic for a seed, however advanceTo is chunked; another seed differs', async () => {
      const a = await setup_();
      const b = await setup_();
      const c = await setup_(8);
      const end = START + 3 * 24 * HOUR_MS;
      await a.writer.advanceTo(end);
      for (let t = START; t <= end; t += 7 * HOUR_MS + 123) await b.writer.advanceTo(t);
      await b.writer.advanceTo(end);
      await b.writer.advanceTo(end); // idempotent for a time already reached
      await c.writer.advanceTo(end);
      const rowsA = await a.engine.readWorkOrders();
      assert.ok(rowsA.length > 50, `work orders created: ${rowsA.length}`);
      assert.deepEqual(await b.engine.readWorkOrders(), rowsA);
      assert.deepEqual(await b.ledgerEntities(), await a.ledgerEntities());
      assert.notDeepEqual((await c.engine.readWorkOrders()).map(workOrderData), rowsA.map(workOrderData));
      assert.equal(b.writer.stats().written, a.writer.stats().written);
    });

    it('updates some orders, and the ledger entities equal the final table; seal = last commit', async () => {
      const s = await setup_(11);
      const end = START + 2 * 24 * HOUR_MS + 5;
      await s.writer.advanceTo(end);
      const rows = await s.engine.readWorkOrders();
      const created = (id: string) => id.split('-').at(-2)!; // yyyymmddHH of the creating sync
      const amended = rows.filter(
        (r) => new Date(r.updatedAt).toISOString().slice(0, 13).replace(/[-T]/g, '') !== created(r.woId),
      );
      assert.ok(amended.length > 0, 'some orders were amended after creation');
      assert.ok(rows.every((r) => r.updatedAt % HOUR_MS === 0 && r.updatedAt <= end));
      assert.deepEqual(
        await s.ledgerEntities(),
        rows.map((r) => [r.woId, workOrderData(r)]),
      );
      assert.equal(await sourceSeal(pool, s.ledgerSchema, 'sql-engine'), Math.floor(end / HOUR_MS) * HOUR_MS + 1);
      const facts = await pool.query(`SELECT count(*)::int AS n FROM ${s.ledgerSchema}.facts`);
      assert.equal(facts.rows[0].n, 0, 'the writer records entities, no facts');
    });

    it('never stamps updated_at ahead of the wall clock when simulated time runs ahead of it', async () => {
      let wall = START + 2 * HOUR_MS + 17; // simulated time will run a day ahead of this
      const s = await setup_(11, () => wall);
      for (let t = START; t <= START + 24 * HOUR_MS; t += 3 * HOUR_MS, wall += 60_000) await s.writer.advanceTo(t);
      const rows = await s.engine.readWorkOrders();
      assert.ok(rows.length > 10, `work orders created: ${rows.length}`);
      assert.ok(
        rows.every((r) => r.updatedAt <= wall),
        'a watermark poller reading at the wall clock sees every row',
      );
      assert.ok(
        rows.some((r) => r.updatedAt % HOUR_MS !== 0),
        'rows of simulated hours past the wall clock carry the wall clock',
      );
      // The data (what the connector emits and the ledger holds) does not depend on the stamps.
      const ref = await setup_(11);
      await ref.writer.advanceTo(START + 24 * HOUR_MS);
      assert.deepEqual(await s.ledgerEntities(), await ref.ledgerEntities());
    });

    it('a restart resumes after its seal: every row it changes carries a newer updated_at (a watermark poller sees it)', async () => {
      for (const hours of [5, 9, 14, 20]) {
        const first = await setup_(11);
        const end = START + hours * HOUR_MS + 5;
        await first.writer.advanceTo(end);
        const before = new Map((await first.engine.readWorkOrders()).map((r) => [r.woId, r]));
        const seal = (await sourceSeal(pool, first.ledgerSchema, 'sql-engine'))!;
        // A new run on the same engine and ledger, starting at the seal, as simulator/live-writers.ts liveStartTime does.
        const again = createSqlEngineWriter({
          seed: 11,
          startTime: seal,
          dataDir: '/nonexistent',
          floor: loadFloorMap(),
          pool,
          ledgerSchema: first.ledgerSchema,
          openTopic: () => {
            throw new Error('not used');
          },
          faultRate: 1,
          log: () => undefined,
          engine: first.engine,
        });
        // Its first step, to where the first run stopped, must change nothing a poller past that watermark would miss.
        await again.advanceTo(end);
        for (const r of await first.engine.readWorkOrders()) {
          const old = before.get(r.woId);
          if (old)
            assert.ok(
              JSON.stringify(old) === JSON.stringify(r) || r.updatedAt > old.updatedAt,
              `${hours} h: ${r.woId} changed without a newer updated_at`,
            );
        }
        await again.advanceTo(end + 3 * HOUR_MS);
        const after = await first.engine.readWorkOrders();
        assert.ok(after.length > before.size, 'the new run created orders');
        assert.deepEqual(
          await first.ledgerEntities(),
          after.map((r) => [r.woId, workOrderData(r)]),
        );
      }
    });

    it('archives machining events once: a re-sent event id is ignored', async () => {
      const s = await setup_();
      const ev = (i: number, kind: 'enter' | 'exit'): MachiningEvent => ({
        eventId: `arch-${i}-${kind}`,
        kind,
        partId: `P${i}`,
        station: 'DIE',
        machine: 'DIE-1',
        operator: 'E0001',
        at: START + i * 1000 + (kind === 'exit' ? 500 : 0),
        nextStation: kind === 'exit' ? 'BND' : null,
        errorCode: null,
        cycleTimeMs: kind === 'exit' ? 500 : null,
      });
      const events = [ev(1, 'enter'), ev(1, 'exit'), ev(2, 'enter')];
      await s.writer.archive(events);
      await s.writer.archive([events[1], ev(2, 'exit')]);
      assert.equal(s.writer.stats().written, 4, 'the re-sent event was not inserted again');
      if (name !== 'MariaDB') return;
      const mysql = await import('mysql2/promise');
      const conn = await mysql.createConnection({ uri: MARIADB_URL, dateStrings: true });
      try {
        const [rows] = await conn.query<import('mysql2').RowDataPacket[]>(
          `SELECT event_id, at, cycle_time_ms, archived_at FROM ${s.engine.tables.archive} ORDER BY event_id`,
        );
        assert.deepEqual(
          rows.map((r) => r.event_id),
          ['arch-1-enter', 'arch-1-exit', 'arch-2-enter', 'arch-2-exit'],
        );
        assert.equal(rows[1].at, '2026-10-01 06:30:01.500');
        assert.equal(Number(rows[1].cycle_time_ms), 500);
        assert.ok(rows.every((r) => typeof r.archived_at === 'string' && r.archived_at.length === 23));
      } finally {
        await conn.end();
      }
    });
  });
