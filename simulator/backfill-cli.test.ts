import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { backfillArgs, backfillRange, runBackfillCli } from './backfill-cli.ts';
import { createRecordingTopic } from './testing/recording-topic.ts';
import { clipToUnwritten } from './backfill-overlap.ts';

const pool = testPool();
const schema = testSchemaName('ledger_backfill_cli');
after(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

const NOW = Date.UTC(2026, 4, 10, 12, 34, 56, 789);
const range = (a: Record<string, unknown>) => backfillRange(backfillArgs.parse(a), NOW);

describe('millrace simulate arguments', () => {
  it('--days N ends at the current minute; --from/--to and --from/--days name a range', () => {
    assert.deepEqual(range({ days: '2' }), { from: Date.UTC(2026, 4, 8, 12, 34), to: Date.UTC(2026, 4, 10, 12, 34) });
    assert.deepEqual(range({ from: '2026-01-01', to: '2026-01-03T00:00:00Z' }), {
      from: Date.UTC(2026, 0, 1),
      to: Date.UTC(2026, 0, 3),
    });
    assert.deepEqual(range({ from: String(Date.UTC(2026, 0, 1)), days: 0.5 }), {
      from: Date.UTC(2026, 0, 1),
      to: Date.UTC(2026, 0, 1, 12),
    });
  });

  it('refuses contradictory, empty or unreadable ranges with a CONFIG error', () => {
    for (const a of [
      {},
      { days: 1, from: '2026-01-01', to: '2026-01-02' },
      { to: '2026-01-02' },
      { from: '2026-01-02', to: '2026-01-01' },
      { from: 'soon', to: '2026-01-01' },
    ]) {
      assert.throws(() => range(a), { code: 'CONFIG' }, JSON.stringify(a));
    }
    assert.throws(() => backfillArgs.parse({ days: '-1' }));
  });

  it('runs a back-fill with a progress bar and reports the figures', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => (text += String(c)));
    const lines: string[] = [];
    const topics = new Map<string, ReturnType<typeof createRecordingTopic>>();
    const r = await runBackfillCli(
      { from: '2026-03-01T00:00:00Z', to: '2026-03-01T02:00:00Z', seed: '5' },
      {
        pool,
        ledgerSchema: schema,
        stream: out,
        log: (l) => lines.push(l),
        machiningTopic: 'm.src',
        machiningPartitions: 3,
        openTopic: (name, partitions) => topics.set(name, createRecordingTopic(name, partitions)).get(name)!,
      },
    );
    assert.equal(r.to - r.from, 2 * 3_600_000);
    assert.equal(r.bySource['heat-sensors'].written, 720 * 13);
    assert.ok(r.bySource.machining.written > 5_000);
    assert.equal(topics.get('m.src')!.partitions, 3);
    assert.equal(
      topics.get('m.src')!.records.length,
      r.bySource.machining.written +
        Object.values(r.bySource.machining.faults).reduce((a, b) => a + b, 0) -
        r.bySource.machining.faults.late,
    );
    assert.match(text, /back-fill \|.*\| 100% \| 0\.08\/0\.08 simulated days \| [\d,]+ events\/s/);
    assert.match(
      lines.at(-1)!,
      /^back-fill done: [\d,]+ events \(machining [\d,]+ in [\d.]+ s, heat-sensors 9,360 in [\d.]+ s\)/,
    );
  });
});

describe('millrace simulate beside what was written already', () => {
  const H = 3_600_000;
  const T = Date.UTC(2026, 5, 1, 12);
  const w = (first: number, end: number, live: boolean) => ({ first, end, live });

  it('clips a range reaching into written history to end where it begins, and says so', () => {
    const r = clipToUnwritten({ from: T - 24 * H, to: T + H }, w(T - 2 * H, T + 5 * 60_000, true));
    assert.deepEqual([r.from, r.to], [T - 24 * H, T - 2 * H]);
    assert.match(
      r.note!,
      /clipped to 2026-05-31T12:00:00.000Z → 2026-06-01T10:00:00.000Z: from 2026-06-01T10:00:00.000Z on, the sources were written already \(a live run is writing\)/,
    );
    assert.deepEqual(clipToUnwritten({ from: T - 24 * H, to: T - 2 * H }, w(T - 2 * H, T, true)), {
      from: T - 24 * H,
      to: T - 2 * H,
      note: null,
    });
  });

  it('after a finished run: continues where it ended; a live run is never overtaken; inside history is refused', () => {
    const r = clipToUnwritten({ from: T - H, to: T + 3 * H }, w(T - 2 * H, T, false));
    assert.deepEqual([r.from, r.to], [T, T + 3 * H]);
    assert.deepEqual(clipToUnwritten({ from: T, to: T + H }, w(T - 2 * H, T, false)), {
      from: T,
      to: T + H,
      note: null,
    });
    assert.throws(
      () => clipToUnwritten({ from: T + H, to: T + 2 * H }, w(T - 2 * H, T, true)),
      (e: Error & { code?: string }) =>
        e.code === 'CONFIG' &&
        /a live run is writing on: a seal moved in the last 5 min\); back-fill before 2026-06-01T10:00:00.000Z$/.test(
          e.message,
        ),
    );
    assert.throws(() => clipToUnwritten({ from: T - H, to: T - 30 * 60_000 }, w(T - 2 * H, T, false)), {
      code: 'CONFIG',
    });
  });

  it('a second back-fill over the first one writes nothing twice: the ledger sees no minute twice', async () => {
    const ledgerSchema = testSchemaName('ledger_overlap');
    try {
      const topics = () => (name: string, partitions: number) => createRecordingTopic(name, partitions);
      const deps = {
        pool,
        ledgerSchema,
        stream: new PassThrough(),
        openTopic: topics(),
        machiningTopic: 'm.src',
        machiningPartitions: 1,
      };
      await runBackfillCli(
        { from: '2026-03-01T01:00:00Z', to: '2026-03-01T02:00:00Z', seed: '5' },
        { ...deps, log: () => undefined },
      );
      const before = (
        await pool.query(
          `SELECT fact, minute, station, error_code, value FROM ${ledgerSchema}.facts ORDER BY 1, 2, 3, 4`,
        )
      ).rows;
      const lines: string[] = [];
      const r = await runBackfillCli(
        { from: '2026-03-01T00:00:00Z', to: '2026-03-01T01:30:00Z', seed: '5' },
        { ...deps, log: (l) => lines.push(l) },
      );
      assert.deepEqual([r.from, r.to], [Date.UTC(2026, 2, 1, 0), Date.UTC(2026, 2, 1, 1)]);
      assert.match(lines[0], /^back-fill clipped to 2026-03-01T00:00:00.000Z → 2026-03-01T01:00:00.000Z/);
      const after = (
        await pool.query(
          `SELECT fact, minute, station, error_code, value FROM ${ledgerSchema}.facts WHERE minute >= $1 ORDER BY 1, 2, 3, 4`,
          [Date.UTC(2026, 2, 1, 1)],
        )
      ).rows;
      assert.deepEqual(after, before, 'the minutes of the first back-fill are unchanged');
      await assert.rejects(
        runBackfillCli(
          { from: '2026-03-01T00:30:00Z', to: '2026-03-01T01:30:00Z', seed: '5' },
          { ...deps, log: () => undefined },
        ),
        { code: 'CONFIG' },
      );
    } finally {
      await dropSchema(pool, ledgerSchema);
    }
  });
});
