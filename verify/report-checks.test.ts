import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { createLedger, readFacts } from '../simulator/ledger.ts';
import { loadFloorMap } from '../simulator/floor.ts';
import { CYCLE_TIME_BOUNDS_MS } from '../simulator/ledger-facts.ts';
import { createMachiningSimulator } from '../simulator/machining.ts';
import { createRecordingTopic } from '../simulator/testing/recording-topic.ts';
import { startFixtureStack, type FixtureStack } from '../gateway/testing/start-fixture-stack.ts';
import type { FixtureRow } from '../serving/testing/fixture-serving.ts';
import type { EntityRow } from '../serving/types.ts';
import { bucketOf, localBuckets } from './local-calendar.ts';
import { runVerify } from './verify.ts';

// A day around the spring-forward change in Europe/Berlin (2026-03-29 has 23 hours there):
// the simulator back-fills it in seconds at a low rate.
const START = Date.UTC(2026, 2, 28, 22, 0);
const UNTIL = Date.UTC(2026, 2, 29, 22, 30);
const pool = testPool();
const schema = testSchemaName('ledger_reports');
const MIN = 60_000;

/** The ledger's facts as the rows a correct pipeline would serve (minute states per metric). */
async function rowsFromLedger(): Promise<FixtureRow[]> {
  const facts = await readFacts(pool, {
    schema,
    fact: [
      'parts_entered',
      'parts_exited',
      'station_errors',
      'cycle_time_count',
      'cycle_time_sum',
      ...[...CYCLE_TIME_BOUNDS_MS, 0].map((_, i) => `cycle_time_bucket_${i}`),
      'repairs_completed',
      'repair_duration_ms',
    ],
    from: 0,
    to: UNTIL + MIN,
    grainMs: MIN,
  });
  const rows: FixtureRow[] = [];
  const cycle = new Map<string, FixtureRow>();
  for (const f of facts) {
    if (f.fact.startsWith('cycle_time_')) {
      const k = `${f.bucket} ${f.station}`;
      let r = cycle.get(k);
      if (!r)
        cycle.set(
          k,
          (r = {
            metric: 'cycle_time',
            bucket: f.bucket,
            dims: { station: f.station },
            cells: new Array(CYCLE_TIME_BOUNDS_MS.length + 3).fill(0),
          }),
        );
      const i =
        f.fact === 'cycle_time_count'
          ? 0
          : f.fact === 'cycle_time_sum'
            ? 1
            : 2 + Number(f.fact.slice('cycle_time_bucket_'.length));
      r.cells[i] += f.value;
    } else if (f.fact === 'repairs_completed' || f.fact === 'repair_duration_ms') {
      rows.push({ metric: f.fact, bucket: f.bucket, dims: { severity: f.station }, cells: [f.value] });
    } else {
      rows.push({
        metric: f.fact,
        bucket: f.bucket,
        dims:
          f.fact === 'station_errors' ? { station: f.station, errorCode: f.errorCode ?? '' } : { station: f.station },
        cells: [f.value],
      });
    }
  }
  return [...rows, ...cycle.values()];
}

const floorEntities = (): EntityRow[] =>
  loadFloorMap().stations.map((s) => ({ entity: 'station', key: s.id, version: '1', data: s, deleted: false }));

before(async () => {
  const ledger = createLedger({ pool, schema });
  const sim = createMachiningSimulator({
    topic: createRecordingTopic(),
    ledger,
    seed: 29,
    startTime: START,
    ratePerSec: 0.2,
  });
  await sim.runFor({ untilTime: UNTIL });
  await sim.stop();
  // Repairs completed around the change (the ledger keeps an order fact's severity as its station).
  const repairs = [
    [Date.UTC(2026, 2, 29, 0, 30), '1', 3_600_000],
    [Date.UTC(2026, 2, 29, 0, 59), '2', 1_000],
    [Date.UTC(2026, 2, 29, 1, 0), '1', 7_777],
    [Date.UTC(2026, 2, 29, 20, 0), '3', 600_000],
  ] as const;
  for (const [minute, sev, ms] of repairs) {
    await pool.query(
      `INSERT INTO ${schema}.facts (fact, minute, station, error_code, value) VALUES ('repairs_completed', $1, $2, '', 1), ('repair_duration_ms', $1, $2, '', $3)`,
      [minute, sev, ms],
    );
  }
  await pool.query(`INSERT INTO ${schema}.seals (source, sealed_before) VALUES ('orders-postgres', $1)`, [UNTIL]);
});

