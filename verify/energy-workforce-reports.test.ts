import { afterAll as after, beforeAll as before, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, testPool, testSchemaName } from '../lib/test-db.ts';
import { backfill } from '../simulator/backfill.ts';
import { createRng } from '../simulator/prng.ts';
import { createRecordingTopic } from '../simulator/testing/recording-topic.ts';
import { createClockinWriter } from '../simulator/sources/clockin-excel.ts';
import { createEnergyCsvWriter } from '../simulator/sources/energy-csv.ts';
import { createReferenceFilesWriter } from '../simulator/sources/reference-files.ts';
import { startFixtureStack, type FixtureStack } from '../gateway/testing/start-fixture-stack.ts';
import type { FixtureRow } from '../serving/testing/fixture-serving.ts';
import type { EntityRow } from '../serving/types.ts';
import { checkEnergyReport } from './energy-checks.ts';
import { checkWorkforceReport } from './workforce-checks.ts';
import { localBuckets, type LocalShift } from './local-calendar.ts';
import { ledgerStations, type ReportRange } from './report-tally.ts';
import { runEnergyWorkforceChecks } from './energy-workforce-reports.ts';
import { readSeals, runSourceChecks } from './source-checks.ts';
import { SOURCE_CHECKS } from './source-checks-table.ts';

// The energy and workforce reports checked against a real back-fill's ledger, around the switch to
// summer time in Berlin (2026-03-29 02:00 CET → 03:00 CEST: a 23-hour day, a 7-hour night shift).
// The API is the real gateway and subgraphs over an in-memory serving layer filled with the
// ledger's own facts (per minute): what is checked is that the report resolvers and the calendar
// cut, join and derive exactly what verify recomputes on its own; the ingest path of the same
// facts is what `millrace verify` checks on a live pipeline.
const pool = testPool();
const schema = testSchemaName('ledger_reports');
// From the night shift before the change to the clock-in seal after the last shift checked (06:00 UTC).
const FROM = Date.UTC(2026, 2, 28, 21);
const TO = Date.UTC(2026, 2, 30, 6, 1);
const ZONE = 'Europe/Berlin';
const SHIFTS: LocalShift[] = [
  { id: 'A', startMinute: 360 },
  { id: 'B', startMinute: 840 },
  { id: 'C', startMinute: 1320 },
];
const H = 3_600_000;
let dataDir: string;
let stack: FixtureStack;
const rows: FixtureRow[] = [];

const SHIFT_OF_UTC_HOUR: Record<number, string> = { 6: 'A', 14: 'B', 22: 'C' };
/** A ledger fact as the metric's minute state: the same names, its dims from the ledger's two columns. */
function rowOf(f: {
  fact: string;
  minute: string;
  station: string;
  error_code: string;
  value: string;
}): FixtureRow | null {
  const bucket = Number(f.minute);
  const cells = [Number(f.value)];
  const dims: Record<string, Record<string, string>> = {
    energy_wh: { machine: f.station },
    parts_exited: { station: f.station },
    zone_temp_count: { zone: f.station },
    zone_temp_sum: { zone: f.station },
    attendance: { department: f.station, shift: f.error_code },
    absent_by_department: { department: f.station, shift: f.error_code },
    minutes_worked: { department: f.station, shift: f.error_code },
    absences: { reason: f.station },
    // The clock-in sheet's shift of a row is the UTC hour its minutes are counted at.
    worker_minutes: {
      employee: f.station,
      department: f.error_code,
      shift: SHIFT_OF_UTC_HOUR[new Date(bucket).getUTCHours()] ?? '',
    },
    operator_task_ms: { operator: f.error_code, station: f.station },
  };
  return dims[f.fact] ? { metric: f.fact, bucket, dims: dims[f.fact], cells } : null;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'report-checks-'));
  await backfill({
    from: FROM,
    to: TO,
    seed: 5,
    pool,
    ledgerSchema: schema,
    dataDir,
    openTopic: (name, partitions) => createRecordingTopic(name, partitions),
    machining: { ratePerSec: 0.3 },
    writers: [createReferenceFilesWriter, (ctx) => createEnergyCsvWriter(ctx), (ctx) => createClockinWriter(ctx)],
  });
  const facts = await pool.query(`SELECT fact, minute, station, error_code, value FROM ${schema}.facts`);
  for (const f of facts.rows) {
    const r = rowOf(f);
    if (r) rows.push(r);
  }
  const entities: EntityRow[] = (await ledgerStations(pool, schema)).map((s) => ({
    entity: 'station',
    key: s.id,
    version: '1',
    deleted: false,
    data: s,
  }));
  stack = await startFixtureStack(rows, {}, { entities });
});

after(async () => {
  await stack?.close();
  await dropSchema(pool, schema);
  await pool.end();
  await rm(dataDir, { recursive: true, force: true });
});

/** Whole local buckets of `grain` covering [from, to). */
function range(grain: 'DAY' | 'SHIFT', from: number, to: number): ReportRange {
  const buckets = localBuckets(ZONE, grain, SHIFTS, from, to);
  return { grain, zone: ZONE, shifts: SHIFTS, buckets, from: buckets[0].start, to: buckets.at(-1)!.end };
}

