import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Topic } from '../log/topic.ts';
import type { SpeedStore } from '../speed/store.ts';
import type { Envelope } from '../ingest/envelope.ts';
import { migrate } from '../store/migrate.ts';
import { createLoader } from '../loader/loader.ts';
import { createSpeedApplier } from '../speed/applier.ts';
import { createRefresher } from '../batch/refresher.ts';
import { createServing } from '../serving/create-serving.ts';
import { allMetrics } from '../metrics/index.ts';
import { GRAIN_MS, type Grain, type Serving } from '../serving/types.ts';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';

const P = 3;
const SLICE = 50;
const T0 = Date.UTC(2026, 10, 1, 6, 0, 0);
const STATIONS = ['DIE', 'BND', 'TST'];

/** Events with known truth: computed here, by hand, not by the metric code. */
function makeEvents(n: number, seed: number) {
  let x = seed;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const events: Envelope[] = [];
  for (let i = 0; i < n; i++) {
    const exit = rnd() < 0.5;
    const station = STATIONS[Math.floor(rnd() * STATIONS.length)];
    events.push({
      id: `t:${seed}:${i}`,
      source: 'test',
      type: exit ? 'machining.exit' : 'machining.enter',
      key: `part-${Math.floor(rnd() * 40)}`,
      eventTime: T0 + Math.floor(rnd() * 3 * 3_600_000),
      payload: {
        station,
        errorCode: exit && rnd() < 0.2 ? 'E12' : null,
        cycleTimeMs: exit ? Math.floor(rnd() * 400_000) : null,
      },
    });
  }
  return events;
}

function truth(events: Envelope[], grain: Grain) {
  const g = GRAIN_MS[grain];
  const unique = new Map(events.map((e) => [e.id, e]));
  const out = {
    entered: new Map<string, number>(),
    exited: new Map<string, number>(),
    errors: new Map<string, number>(),
    ctSum: new Map<string, number>(),
  };
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const e of unique.values()) {
    const k = `${Math.floor(e.eventTime / g) * g}|${e.payload.station}`;
    if (e.type === 'machining.enter') add(out.entered, k, 1);
    else {
      add(out.exited, k, 1);
      add(out.ctSum, k, Number(e.payload.cycleTimeMs));
      if (e.payload.errorCode) add(out.errors, `${k}|${e.payload.errorCode}`, 1);
    }
  }
  return out;
}

async function served(serving: Serving, metric: string, grain: Grain, cell = 0) {
  const r = await serving.series({ metric, grain, from: T0 - 86_400_000, to: T0 + 2 * 86_400_000 });
  const m = new Map<string, number>();
  for (const p of r.points) m.set([p.bucket, ...Object.values(p.dims)].join('|'), p.cells[cell]);
  return { map: m, freshness: r.freshness };
}

const sorted = (m: Map<string, number>) => new Map([...m].filter(([, v]) => v !== 0).sort());

/**
 * The exactness protocol end to end inside one process, over a log + speed store pair:
 * loader → speed + batch → serving, checked against truth computed by hand, through duplicates,
 * a lost speed store and a fenced zombie loader.
 */
