import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import type { Topic } from '../log/topic.ts';
import { backfill, type BackfillOptions } from './backfill.ts';
import { sourceSeal } from './ledger-sources.ts';
import { createRecordingTopic, type RecordingTopic } from './testing/recording-topic.ts';

const pool = testPool();
const schemas: string[] = [];
const FROM = Date.UTC(2026, 2, 1, 4, 0);
const H = 3_600_000;
after(async () => {
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

async function run(opts: Partial<BackfillOptions> & { from: number; to: number }) {
  const ledgerSchema = testSchemaName('ledger_backfill');
  schemas.push(ledgerSchema);
  const topics = new Map<string, RecordingTopic>();
  const openTopic = (name: string, partitions: number): Topic => {
    const t = createRecordingTopic(name, partitions);
    topics.set(name, t);
    return t;
  };
  const progress: Array<[number, number]> = [];
  const stats = await backfill({
    seed: 42,
    pool,
    ledgerSchema,
    openTopic,
    progress: (d, t) => progress.push([d, t]),
    ...opts,
  });
  const { rows } = await pool.query(
    `SELECT fact, minute, station, error_code, value FROM ${ledgerSchema}.facts ORDER BY 1, 2, 3, 4`,
  );
  const seals = (await pool.query(`SELECT source, sealed_before FROM ${ledgerSchema}.seals ORDER BY 1`)).rows;
  const state = (await pool.query(`SELECT sealed_before FROM ${ledgerSchema}.state`)).rows;
  return { stats, facts: rows, seals, state, topics, progress, ledgerSchema };
}

describe('back-fill', () => {
  it('is deterministic: same seed and range → identical ledger facts, seals and messages', async () => {
    const a = await run({ from: FROM, to: FROM + 3 * H });
    const b = await run({ from: FROM, to: FROM + 3 * H });
    assert.ok(a.facts.length > 500);
    assert.deepEqual(b.facts, a.facts);
    assert.deepEqual(b.seals, a.seals);
    assert.deepEqual(b.state, a.state);
    assert.deepEqual([...a.topics.keys()].sort(), ['mycpu.heat', 'mycpu.machining']);
    for (const [name, t] of a.topics)
      assert.deepEqual(
        b.topics.get(name)!.records.map((r) => r.value),
        t.records.map((r) => r.value),
      );
    // Both sources, at the notes' scale: ≈1.6 machining events and 1.3 heat readings per simulated second.
    assert.ok(
      Math.abs(a.stats.bySource.machining.written / (3 * 3600) - 1.585) < 0.4,
      `machining ${a.stats.bySource.machining.written}`,
    );
    assert.equal(a.stats.bySource['heat-sensors'].written, 3 * 360 * 13);
    const other = await run({ from: FROM, to: FROM + 3 * H, seed: 43 });
    assert.notDeepEqual(other.facts, a.facts);
  });

  it('covers the range: progress ends at the total, every source seals at or after `to`, no fact outside [from − lateness, to)', async () => {
    const to = FROM + 2 * H + 30 * 60_000;
    const r = await run({ from: FROM, to });
    assert.deepEqual(r.progress.at(-1), [to - FROM, to - FROM]);
    assert.ok(r.progress.every(([d], i) => i === 0 || d >= r.progress[i - 1][0]));
    assert.ok((await sourceSeal(pool, r.ledgerSchema, 'heat-sensors'))! >= to);
    assert.ok(Number(r.state[0].sealed_before) >= to);
    // Each writer reports reaching the end, and when: none after the whole run.
    for (const [name, s] of Object.entries(r.stats.bySource)) {
      assert.equal(s.clock, to, name);
      assert.ok(s.doneMs !== null && s.doneMs > 0 && s.doneMs <= r.stats.wallMs, `${name} done after ${s.doneMs} ms`);
    }
    for (const f of r.facts) assert.ok(Number(f.minute) >= FROM && Number(f.minute) < to, `fact at ${f.minute}`);
  });

  it('rejects a bad range or seed with a CONFIG error', async () => {
    await assert.rejects(
      backfill({ from: FROM, to: FROM, seed: 1, pool, ledgerSchema: 'x', openTopic: () => createRecordingTopic() }),
      { code: 'CONFIG' },
    );
    await assert.rejects(
      backfill({
        from: FROM,
        to: FROM + H,
        seed: 1.5,
        pool,
        ledgerSchema: 'x',
        openTopic: () => createRecordingTopic(),
      }),
      { code: 'CONFIG' },
    );
  });

  it('streams: heap stays flat over simulated days (nothing kept in proportion to history)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const ledgerSchema = testSchemaName('ledger_backfill_mem');
    schemas.push(ledgerSchema);
    // A topic that counts and forgets: only the writers' own memory is measured.
    let sent = 0;
    const sink = (name: string, partitions: number): Topic => ({
      name,
      partitions,
      ensure: async () => undefined,
      close: async () => undefined,
      consume: async () => {
        throw new Error('sink');
      },
      endOffsets: async () => [sent],
      publish: async (recs) => (
        (sent += recs.length),
        recs.map((_, i) => ({ partition: 0, offset: sent - recs.length + i }))
      ),
    });
    const DAY = 24 * H;
    const heap: Array<[number, number]> = [];
    let nextSample = DAY / 2;
    await backfill({
      from: FROM,
      to: FROM + 3 * DAY,
      seed: 7,
      pool,
      ledgerSchema,
      openTopic: sink,
      progress: (done) => {
        if (done < nextSample) return;
        nextSample += DAY / 2;
        gc();
        heap.push([done, process.memoryUsage().heapUsed]);
      },
    });
    assert.ok(sent > 700_000, `sent ${sent}`);
    assert.ok(heap.length >= 5);
    const growth = heap.at(-1)![1] - heap[0][1];
    assert.ok(
      growth < 16 * 1024 * 1024,
      `heap grew ${(growth / 1048576).toFixed(1)} MiB over ${heap.length} samples: ${heap.map(([, h]) => (h / 1048576).toFixed(1)).join(', ')}`,
    );
  });
});