describe('energy and workforce reports against the ledger, Europe/Berlin across the DST change', () => {
  const api = () => ({ url: stack.gateway.url, headers: stack.headers });
  // Berlin's 2026-03-29 (23 h) and the shifts from 2026-03-28 C (22:00 CET → 06:00 CEST, 7 h) to 2026-03-29 C.
  const day = () => range('DAY', Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 22));
  const shifts = () => range('SHIFT', Date.UTC(2026, 2, 28, 21), Date.UTC(2026, 2, 29, 21));

  it("verify's calendar: the DST day has 23 hours and the night shift across it 7", () => {
    assert.deepEqual(
      day().buckets.map((b) => [new Date(b.start).toISOString(), (b.end - b.start) / H]),
      [['2026-03-28T23:00:00.000Z', 23]],
    );
    assert.deepEqual(
      shifts().buckets.map((b) => (b.end - b.start) / H),
      [7, 8, 8, 8],
    );
    assert.equal(
      new Date(shifts().buckets[1].start).toISOString(),
      '2026-03-29T04:00:00.000Z',
      'shift A starts 06:00 CEST',
    );
  });

  it('energy: every row, total, line and entity figure of the DAY and SHIFT answers equals the ledger', async () => {
    const stations = await ledgerStations(pool, schema);
    for (const r of [day(), shifts()]) {
      const t = await checkEnergyReport({ api: api(), pool, schema, range: r, stations });
      assert.deepEqual(t.mismatches, [], `${r.grain}: ${JSON.stringify(t.mismatches.slice(0, 5))}`);
      assert.ok(t.checked > 100, `${r.grain}: ${t.checked} checked`);
    }
  });

  it('workforce: attendance, absences, workers, task hours and staffing of the DAY and SHIFT answers equal the ledger', async () => {
    for (const r of [day(), shifts()]) {
      const t = await checkWorkforceReport({ api: api(), pool, schema, range: r });
      assert.deepEqual(t.mismatches, [], `${r.grain}: ${JSON.stringify(t.mismatches.slice(0, 5))}`);
      assert.ok(t.checked > 200, `${r.grain}: ${t.checked} checked`);
    }
  });

  it("the new metrics' source checks (worker minutes, absences by department, operator task time) pass through metricSeries", async () => {
    const checks = SOURCE_CHECKS.filter((c) =>
      ['worker_minutes', 'absent_by_department', 'operator_task_ms'].includes(c.fact),
    );
    assert.equal(checks.length, 3);
    const seals = await readSeals(pool, schema, checks);
    const r = await runSourceChecks({
      checks,
      seals,
      pool,
      schema,
      api: api(),
      rng: createRng(4),
      ranges: 2,
      log: () => undefined,
    });
    assert.deepEqual(r.mismatches, []);
    for (const c of checks) assert.ok(r.bySource[c.source].checked > 0, c.source);
  });

  it("runEnergyWorkforceChecks picks sealed ranges in the factory's zone (UTC here) and Berlin, each report counted apart", async () => {
    const lines: string[] = [];
    const r = await runEnergyWorkforceChecks({
      pool,
      schema,
      api: api(),
      rng: createRng(9),
      ranges: 1,
      zones: [ZONE],
      log: (l) => lines.push(l),
    });
    assert.deepEqual(r.mismatches, []);
    assert.deepEqual(Object.keys(r.bySource).sort(), ['energy-report', 'workforce-report']);
    assert.ok(r.bySource['energy-report'].checked > 0 && r.bySource['workforce-report'].checked > 0, lines.join('\n'));
    assert.equal(lines.filter((l) => / (SHIFT|DAY) Europe\/Berlin \[/.test(l)).length, 4, lines.join('\n'));
    assert.equal(lines.filter((l) => / (SHIFT|DAY) UTC \[/.test(l)).length, 4, lines.join('\n'));
  });

  it('finds exactly a wrong value: one energy reading and one attendance count off by one', async () => {
    const stations = await ledgerStations(pool, schema);
    const r = day();
    const reading = rows.find(
      (x) => x.metric === 'energy_wh' && x.bucket >= r.from + 5 * H && x.dims.machine === 'DIE-1',
    )!;
    // A department and shift with an absence too, so that its attendance rate moves with the count.
    const absent = rows.find(
      (x) => x.metric === 'absent_by_department' && x.bucket >= r.from && x.bucket < r.to && x.cells[0] > 0,
    )!;
    const present = rows.find(
      (x) =>
        x.metric === 'attendance' &&
        x.bucket === absent.bucket &&
        x.dims.department === absent.dims.department &&
        x.dims.shift === absent.dims.shift,
    )!;
    reading.cells[0] += 1;
    present.cells[0] += 1;
    try {
      const e = await checkEnergyReport({ api: api(), pool, schema, range: r, stations });
      const bucket = new Date(r.from).toISOString();
      const keys = e.mismatches.map((m) => m.key);
      for (const k of [
        `${bucket} DIE-1 wh`,
        `${bucket} DIE-1 kwh`,
        `${bucket} Assembly wh`,
        'range total wh',
        'range line wh',
        'range Assembly department wh',
        'range Z2 zone wh',
      ]) {
        assert.ok(keys.includes(k), `${k} in ${keys.join(', ')}`);
      }
      const wh = e.mismatches.find((m) => m.key === `${bucket} DIE-1 wh`)!;
      assert.equal(wh.actual, (wh.expected as number) + 1);
      const w = await checkWorkforceReport({ api: api(), pool, schema, range: r });
      const who = `${bucket} ${present.dims.department} ${present.dims.shift}`;
      assert.deepEqual(
        w.mismatches.map((m) => m.key).sort(),
        [`${who} attendanceRate`, `${who} present`, 'range attendance total present'].sort(),
      );
    } finally {
      reading.cells[0] -= 1;
      present.cells[0] -= 1;
    }
  });
});