export function pipelineContract(
  name: string,
  make: {
    topic: (pool: pg.Pool, name: string) => Topic;
    store: () => SpeedStore;
    flush: (s: SpeedStore) => Promise<SpeedStore>;
  },
) {
  describe(`pipeline (${name})`, () => {
    const pool = testPool();
    const schema = testSchemaName('pipe');
    // A group of its own: the default millrace-loader is shared with any deployment on this Kafka.
    const group = `${schema}-loader`;
    let log: Topic;
    let store: SpeedStore;
    const events = makeEvents(2400, 7);
    // Duplicates: 300 events re-sent (some at much later offsets); the tail is fresh events.
    const withDups = [
      ...events.slice(0, 1200),
      ...events.slice(100, 250),
      ...events.slice(1200, 2300),
      ...events.slice(1500, 1650),
      ...events.slice(2300),
    ];

    before(async () => {
      await migrate(pool, schema, P);
      log = make.topic(pool, `${schema}.log`);
      await log.ensure();
      store = make.store();
    });
    after(async () => {
      await log.close();
      await store.close();
      await dropSchema(pool, schema);
      await pool.end();
    });

    const parts = (s: SpeedStore) => {
      const applier = createSpeedApplier({
        pool,
        schema,
        store: s,
        metrics: allMetrics,
        partitions: P,
        slice: SLICE,
        pollMs: 50,
      });
      const refresher = createRefresher({
        pool,
        schema,
        metrics: allMetrics,
        partitions: P,
        slice: SLICE,
        intervalMs: 50,
      });
      const serving = createServing({ pool, schema, store: s, metrics: allMetrics, partitions: P, slice: SLICE });
      return { applier, refresher, serving };
    };

    async function settle(
      applier: ReturnType<typeof parts>['applier'],
      refresher: ReturnType<typeof parts>['refresher'],
      total: number,
    ) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await pool.query(`SELECT sum(next_offset)::int AS n FROM ${schema}.loader_offsets`);
        if (r.rows[0].n >= total) break;
        if (Date.now() > deadline) throw new Error(`loader stuck at ${r.rows[0].n}/${total}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      await refresher.refreshOnce();
      await applier.cycle();
    }

    async function assertExact(serving: Serving) {
      for (const grain of ['minute', 'hour', 'day'] as Grain[]) {
        const t = truth(events, grain);
        assert.deepEqual(
          sorted((await served(serving, 'parts_entered', grain)).map),
          sorted(t.entered),
          `parts_entered/${grain}`,
        );
        assert.deepEqual(
          sorted((await served(serving, 'parts_exited', grain)).map),
          sorted(t.exited),
          `parts_exited/${grain}`,
        );
        assert.deepEqual(
          sorted((await served(serving, 'station_errors', grain)).map),
          sorted(t.errors),
          `station_errors/${grain}`,
        );
        assert.deepEqual(
          sorted((await served(serving, 'cycle_time', grain, 1)).map),
          sorted(t.ctSum),
          `cycle_time sum/${grain}`,
        );
      }
    }

    it('serves exactly the unique events, from both layers, through duplicates', async () => {
      const { applier, refresher, serving } = parts(store);
      const loader = createLoader({ pool, schema, log, group, onCommitted: () => applier.kick(), maxBatch: 97 });
      await loader.start();
      applier.start();
      // Publish in chunks while folding, so batch and speed both hold part of the answer.
      for (let i = 0; i < withDups.length; i += 300) {
        await log.publish(withDups.slice(i, i + 300).map((e) => ({ key: e.key, value: JSON.stringify(e) })));
        if (i === 1500) await refresher.refreshOnce();
      }
      await settle(applier, refresher, withDups.length);
      await loader.stop();
      await applier.stop();
      await assertExact(serving);
      const f = (await served(serving, 'parts_entered', 'day')).freshness;
      assert.ok(f.batchShare > 0 && f.speedShare > 0, `both layers contribute: ${JSON.stringify(f)}`);
      assert.equal(f.speedLagEvents, 0);
      assert.equal(loader.stats.duplicates, withDups.length - events.length);
    });

    it('stays exact after the speed store lost everything (rebuilt from raw at the batch watermark)', async () => {
      store = await make.flush(store);
      const { applier, serving } = parts(store);
      const before = await served(serving, 'parts_entered', 'hour');
      assert.ok(before.freshness.speedShare === 0, 'nothing in speed right after the flush');
      await applier.cycle();
      await assertExact(serving);
    });

    it('fences a zombie loader: a stale offset cannot commit', async () => {
      const zombie = createLoader({ pool, schema, log, group });
      const p = 0;
      const r = await pool.query(`SELECT next_offset FROM ${schema}.loader_offsets WHERE partition = $1`, [p]);
      const next = Number(r.rows[0].next_offset);
      const extra: Envelope = { ...events[0], id: 'zombie-1' };
      const record = (offset: number) => ({
        partition: p,
        offset,
        key: 'k',
        value: JSON.stringify(extra),
        timestamp: 0,
      });
      // The zombie takes the partition at `next` (an already-loaded record is skipped)...
      await zombie.load({ partition: p, records: [record(next - 1)] });
      // ...then a rebalance gives it to another loader, which commits one record...
      await pool.query(`UPDATE ${schema}.loader_offsets SET next_offset = next_offset + 1 WHERE partition = $1`, [p]);
      try {
        // ...and the zombie, unaware, tries to commit from its stale position.
        await assert.rejects(zombie.load({ partition: p, records: [record(next)] }), /another loader/);
      } finally {
        await pool.query(`UPDATE ${schema}.loader_offsets SET next_offset = $2 WHERE partition = $1`, [p, next]);
      }
      const n = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.raw_events WHERE id = 'zombie-1'`);
      assert.equal(n.rows[0].n, 0);
    });

    it('dead-letters a record in the log that is not an envelope, and keeps loading', async () => {
      const { applier, refresher, serving } = parts(store);
      const loader = createLoader({ pool, schema, log, group });
      await loader.start();
      const before = await pool.query(`SELECT sum(next_offset)::int AS n FROM ${schema}.loader_offsets`);
      await log.publish([
        { key: 'bad', value: '{"not":"an envelope"}' },
        { key: 'bad2', value: 'garbage' },
      ]);
      await settle(applier, refresher, before.rows[0].n + 2);
      await loader.stop();
      const dl = await pool.query(
        `SELECT reason FROM ${schema}.dead_letters WHERE connector = 'loader' ORDER BY position`,
      );
      assert.equal(dl.rowCount, 2);
      assert.match(dl.rows.map((r) => r.reason).join(' '), /not JSON/);
      await assertExact(serving);
    });
  });
}
