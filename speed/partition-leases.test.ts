import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { TEST_DATABASE_URL, dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { migrate } from '../store/migrate.ts';
import { allMetrics } from '../metrics/index.ts';
import { createMemoryStore } from './memory-store.ts';
import { createSpeedApplier } from './applier.ts';
import { createPartitionLeases, partitionLeaseHolders, type PartitionLeases } from './partition-leases.ts';

const pool = testPool();
const schema = testSchemaName('leases');
const P = 4;
const open: PartitionLeases[] = [];
const leases = (
  over: { schema?: string; idleTimeoutMs?: number; applicationName?: string; rebalanceMs?: number } = {},
) => {
  // Every pass rebalances here (the default counts members at most once a second).
  const l = createPartitionLeases({
    connectionString: TEST_DATABASE_URL,
    schema,
    partitions: P,
    rebalanceMs: 0,
    ...over,
  });
  open.push(l);
  return l;
};
/** Both sides pass until neither changes what it holds (a rebalance takes the giver's pass, then the taker's). */
async function settle(...ls: PartitionLeases[]): Promise<number[][]> {
  let last = '';
  for (let i = 0; i < 10; i++) {
    const now = [];
    for (const l of ls) now.push([...(await l.owned())].sort());
    if (JSON.stringify(now) === last) return now;
    last = JSON.stringify(now);
  }
  throw new Error(`no stable split: ${last}`);
}

beforeAll(async () => {
  await migrate(pool, schema, P);
});
afterAll(async () => {
  for (const l of open) await l.close();
  await dropSchema(pool, schema);
  await pool.end();
});

describe('speed partition leases', () => {
  it('one applier holds every partition; a second takes half; the first takes all back when it leaves', async () => {
    const a = leases();
    assert.deepEqual([...(await a.owned())].sort(), [0, 1, 2, 3]);
    const b = leases();
    const [ha, hb] = await settle(a, b);
    assert.equal(ha.length, 2);
    assert.equal(hb.length, 2);
    assert.deepEqual([...ha, ...hb].sort(), [0, 1, 2, 3], 'disjoint, and every partition held');
    const seen = await partitionLeaseHolders(pool, schema);
    assert.equal(seen.members, 2);
    assert.equal(seen.partitions.length, 4);
    assert.equal(new Set(seen.partitions.map((x) => x.pid)).size, 2, 'two sessions hold them');

    // A clean stop lets go at once.
    await b.close();
    assert.deepEqual([...(await a.owned())].sort(), [0, 1, 2, 3]);
    await a.close();
    assert.deepEqual(await partitionLeaseHolders(pool, schema), { members: 0, partitions: [] });
  });

  it("a killed applier's session ends and its partitions move; it rejoins when it comes back", async () => {
    const a = leases({ applicationName: 'lease-a' });
    const b = leases({ applicationName: 'lease-b' });
    await settle(a, b);
    // What a SIGKILL does to the lease session: the server ends it, and every lock it held.
    const victim = (await partitionLeaseHolders(pool, schema)).partitions.find((x) => x.applicationName === 'lease-b');
    assert.ok(victim, 'b holds a partition');
    await pool.query('SELECT pg_terminate_backend($1)', [victim.pid]);
    assert.deepEqual([...(await a.owned())].sort(), [0, 1, 2, 3], 'a takes all four on its next pass');
    // b finds its session gone (its pass fails, or it has already seen the end), reconnects and rejoins.
    await b.owned().catch(() => undefined);
    const [ha, hb] = await settle(a, b);
    assert.deepEqual([...ha, ...hb].sort(), [0, 1, 2, 3]);
    assert.equal(hb.length, 2, 'rejoined and rebalanced');
    await a.close();
    await b.close();
  });

  it('a hung applier (no pass within the idle timeout) loses its partitions to the others', async () => {
    const hung = leases({ idleTimeoutMs: 1000 });
    const live = leases();
    await settle(hung, live);
    assert.equal((await live.owned()).size, 2);
    // The hung one makes no pass; the server cuts its session after 1 s and the live one takes all.
    const deadline = Date.now() + 15_000;
    while ((await live.owned()).size < P) {
      assert.ok(Date.now() < deadline, 'the hung session was never cut off');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await partitionLeaseHolders(pool, schema)).members, 1);
    await hung.close();
    await live.close();
  });

  it('counts the members at most every rebalanceMs (a pass follows every loader commit)', async () => {
    const a = leases({ rebalanceMs: 60_000 });
    assert.equal((await a.owned()).size, P);
    const b = leases();
    assert.equal((await b.owned()).size, 0, 'a holds them all');
    assert.equal((await a.owned()).size, P, 'a has not counted b yet');
    await a.close();
    await b.close();
  });

  it("another deployment's appliers (another schema) are not counted", async () => {
    const mine = leases();
    const other = leases({ schema: `${schema}_other` });
    assert.equal((await mine.owned()).size, P);
    assert.equal((await other.owned()).size, P);
    await mine.close();
    await other.close();
  });
});

