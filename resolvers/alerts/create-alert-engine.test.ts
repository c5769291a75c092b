import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { migrate } from '../../store/migrate.ts';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import { createLoader } from '../../loader/loader.ts';
import { createSpeedApplier } from '../../speed/applier.ts';
import { createRefresher } from '../../batch/refresher.ts';
import { createRedisStore, deletePrefixKeys } from '../../speed/redis-store.ts';
import { createServing } from '../../serving/create-serving.ts';
import { allMetrics } from '../../metrics/index.ts';
import { FIXTURE_CALENDAR } from '../../serving/testing/fixture-serving.ts';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import type { Envelope } from '../../ingest/envelope.ts';
import type { TopicBatch } from '../../log/topic.ts';
import { createAlertEngine } from './create-alert-engine.ts';
import type { AlertUpdate, ConnectorHealth } from './alert-types.ts';

// The alert engine over the real layers: events loaded into Postgres, folded by the batch
// refresher and applied to Redis by the speed applier, read back through the real serving.
const MIN = 60_000;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `alerts-${randomUUID()}`;
const NOW = Date.now();
let n = 0;
const ev = (type: string, key: string, t: number, payload: Record<string, unknown>): Envelope => ({
  id: `alerts:${n++}`,
  source: 'test',
  type,
  key,
  eventTime: t,
  payload,
});
const entity = (name: string, key: string, version: string, data: unknown) =>
  ev('entity.upsert', `${name}:${key}`, NOW - 60 * MIN, { entity: name, key, version, data });
const station = (id: string, zone: string, flowIndex: number) =>
  entity('station', id, '1', { name: id, zone, department: 'D', x: 10 * flowIndex, y: 0, machines: [], flowIndex });
const order = (status: string, version: string) =>
  entity('order', 'R-1', version, {
    kind: 'repair',
    severity: 1,
    status,
    subject: 'WELD-1',
    requested_at: NOW - 20 * MIN,
  });
const exit = (st: string, t: number) =>
  ev('machining.exit', `part-${n}`, t, { station: st, errorCode: null, cycleTimeMs: 1000 });
const heat = (zone: string, centiC: number, t: number) =>
  ev('heat.reading', `sensor-${zone}`, t, { sensorId: `sensor-${zone}`, zone, centiC });

describe('alert engine on the real layers (Postgres + Redis)', () => {
  const pool = testPool();
  const schema = testSchemaName('alerts');
  const store = createRedisStore({ url: redisUrl, prefix, slice: 50 });
  let offset = 0;
  const loader = createLoader({
    pool,
    schema,
    log: createPostgresTopic({ pool, name: 'unused', partitions: 1, schema }),
  });
  const applier = createSpeedApplier({
    pool,
    schema,
    store,
    metrics: allMetrics,
    partitions: 1,
    slice: 50,
    pollMs: 50,
  });
  const refresher = createRefresher({ pool, schema, metrics: allMetrics, partitions: 1, slice: 50, intervalMs: 50 });
  const serving = createServing({ pool, schema, store, metrics: allMetrics, partitions: 1, slice: 50 });
  const connectors: ConnectorHealth[] = [{ name: 'machining', lag: 0, lastCheckpointAt: NOW, lastError: null }];
  const engine = createAlertEngine({
    serving,
    calendar: FIXTURE_CALENDAR,
    thresholds: { zoneMaxC: 40, noExitMinutes: 15, connectorLag: 1000, stallSeconds: 300 },
    connectors: async () => connectors,
    everyMs: 100,
  });

  /** Loads events as the loader does, then folds them into both layers (batch up to now, speed for what follows). */
  async function load(events: Envelope[]) {
    const batch: TopicBatch = {
      partition: 0,
      records: events.map((e) => ({
        partition: 0,
        offset: offset++,
        key: e.key,
        value: JSON.stringify(e),
        timestamp: 0,
      })),
    };
    await loader.load(batch);
    await applier.cycle();
  }

  before(async () => {
    await migrate(pool, schema, 1);
  });
  after(async () => {
    engine.close();
    await store.close();
    await deletePrefixKeys(redisUrl, prefix);
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('raises on served figures, then clears and raises as new events arrive, keeping since', async () => {
    await load([
      station('CUT', 'A', 0),
      station('WELD', 'A', 1),
      station('PAINT', 'B', 2),
      order('requested', '1'),
      heat('A', 4150, NOW - 3 * MIN),
      heat('B', 3000, NOW - 2 * MIN),
      exit('CUT', NOW - 2 * MIN),
      exit('PAINT', NOW - 4 * MIN),
      exit('WELD', NOW - 40 * MIN),
    ]);
    // Part of the answer from the batch layer's rollups, the rest from Redis.
    await refresher.refreshOnce();
    const watch = engine.watch();
    const snap = (await watch.next()).value as AlertUpdate;
    assert.equal(snap.kind, 'snapshot');
    assert.deepEqual(
      snap.alerts.map((a) => a.id),
      ['severity-1-repair|order R-1|open', 'station-no-exits|station WELD|idle', 'zone-temperature|zone A|hot'],
    );
    assert.equal(snap.alerts.find((a) => a.rule === 'zone-temperature')!.message, '41.5 °C > 40 °C');
    assert.deepEqual(
      snap.rules.map((r) => r.state),
      ['firing', 'firing', 'firing', 'ok'],
    );

    await load([exit('WELD', NOW - MIN), order('completed', '2'), heat('B', 4400, NOW - MIN)]);
    connectors[0] = { ...connectors[0], lag: 5000 };
    const raised: string[] = [];
    const cleared: AlertUpdate['cleared'] = [];
    let last = snap;
    while (raised.length < 2 || cleared.length < 2) {
      last = (await watch.next()).value as AlertUpdate;
      assert.equal(last.kind, 'change');
      raised.push(...last.raised.map((a) => a.id));
      cleared.push(...last.cleared);
    }
    assert.deepEqual(raised.sort(), ['connector|connector machining|lag', 'zone-temperature|zone B|hot']);
    assert.deepEqual(cleared.map((a) => a.id).sort(), [
      'severity-1-repair|order R-1|open',
      'station-no-exits|station WELD|idle',
    ]);
    for (const a of cleared) assert.equal(a.since, snap.alerts.find((s) => s.id === a.id)!.since);
    const zoneA = last.alerts.find((a) => a.id === 'zone-temperature|zone A|hot')!;
    assert.equal(zoneA.since, snap.alerts.find((a) => a.id === zoneA.id)!.since);
    assert.deepEqual(
      last.rules.map((r) => `${r.rule}:${r.state}`),
      ['zone-temperature:firing', 'station-no-exits:ok', 'severity-1-repair:ok', 'connector:firing'],
    );
    await watch.return!();
    // The query side reads the same engine: its answer is the last evaluation or a newer one.
    const now = await engine.current();
    assert.deepEqual(now.alerts.map((a) => a.id).sort(), last.alerts.map((a) => a.id).sort());
  });
});
