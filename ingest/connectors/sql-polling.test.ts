import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { MillraceError } from '../../lib/errors.ts';
import { migrate } from '../../store/migrate.ts';
import { createRecordingTopic, type RecordingTopic } from '../../simulator/testing/recording-topic.ts';
import { toWire, type MachiningEvent } from '../../simulator/wire.ts';
import { machiningEnvelope } from '../schemas/machining.ts';
import { createSqlPoller, sqlPollingConfig } from './sql-polling.ts';
import { postgresPollQuery } from './sql-source-client.ts';
import { postgresSource, sourceDbs, utc, type SourceDb } from './sql-polling.testkit.ts';

// Focused tests of the watermark poller, FOR REAL on PostgreSQL and MariaDB (one loop, both dialects).
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
  'archived_at',
];

for (const { make } of sourceDbs) {
  const db: SourceDb = make();
  describe(`sql-polling on ${db.dialect}`, () => {
    const pool = testPool();
    const schema = testSchemaName('sqlpoll');
    before(() => migrate(pool, schema, 2));
    after(async () => {
      await db.cleanup();
      await dropSchema(pool, schema);
      await pool.end();
    });

    const poller = (table: string, log: RecordingTopic, over: Record<string, unknown> = {}, name = `p-${table}`) =>
      createSqlPoller(
        sqlPollingConfig.parse({
          dialect: db.dialect,
          url: db.url,
          table,
          columns: WO_COLUMNS,
          watermarkColumn: 'updated_at',
          keyColumn: 'wo_id',
          mapping: 'work-order',
          lagWindowMs: 0,
          ...over,
        }),
        { name, pool, schema, log },
      );
    const ids = (log: RecordingTopic) => log.records.map((r) => JSON.parse(r.value).id as string);
    const wo = (id: string, t: number, qty = 100) => ({
      wo_id: id,
      sku: 'MYCPU-C5-3200',
      planned_qty: qty,
      due_date: '2026-12-01',
      updated_at: utc(t),
    });
    const pollAll = async (p: ReturnType<typeof createSqlPoller>) => {
      let n = 0;
      for (let k; (k = await p.pollOnce()) > 0;) n += k;
      return n;
    };

    it('equal timestamps across a batch boundary are not skipped (the key tiebreak)', async () => {
      const table = await db.createTable('work-order');
      const t = (await db.nowMs()) - 60_000;
      const keys = ['WO-a', 'WO-b', 'WO-c', 'WO-d', 'WO-e', 'WO-f', 'WO-g'];
      await db.insert(
        table,
        keys.map((k) => wo(k, t)),
      );
      await db.insert(table, [wo('WO-0', t - 1), wo('WO-z', t + 1)]);
      const log = createRecordingTopic();
      const p = poller(table, log, { batch: 3 });
      assert.deepEqual(
        [await p.pollOnce(), await p.pollOnce(), await p.pollOnce(), await p.pollOnce(), await p.pollOnce()],
        [3, 3, 3, 0, 0],
      );
      await p.close();
      assert.deepEqual(
        ids(log),
        ['WO-0', ...keys, 'WO-z'].map((k, i) => `sql:work_order:${k}:${i === 0 ? t - 1 : i === 8 ? t + 1 : t}`),
      );
    });

    it('a row committed late inside the lag window is not skipped (and without the window it would be)', async () => {
      for (const lagWindowMs of [1500, 0]) {
        const table = await db.createTable('work-order');
        const now = await db.nowMs();
        const tx = await db.begin();
        await tx.insert(table, [wo('WO-late', now - 100)]); // stamped first, committed last
        await db.insert(table, [wo('WO-early', now - 50)]);
        const log = createRecordingTopic();
        const p = poller(table, log, { lagWindowMs });
        const before = await p.pollOnce();
        await tx.commit();
        if (lagWindowMs === 0) {
          // Demonstrates the hazard: the cursor already passed the late row's stamp.
          assert.equal(before, 1);
          assert.equal(await pollAll(p), 0);
          assert.deepEqual(ids(log), [`sql:work_order:WO-early:${now - 50}`]);
        } else {
          assert.equal(before, 0, 'both rows are still inside the lag window');
          const deadline = Date.now() + 10_000;
          while (log.records.length < 2 && Date.now() < deadline)
            (await p.pollOnce()) || (await new Promise((r) => setTimeout(r, 50)));
          assert.deepEqual(ids(log), [`sql:work_order:WO-late:${now - 100}`, `sql:work_order:WO-early:${now - 50}`]);
        }
        await p.close();
      }
    });

    it('a restarted poller resumes after its saved cursor', async () => {
      const table = await db.createTable('work-order');
      const t = (await db.nowMs()) - 60_000;
      await db.insert(
        table,
        [1, 2, 3, 4].map((i) => wo(`WO-${i}`, t + i)),
      );
      const log = createRecordingTopic();
      const first = poller(table, log, { batch: 10 });
      assert.equal(await pollAll(first), 4);
      await first.close();
      await db.amend(table, 'WO-2', 250, t + 10);
      await db.insert(table, [wo('WO-5', t + 11)]);
      const second = poller(table, log, { batch: 10 });
      assert.equal(await pollAll(second), 2);
      await second.close();
      assert.equal(new Set(ids(log)).size, 6, 'nothing read twice');
      const last = JSON.parse(log.records[4].value);
      assert.deepEqual(last.payload, {
        entity: 'work_order',
        key: 'WO-2',
        version: String(t + 10),
        data: { woId: 'WO-2', sku: 'MYCPU-C5-3200', plannedQty: 250, dueDate: '2026-12-01' },
      });
      assert.equal(last.eventTime, t + 10);
      assert.equal(last.type, 'entity.upsert');
      assert.equal(last.key, 'work_order:WO-2');
    });

    it('a crash after publish and before the checkpoint re-publishes the same ids', async () => {
      const table = await db.createTable('work-order');
      const t = (await db.nowMs()) - 60_000;
      await db.insert(
        table,
        [1, 2, 3].map((i) => wo(`WO-${i}`, t + i)),
      );
      const log = createRecordingTopic();
      log.failNext('after-write');
      const name = `crash-${randomBytes(3).toString('hex')}`;
      const first = poller(table, log, {}, name);
      await assert.rejects(first.pollOnce());
      await first.close();
      const again = poller(table, log, {}, name);
      assert.equal(await pollAll(again), 3);
      await again.close();
      const all = ids(log);
      assert.equal(all.length, 6);
      assert.deepEqual(all.slice(3), all.slice(0, 3));
    });

    it('archive rows become exactly the Kafka envelope; a bad row is a dead letter at table:key', async () => {
      const table = await db.createTable('archive');
      const ev: MachiningEvent = {
        eventId: 'm1.x.42',
        kind: 'exit',
        partId: 'P42',
        station: 'BND',
        machine: 'BND-2',
        operator: 'E0007',
        at: Date.UTC(2026, 10, 1, 7, 0, 0, 123),
        nextStation: 'ENC',
        errorCode: 'E17',
        cycleTimeMs: 61_234,
      };
      await db.insert(table, [
        {
          event_id: ev.eventId,
          kind: ev.kind,
          part_id: ev.partId,
          station: ev.station,
          machine: ev.machine,
          operator: ev.operator,
          at: utc(ev.at),
          next_station: ev.nextStation,
          error_code: ev.errorCode,
          cycle_time_ms: ev.cycleTimeMs,
        },
        {
          event_id: 'm1.x.43',
          kind: 'exit',
          part_id: 'P43',
          station: 'BND',
          machine: 'BND-2',
          operator: 'E0007',
          at: utc(ev.at),
          next_station: null,
          error_code: null,
          cycle_time_ms: null,
        },
      ]);
      const log = createRecordingTopic();
      const name = `arch-${randomBytes(3).toString('hex')}`;
      const p = createSqlPoller(
        sqlPollingConfig.parse({
          dialect: db.dialect,
          url: db.url,
          table,
          columns: ARCHIVE_COLUMNS,
          watermarkColumn: 'archived_at',
          keyColumn: 'event_id',
          mapping: 'machining-archive',
          lagWindowMs: 0,
        }),
        { name, pool, schema, log },
      );
      assert.equal(await pollAll(p), 2);
      await p.close();
      const kafka = machiningEnvelope(toWire(ev).value, 'kafka:mycpu.machining');
      assert.equal(log.records.length, 1);
      assert.deepEqual({ ...JSON.parse(log.records[0].value), source: 'x' }, { ...(kafka as object), source: 'x' });
      const dead = await pool.query(`SELECT position, reason FROM ${schema}.dead_letters WHERE connector = $1`, [name]);
      assert.deepEqual(
        dead.rows.map((r) => r.position),
        [`${table}:m1.x.43`],
      );
      assert.match(dead.rows[0].reason, /cycleTimeMs/);
    });

    it('refuses a config whose columns lack what the mapping reads', () => {
      assert.throws(
        () =>
          createSqlPoller(
            sqlPollingConfig.parse({
              dialect: db.dialect,
              url: db.url,
              table: 't',
              columns: ['wo_id'],
              watermarkColumn: 'updated_at',
              keyColumn: 'wo_id',
              mapping: 'work-order',
            }),
            { name: 'x', pool, schema, log: createRecordingTopic() },
          ),
        (e) => e instanceof MillraceError && e.code === 'CONFIG' && /sku/.test(e.message),
      );
    });
  });
}

