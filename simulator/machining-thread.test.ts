import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, TEST_DATABASE_URL, testPool, testSchemaName } from '../lib/test-db.ts';
import { openTopicFromSpec, type TopicSpec } from '../log/open-topic.ts';
import { backfill } from './backfill.ts';
import { createMachiningThread, type MachiningThreadOptions } from './machining-thread.ts';

const pool = testPool();
const schemas: string[] = [];
const FROM = Date.UTC(2026, 2, 1, 4, 0);
const H = 3_600_000;
after(async () => {
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

function schema(prefix: string): string {
  const s = testSchemaName(prefix);
  schemas.push(s);
  return s;
}

/** A back-fill into table topics of a schema of its own; returns every row it left, in a comparable order. */
async function run(thread: boolean) {
  const ledgerSchema = schema('ledger_mthread');
  const spec: TopicSpec = { kind: 'postgres', schema: schema('log_mthread') };
  const stats = await backfill({
    from: FROM,
    to: FROM + 3 * H,
    seed: 42,
    pool,
    ledgerSchema,
    openTopic: openTopicFromSpec(spec, pool),
    machiningThread: thread ? { topic: spec, databaseUrl: TEST_DATABASE_URL } : undefined,
  });
  const q = async (sql: string) => (await pool.query(sql)).rows;
  return {
    stats,
    records: await q(
      `SELECT topic, partition, "offset", key, value FROM ${spec.schema}.records ORDER BY topic, partition, "offset"`,
    ),
    facts: await q(`SELECT fact, minute, station, error_code, value FROM ${ledgerSchema}.facts ORDER BY 1, 2, 3, 4`),
    // Machining's and the heat writer's faults interleave by timing: compare them as a set.
    faults: await q(`SELECT kind, detail, event_id, event_at, raw FROM ${ledgerSchema}.faults ORDER BY 1, 2, 3, 4, 5`),
    state: await q(`SELECT sealed_before, first_minute, events, messages FROM ${ledgerSchema}.state`),
    seals: await q(`SELECT source, sealed_before FROM ${ledgerSchema}.seals ORDER BY 1`),
  };
}

/** A thread whose topic lives in a schema of its own; `databaseUrl` may point elsewhere. */
function thread(over: Partial<MachiningThreadOptions> = {}) {
  return createMachiningThread({
    topic: { kind: 'postgres', schema: schema('log_mthread') },
    topicName: 'mycpu.machining',
    partitions: 2,
    databaseUrl: TEST_DATABASE_URL,
    ledgerSchema: schema('ledger_mthread'),
    seed: 7,
    startTime: FROM,
    ratePerSec: 2,
    maxBatch: 1_000,
    log: () => undefined,
    ...over,
  });
}

describe('machining thread', () => {
  it('writes what the in-process simulator writes: same topic records in order, same ledger rows', async () => {
    const a = await run(false);
    const b = await run(true);
    assert.ok(a.records.filter((r) => r.topic === 'mycpu.machining').length > 15_000);
    assert.ok(a.faults.length > 500);
    assert.deepEqual(b.records, a.records);
    assert.deepEqual(b.facts, a.facts);
    assert.deepEqual(b.faults, a.faults);
    assert.deepEqual(b.state, a.state);
    assert.deepEqual(b.seals, a.seals);
    // Same figures per source (when each finished is wall time, and differs).
    const figures = (x: typeof a.stats.bySource) =>
      Object.fromEntries(
        Object.entries(x).map(([k, v]) => [k, { written: v.written, faults: v.faults, clock: v.clock }]),
      );
    assert.deepEqual(figures(b.stats.bySource), figures(a.stats.bySource));
  });

  it('keeps stats() live and synchronous, and answers runFor with the figures', async () => {
    const t = thread();
    assert.equal(t.stats().events, 0);
    let done = false;
    const running = t.runFor({ untilTime: FROM + 6 * H }).finally(() => (done = true));
    while (!done && t.stats().events === 0) await new Promise((r) => setTimeout(r, 5));
    assert.ok(!done, 'figures arrive while runFor runs (after each recorded batch)');
    const s = await running;
    assert.ok(s.events > 30_000);
    assert.deepEqual(t.stats(), s);
    assert.throws(() => t.start(), /not supported in a thread/);
    await t.stop();
    assert.equal(t.running, false);
    assert.ok(t.stats().sealedBefore! >= FROM + 6 * H);
  });

  it("rejects runFor with the thread's error, and stops (thread gone) after it", async () => {
    const t = thread({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test' }); // nothing listens there
    await assert.rejects(t.runFor({ untilTime: FROM + H }), (err: Error & { code?: string }) => {
      assert.match(err.message, /^machining thread: machining simulator: publish to mycpu\.machining: .*ECONNREFUSED/);
      assert.equal(err.code, 'INTERNAL');
      return true;
    });
    // The flush retries the publish, fails the same way; the thread is terminated all the same.
    await assert.rejects(t.stop(), /ECONNREFUSED/);
    assert.equal(t.running, false);
    await assert.rejects(t.runFor({ untilTime: FROM + H }), /machining thread: stopped/);
  });

  it('a failed set-up rejects every runFor; stop ends the thread', async () => {
    const t = thread({ ratePerSec: -1 });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(t.runFor({ untilTime: FROM + H }), (err: Error & { code?: string }) => {
        assert.equal(err.message, 'machining thread: machining simulator: ratePerSec must be positive');
        assert.equal(err.code, undefined); // a plain Error there, a plain Error here
        return true;
      });
    }
    await t.stop();
    assert.equal(t.running, false);
  });

  it('stop after stop, and stop after the thread died, settle at once', async () => {
    const a = thread();
    await a.runFor({ untilTime: FROM + 10 * 60_000 });
    await a.stop();
    await a.stop();
    assert.equal(a.running, false);

    const b = thread();
    const running = b.runFor({ untilTime: FROM + 30 * 24 * H }); // far more than it will get to
    await new Promise((r) => setTimeout(r, 300));
    await b.terminate();
    await assert.rejects(running, /machining thread: terminated/);
    await assert.rejects(b.stop(), /machining thread: terminated/); // nothing could be flushed
    await assert.rejects(b.stop(), /machining thread: terminated/);
    assert.equal(b.running, false);
  });
});