describe('speed appliers with leases', () => {
  it('two appliers split the partitions: each applies only its own, together everything once', async () => {
    const N = 4000;
    await pool.query(
      `INSERT INTO ${schema}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
       SELECT 'e' || g, 'test', 'machining.exit', 'P' || g, 1793491200000 + g * 1000,
              jsonb_build_object('partId', 'P' || g, 'station', 'DIE', 'machine', 'M-1', 'operator', 'E0001',
                                 'cycleTimeMs', 20000),
              g % 4, g / 4
         FROM generate_series(0, $1::int - 1) g`,
      [N],
    );
    const store = createMemoryStore();
    const common = { pool, schema, store, metrics: allMetrics, partitions: P, slice: 100 };
    const one = createSpeedApplier({ ...common, leases: leases() });
    const two = createSpeedApplier({ ...common, leases: leases() });
    // Both start with nothing loaded: their first passes settle the split (the first one to pass
    // alone takes every partition, then gives two back once it counts the second).
    for (let i = 0; i < 3; i++) await Promise.all([one.cycle(), two.cycle()]);
    await pool.query(`UPDATE ${schema}.loader_offsets SET next_offset = $1`, [N / P]);
    for (let i = 0; i < 3; i++) await Promise.all([one.cycle(), two.cycle()]);
    assert.deepEqual(await store.offsets(P), [N / P, N / P, N / P, N / P]);
    const [a, b] = [one.stats, two.stats];
    assert.equal(a.partitions?.length, 2, JSON.stringify(a));
    assert.equal(b.partitions?.length, 2, JSON.stringify(b));
    assert.deepEqual([...a.partitions!, ...b.partitions!].sort(), [0, 1, 2, 3]);
    assert.ok(a.events > 0 && b.events > 0, `both applied (${a.events}, ${b.events})`);
    assert.equal(a.events + b.events, N, 'every event applied once');

    // One stops: the other takes its partitions and applies what comes next for all four.
    await two.stop();
    await pool.query(
      `INSERT INTO ${schema}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
       SELECT 'f' || g, 'test', 'machining.exit', 'Q' || g, 1793491200000 + g * 1000,
              jsonb_build_object('partId', 'Q' || g, 'station', 'DIE', 'machine', 'M-1', 'operator', 'E0001',
                                 'cycleTimeMs', 20000),
              g % 4, $1::int / 4 + g / 4
         FROM generate_series(0, 399) g`,
      [N],
    );
    await pool.query(`UPDATE ${schema}.loader_offsets SET next_offset = $1`, [N / P + 100]);
    const before = one.stats.events;
    await one.cycle();
    assert.deepEqual(one.stats.partitions, [0, 1, 2, 3]);
    assert.equal(one.stats.events - before, 400);
    assert.deepEqual(await store.offsets(P), [N / P + 100, N / P + 100, N / P + 100, N / P + 100]);
    await one.stop();
    await store.close();
  });
});