describe('sql-polling on postgres: a page after the cursor is one index range', () => {
  const db = postgresSource();
  after(() => db.cleanup());

  interface PlanNode {
    'Node Type': string;
    'Index Name'?: string;
    'Index Cond'?: string;
    Filter?: string;
    'Rows Removed by Filter'?: number;
    'Actual Rows': number;
    Plans?: PlanNode[];
  }
  const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

  // Both watermark types the connector reads: `timestamp` (archive; the cursor parameter is a
  // timestamptz, a cross-type comparison the btree still takes) and `timestamptz` (work orders).
  for (const kind of ['archive', 'work-order'] as const) {
    it(`${kind}: the (watermark, key) > cursor condition is an index condition, nothing is read and filtered out`, async () => {
      const table = await db.createTable(kind);
      const [wm, key] = kind === 'archive' ? ['archived_at', 'event_id'] : ['updated_at', 'wo_id'];
      const c = new pg.Client({ connectionString: db.url, options: '-c TimeZone=UTC' });
      await c.connect();
      try {
        // 20 000 rows, 4 to a watermark (ties), an hour old; the cursor sits in the middle of a tie.
        await c.query(
          kind === 'archive'
            ? `INSERT INTO ${table} (event_id, kind, archived_at) SELECT 'E' || lpad(g::text, 6, '0'), 'exit', (now() AT TIME ZONE 'UTC') - interval '1 hour' + (g / 4) * interval '1 ms' FROM generate_series(0, 19999) g`
            : `INSERT INTO ${table} (wo_id, updated_at) SELECT 'WO-' || lpad(g::text, 6, '0'), now() - interval '1 hour' + (g / 4) * interval '1 ms' FROM generate_series(0, 19999) g`,
        );
        await c.query(`ANALYZE ${table}`);
        const mid = (
          await c.query(
            `SELECT ${wm}::text AS wm, ${key}::text AS key FROM ${table} ORDER BY ${wm}, ${key} OFFSET 15001 LIMIT 1`,
          )
        ).rows[0];
        const spec = { table, columns: [key, wm], watermarkColumn: wm, keyColumn: key, lagWindowMs: 0, batch: 1000 };
        const q = postgresPollQuery(spec, { wm: mid.wm, key: mid.key });
        const plan = (await c.query({ text: `EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`, values: q.values })).rows[0][
          'QUERY PLAN'
        ][0].Plan as PlanNode;
        const scan = nodes(plan).find((n) => n['Node Type'].startsWith('Index'));
        assert.ok(scan, `an index scan: ${JSON.stringify(plan)}`);
        assert.match(scan['Index Cond'] ?? '', /ROW\(/, 'the cursor comparison is in the index condition');
        assert.equal(scan['Rows Removed by Filter'] ?? 0, 0, 'no row before the cursor is read and thrown away');
        assert.equal(scan['Actual Rows'], 1000);
        // The page itself: the 1000 rows right after the cursor, ties on the watermark broken by key.
        const page = (await c.query(q)).rows.map((r) => r.__key);
        const want = (
          await c.query(`SELECT ${key}::text AS k FROM ${table} ORDER BY ${wm}, ${key} OFFSET 15002 LIMIT 1000`)
        ).rows.map((r) => r.k);
        assert.deepEqual(page, want);
      } finally {
        await c.end();
      }
    });
  }
});
