import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mssql from 'mssql';
import type { z } from 'zod';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { migrate } from '../../store/migrate.ts';
import { saveState } from '../checkpoints.ts';
import { connectorContract } from '../connector.contract.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { createMssqlEngine } from '../../simulator/sources/sql-engine.ts';
import { createRecordingTopic } from '../../simulator/testing/recording-topic.ts';
import { createCtReader, mssqlConnectConfig, sqlServerCt, sqlServerCtConfig } from './sql-server-ct.ts';

// SQL Server Change Tracking, against a real server only: SQL Server cannot run on this project's
// machines, so without MSSQL_URL the suites are skipped with this reason (never reported as run).
const url = process.env.MSSQL_URL;
const SKIP = 'MSSQL_URL not set: no SQL Server here, sql-server-ct did not run';
const WO_COLUMNS = ['wo_id', 'sku', 'planned_qty', 'due_date', 'updated_at'];
const ARCHIVE_COLUMNS = [
  'event_id',
  'kind',
  'part_id',
  'station',
  'machine',
  'operator',
  'at',
  'next_station',
  'error_code',
  'cycle_time_ms',
];
const tables = () => {
  const sfx = randomBytes(3).toString('hex');
  return { archive: `ct_archive_${sfx}`, workOrders: `ct_wo_${sfx}` };
};

if (!url) {
  describe('sql-server-ct', () => it.skip(SKIP, () => undefined));
} else {
  describe('sql-server-ct: work orders', () => {
    const pool = testPool();
    const schema = testSchemaName('sqlct');
    const engine = createMssqlEngine(url, { tables: tables() });
    let sql: mssql.ConnectionPool;
    before(async () => {
      await migrate(pool, schema, 2);
      await engine.ensure();
      sql = await new mssql.ConnectionPool(mssqlConnectConfig(url)).connect();
    });
    after(async () => {
      await sql.close();
      await engine.dropTables();
      await engine.close();
      await dropSchema(pool, schema);
      await pool.end();
    });

    it('first pass reads the table; then updates and deletes arrive in version order; a lost version resyncs', async () => {
      const t0 = Date.UTC(2026, 10, 1, 8);
      const wo = (id: string, qty: number, t: number) => ({
        woId: id,
        sku: 'MYCPU-C7-3600',
        plannedQty: qty,
        dueDate: '2026-12-15',
        updatedAt: t,
      });
      await engine.upsertWorkOrders([wo('WO-1', 100, t0), wo('WO-2', 200, t0), wo('WO-3', 300, t0)]);
      const log = createRecordingTopic();
      const ctx = { name: `ct-${randomBytes(3).toString('hex')}`, pool, schema, log };
      const cfg = sqlServerCtConfig.parse({
        url,
        table: engine.tables.workOrders,
        columns: WO_COLUMNS,
        keyColumn: 'wo_id',
        mapping: 'work-order',
      });
      const reader = createCtReader(cfg, ctx);
      const envs = () => log.records.map((r) => JSON.parse(r.value));
      try {
        assert.equal(await reader.pollOnce(), 3);
        assert.deepEqual(
          envs().map((e) => e.id),
          ['WO-1', 'WO-2', 'WO-3'].map((k) => `sql:work_order:${k}:${t0}`),
        );
        assert.equal(await reader.pollOnce(), 0, 'nothing changed');
        await engine.upsertWorkOrders([wo('WO-2', 250, t0 + 3_600_000)]);
        await sql.request().input('k', 'WO-3').query(`DELETE FROM ${engine.tables.workOrders} WHERE wo_id = @k`);
        assert.equal(await reader.pollOnce(), 2);
        const [upd, del] = envs().slice(3);
        assert.equal(upd.id, `sql:work_order:WO-2:${t0 + 3_600_000}`);
        assert.deepEqual(upd.payload.data, {
          woId: 'WO-2',
          sku: 'MYCPU-C7-3600',
          plannedQty: 250,
          dueDate: '2026-12-15',
        });
        assert.equal(del.type, 'entity.delete');
        assert.equal(del.key, 'work_order:WO-3');
        // A saved version below CHANGE_TRACKING_MIN_VALID_VERSION: full resync, content ids repeat.
        await saveState(pool, schema, {
          connector: ctx.name,
          source: reader.source,
          state: { version: -1 },
          events: 0,
          deadLetters: [],
        });
        assert.equal(await reader.pollOnce(), 2);
        assert.deepEqual(
          envs()
            .slice(5)
            .map((e) => e.id),
          [`sql:work_order:WO-1:${t0}`, `sql:work_order:WO-2:${t0 + 3_600_000}`],
        );
      } finally {
        await reader.close();
      }
    });
  });

  let n = 0;
  connectorContract({
    name: 'sql-server-ct (machining archive)',
    definition: sqlServerCt as unknown as ConnectorDefinition<z.ZodType>,
    async setup() {
      const engine = createMssqlEngine(url, { tables: tables() });
      await engine.ensure();
      const sql = await new mssql.ConnectionPool(mssqlConnectConfig(url)).connect();
      const ev = (id: string) => ({
        eventId: id,
        kind: 'enter' as const,
        partId: `P-${id}`,
        station: 'DIE',
        machine: 'DIE-1',
        operator: 'E0001',
        at: Date.UTC(2026, 10, 1, 6),
        nextStation: null,
        errorCode: null,
        cycleTimeMs: null,
      });
      return {
        config: {
          url,
          table: engine.tables.archive,
          columns: ARCHIVE_COLUMNS,
          keyColumn: 'event_id',
          mapping: 'machining-archive',
          pollMs: 100,
          batch: 3,
        },
        source: {
          async append(k: number) {
            const evs = Array.from({ length: k }, () => ev(`ct${n++}`));
            await engine.insertArchive(evs);
            return evs.map((e) => `machining:${e.eventId}`);
          },
          async appendMalformed() {
            const id = `bad${n++}`;
            // An exit without a cycle time: the writer never produces it, a plant's archive might.
            await sql.request().input('id', id)
              .query(`INSERT INTO ${engine.tables.archive} (event_id, kind, part_id, station, machine, operator, at)
              VALUES (@id, 'exit', 'P-bad', 'DIE', 'DIE-1', 'E0001', '2026-11-01 06:00:00.000')`);
            return `${engine.tables.archive}:${id}`;
          },
          async cleanup() {
            await sql.close();
            await engine.dropTables();
            await engine.close();
          },
        },
      };
    },
  });
}