after(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

describe("verify's own calendar", () => {
  it('cuts Berlin days and shifts across the spring-forward change', () => {
    const shifts = [
      { id: 'A', startMinute: 360 },
      { id: 'B', startMinute: 840 },
      { id: 'C', startMinute: 1320 },
    ];
    const days = localBuckets('Europe/Berlin', 'DAY', shifts, Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 30, 22));
    assert.deepEqual(
      days.map((b) => [new Date(b.start).toISOString(), (b.end - b.start) / 3_600_000, b.label]),
      [
        ['2026-03-28T23:00:00.000Z', 23, '2026-03-29'],
        ['2026-03-29T22:00:00.000Z', 24, '2026-03-30'],
      ],
    );
    const night = localBuckets('Europe/Berlin', 'SHIFT', shifts, Date.UTC(2026, 2, 28, 21), Date.UTC(2026, 2, 29, 4));
    assert.deepEqual(
      night.map((b) => [new Date(b.start).toISOString(), (b.end - b.start) / 3_600_000, b.label]),
      [['2026-03-28T21:00:00.000Z', 7, '2026-03-28 C']],
    );
    const hours = localBuckets('Europe/Berlin', 'HOUR', shifts, Date.UTC(2026, 2, 29, 0, 30), Date.UTC(2026, 2, 29, 2));
    assert.deepEqual(
      hours.map((b) => b.label),
      ['2026-03-29 01:00', '2026-03-29 03:00'],
      'the clock jumps from 02:00 to 03:00',
    );
    assert.equal(bucketOf(days, Date.UTC(2026, 2, 29, 21, 59)), 0);
    assert.equal(bucketOf(days, Date.UTC(2026, 2, 29, 22)), 1);
    assert.equal(bucketOf(days, Date.UTC(2026, 2, 28, 22, 59)), -1);
  });
});

describe('verify compares the reports with the ledger', () => {
  let rows: FixtureRow[];
  before(async () => {
    rows = await rowsFromLedger();
  });

  async function verifyAgainst(served: FixtureRow[]) {
    const stack: FixtureStack = await startFixtureStack(served, {}, { entities: floorEntities() });
    const lines: string[] = [];
    try {
      const result = await runVerify({
        graphqlUrl: stack.gateway.url,
        headers: stack.headers,
        pool,
        ledgerSchema: schema,
        ranges: 4,
        seed: 7,
        log: (l) => lines.push(l),
        sourceChecks: [],
      });
      return { result, lines };
    } finally {
      await stack.close();
    }
  }

  it('finds no mismatch when the API serves the ledger, and checks SHIFT and DAY in UTC and Berlin across the change', async () => {
    const { result, lines } = await verifyAgainst(rows);
    assert.deepEqual(result.details.slice(0, 5), []);
    assert.equal(result.mismatches, 0);
    assert.ok(result.bySource.reports.checked > 1000, `${result.bySource.reports.checked} report values checked`);
    for (const what of [
      'reports HOUR UTC',
      'reports HOUR Europe/Berlin',
      'reports SHIFT UTC',
      'reports DAY UTC',
      'reports SHIFT Europe/Berlin',
      'reports DAY Europe/Berlin',
      'mttr DAY Europe/Berlin',
      'mttr SHIFT UTC',
    ]) {
      assert.ok(
        lines.some((l) => l.includes(what)),
        `${what} checked:\n${lines.join('\n')}`,
      );
    }
    // The 23-hour Berlin day and the 7-hour night shift into it were among the ranges.
    assert.ok(
      lines.some((l) => l.includes('reports DAY Europe/Berlin [2026-03-28T23:00:00.000Z, 2026-03-29T22:00:00.000Z)')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /reports SHIFT Europe\/Berlin \[2026-03-28T21:00:00.000Z,/.test(l)),
      lines.join('\n'),
    );
  });

  it('catches a wrong served figure: one exit too many at the rework station in the short Berlin day', async () => {
    const t = Date.UTC(2026, 2, 29, 12, 0);
    const bad = [...rows, { metric: 'parts_exited', bucket: t, dims: { station: 'REW' }, cells: [1] }];
    const { result } = await verifyAgainst(bad);
    assert.ok(result.bySource.reports.mismatches > 0, JSON.stringify(result.bySource));
    const keys = result.details
      .filter((d) => 'grain' in d && String(d.grain).includes(' '))
      .map((d) => (d as { key: string }).key);
    assert.ok(
      keys.some((k) => /REW partsCompleted$/.test(k)),
      keys.join('\n'),
    );
    assert.ok(
      keys.some((k) => /REW inspected$/.test(k)),
      keys.join('\n'),
    );
    assert.ok(keys.includes('line reworkDone') || keys.includes('line reworkPending'), keys.join('\n'));
  });
});
