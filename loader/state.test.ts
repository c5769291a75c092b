import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { migrate } from '../store/migrate.ts';
import { createPostgresTopic } from '../log/postgres-topic.ts';
import { createLoader } from './loader.ts';
import { createSpeedApplier } from '../speed/applier.ts';
import { createRefresher } from '../batch/refresher.ts';
import { createServing } from '../serving/create-serving.ts';
import { createMemoryStore } from '../speed/memory-store.ts';
import { toolUseMs } from '../metrics/tool-use.ts';
import type { Envelope } from '../ingest/envelope.ts';
import type { TopicBatch } from '../log/topic.ts';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';

const T = Date.UTC(2026, 10, 1, 8, 0, 0);
const ev = (id: string, type: string, key: string, t: number, payload: Record<string, unknown>): Envelope => ({
  id,
  source: 'test',
  type,
  key,
  eventTime: t,
  payload,
});

describe('loader current state and derived events', () => {
  const pool = testPool();
  const schema = testSchemaName('state');
  let offset = 0;
  const loader = () =>
    createLoader({ pool, schema, log: createPostgresTopic({ pool, name: 'unused', partitions: 1, schema }) });
  const batch = (events: Envelope[]): TopicBatch => ({
    partition: 0,
    records: events.map((e) => ({
      partition: 0,
      offset: offset++,
      key: e.key,
      value: JSON.stringify(e),
      timestamp: 0,
    })),
  });

  before(() => migrate(pool, schema, 1));
  after(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('keeps the newest version of each entity, whatever order versions arrive in', async () => {
    const l = loader();
    const up = (v: string, qty: number) =>
      ev(`wo:1:${v}`, 'entity.upsert', 'work_order:1', T, {
        entity: 'work_order',
        key: '1',
        version: v,
        data: { qty },
      });
    await l.load(batch([up('2000', 20), up('1000', 10)]));
    await l.load(batch([up('999:old', 9), up('2000', 20)]));
    let r = await pool.query(
      `SELECT version, data, deleted FROM ${schema}.entities WHERE entity = 'work_order' AND key = '1'`,
    );
    assert.deepEqual(r.rows[0], { version: '2000', data: { qty: 20 }, deleted: false });
    await l.load(
      batch([ev('wo:1:del', 'entity.delete', 'work_order:1', T, { entity: 'work_order', key: '1', version: '3000' })]),
    );
    r = await pool.query(`SELECT deleted FROM ${schema}.entities WHERE entity = 'work_order' AND key = '1'`);
    assert.equal(r.rows[0].deleted, true);
  });

  it('keeps the current state of orders from order.change events, newest LSN first, deletes included', async () => {
    const l = loader();
    const change = (lsn: string, op: string, status: string | null) => {
      const row =
        status === null
          ? null
          : { order_id: 'R-1', kind: 'repair', subject: 'BND-1', severity: 2, status, requested_at: T };
      return ev(`pg:mycpu.orders:${lsn}:R-1`, 'order.change', 'R-1', T, {
        op,
        orderId: 'R-1',
        commitTime: T,
        before: null,
        after: row,
      });
    };
    const read = async () =>
      (
        await pool.query(
          `SELECT version, data->>'status' AS status, deleted FROM ${schema}.entities WHERE entity = 'order' AND key = 'R-1'`,
        )
      ).rows[0];
    // The confirm (a later WAL position, 0/1A0 > 0/FF) arrives before the insert: the insert must not win.
    await l.load(batch([change('0/1A0', 'update', 'confirmed'), change('0/FF', 'insert', 'requested')]));
    assert.deepEqual(await read(), { version: String(0x1a0), status: 'confirmed', deleted: false });
    // A higher segment (1/0 = 2^32) beats any offset of segment 0; the delete keeps no data.
    await l.load(batch([change('1/0', 'delete', null), change('0/FFFFFFFF', 'update', 'completed')]));
    assert.deepEqual(await read(), { version: String(2 ** 32), status: null, deleted: true });
    const serving = createServing({
      pool,
      schema,
      store: createMemoryStore(),
      metrics: [toolUseMs],
      partitions: 1,
      slice: 2,
    });
    assert.deepEqual(
      (await serving.entities({ entity: 'order', limit: 10 })).map((r) => [r.key, r.deleted]),
      [['R-1', true]],
    );
  });

  it('serves entities page by page in key order, every key once', async () => {
    const keys = Array.from({ length: 23 }, (_, i) => `T${String(i).padStart(3, '0')}`);
    await loader().load(
      batch(
        keys.map((k) =>
          ev(`tool:${k}`, 'entity.upsert', `tool:${k}`, T, { entity: 'tool', key: k, version: '1', data: { k } }),
        ),
      ),
    );
    const serving = createServing({
      pool,
      schema,
      store: createMemoryStore(),
      metrics: [toolUseMs],
      partitions: 1,
      slice: 2,
    });
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10, 'pagination does not end');
      const page = await serving.entities({ entity: 'tool', limit: 5, after });
      if (page.length === 0) break;
      assert.ok(page.length <= 5);
      seen.push(...page.map((r) => r.key));
      after = page[page.length - 1].key;
    }
    assert.deepEqual(seen, keys);
    assert.deepEqual(
      (await serving.entities({ entity: 'tool', limit: 2, after: 'T021' })).map((r) => r.key),
      ['T022'],
    );
  });

  it('pairs tool out → in into one derived event, never twice for a duplicate, and both layers serve it', async () => {
    const l = loader();
    const out = (n: number, tool: string, t: number) =>
      ev(`rest:${n}`, 'tool.out', tool, t, { toolId: tool, holder: 'E1' });
    const back = (n: number, tool: string, t: number) =>
      ev(`rest:${n}`, 'tool.in', tool, t, { toolId: tool, holder: 'E1' });
    await l.load(batch([out(1, 'T1', T), out(2, 'T2', T + 1000)]));
    await l.load(batch([back(3, 'T1', T + 60_000), back(3, 'T1', T + 60_000), back(4, 'T2', T + 121_000)]));
    // A re-sent 'in' (same id) is a duplicate: no second derived event.
    await l.load(batch([back(4, 'T2', T + 121_000), out(5, 'T1', T + 200_000), back(6, 'T1', T + 260_000)]));
    const d = await pool.query(
      `SELECT payload->>'toolId' AS tool, (payload->>'durationMs')::int AS ms FROM ${schema}.raw_events WHERE type = 'tool.used' ORDER BY log_offset`,
    );
    assert.deepEqual(d.rows, [
      { tool: 'T1', ms: 60_000 },
      { tool: 'T2', ms: 120_000 },
      { tool: 'T1', ms: 60_000 },
    ]);

    // Batch boundaries that cut between an event and its derived twin must lose nothing.
    const store = createMemoryStore();
    const applier = createSpeedApplier({
      pool,
      schema,
      store,
      metrics: [toolUseMs],
      partitions: 1,
      slice: 2,
      batchSize: 2,
    });
    const refresher = createRefresher({ pool, schema, metrics: [toolUseMs], partitions: 1, slice: 2 });
    const serving = createServing({ pool, schema, store, metrics: [toolUseMs], partitions: 1, slice: 2 });
    await applier.cycle();
    const speedOnly = await serving.series({
      metric: 'tool_use_ms',
      grain: 'day',
      from: T - 86_400_000,
      to: T + 86_400_000,
    });
    await refresher.refreshOnce();
    const mixed = await serving.series({
      metric: 'tool_use_ms',
      grain: 'day',
      from: T - 86_400_000,
      to: T + 86_400_000,
    });
    const byTool = (r: typeof mixed) => Object.fromEntries(r.points.map((p) => [p.dims.tool, p.value]));
    assert.deepEqual(byTool(speedOnly), { T1: 120_000, T2: 120_000 });
    assert.deepEqual(byTool(mixed), { T1: 120_000, T2: 120_000 });
    assert.ok(mixed.freshness.batchShare > 0);
    // T1 and T2 came back; an 'out' without its 'in' is open and served as out now.
    await l.load(batch([out(7, 'T3', T + 300_000)]));
    assert.deepEqual(await serving.openPairings('tool-use'), [{ key: 'T3', startTime: T + 300_000 }]);
  });
});
