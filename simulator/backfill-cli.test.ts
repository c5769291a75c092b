import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { backfillArgs, backfillRange, runBackfillCli } from './backfill-cli.ts';
import { createRecordingTopic } from './testing/recording-topic.ts';

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
    assert.deepEqual(range({ from: '2026-01-01', to: '2026-01-03T00:00:00Z' }), { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 3) });
    assert.deepEqual(range({ from: String(Date.UTC(2026, 0, 1)), days: 0.5 }), { from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 1, 12) });
  });

  it('refuses contradictory, empty or unreadable ranges with a CONFIG error', () => {
    for (const a of [{}, { days: 1, from: '2026-01-01', to: '2026-01-02' }, { to: '2026-01-02' }, { from: '2026-01-02', to: '2026-01-01' }, { from: 'soon', to: '2026-01-01' }]) {
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
    const r = await runBackfillCli({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T02:00:00Z', seed: '5' }, {
      pool, ledgerSchema: schema, stream: out, log: (l) => lines.push(l), machiningTopic: 'm.src', machiningPartitions: 3,
      openTopic: (name, partitions) => topics.set(name, createRecordingTopic(name, partitions)).get(name)!,
    });
    assert.equal(r.to - r.from, 2 * 3_600_000);
    assert.equal(r.bySource['heat-sensors'].written, 720 * 13);
    assert.ok(r.bySource.machining.written > 5_000);
    assert.equal(topics.get('m.src')!.partitions, 3);
    assert.equal(topics.get('m.src')!.records.length, r.bySource.machining.written + Object.values(r.bySource.machining.faults).reduce((a, b) => a + b, 0) - r.bySource.machining.faults.late);
    assert.match(text, /back-fill \|.*\| 100% \| 0\.08\/0\.08 simulated days \| [\d,]+ events\/s/);
    assert.match(lines.at(-1)!, /^back-fill done: [\d,]+ events \(machining [\d,]+ in [\d.]+ s, heat-sensors 9,360 in [\d.]+ s\)/);
  });
});
