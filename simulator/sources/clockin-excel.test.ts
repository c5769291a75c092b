import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { loadFloorMap } from '../floor.ts';
import { ensureLedger } from '../ledger.ts';
import { sourceSeal } from '../ledger-sources.ts';
import { CLOCKIN_WRITER, createClockinWriter } from './clockin-excel.ts';
import { DEFAULT_CLOCKIN_FAULT_RATES, planDayWithTruth, type SheetRow } from './clockin-day.ts';
import { createRoster } from './clockin-roster.ts';
import type { WriterContext } from './source-writer.ts';

const pool = testPool();
const floor = loadFloorMap();
const H = 3_600_000;
const D = Date.UTC(2026, 2, 10); // a Tuesday, UTC midnight
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
  await pool.end();
});

async function context(over: Partial<WriterContext> = {}): Promise<WriterContext> {
  const ledgerSchema = testSchemaName('ledger_clockin');
  await ensureLedger(pool, ledgerSchema);
  const dataDir = await mkdtemp(join(tmpdir(), 'clockin-'));
  cleanups.push(
    () => dropSchema(pool, ledgerSchema),
    () => rm(dataDir, { recursive: true, force: true }),
  );
  return {
    // The first rewrite is D 14:00 (rewrites strictly after the start).
    seed: 11,
    startTime: D + 6 * H,
    dataDir,
    floor,
    pool,
    ledgerSchema,
    faultRate: 1,
    log: () => undefined,
    openTopic: () => {
      throw new Error('the clock-in writer opens no topic');
    },
    ...over,
  };
}

/** Every workbook's cells as plain values, by file name. */
async function workbooks(dataDir: string): Promise<Map<string, unknown[][]>> {
  const dir = join(dataDir, 'clockin');
  const out = new Map<string, unknown[][]>();
  for (const name of (await readdir(dir)).sort()) {
    assert.match(name, /^clockin-\d{4}-\d\d-\d\d\.xlsx$/, 'no temp file left behind');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(join(dir, name));
    const ws = wb.getWorksheet('Clock-in');
    assert.ok(ws, `${name} has the sheet "Clock-in"`);
    const rows: unknown[][] = [];
    ws.eachRow((row) =>
      rows.push((row.values as unknown[]).slice(1).map((v) => (v instanceof Date ? v.getTime() : (v ?? null)))),
    );
    out.set(name, rows);
  }
  return out;
}

/**
 * The truth recomputed from the final workbooks alone (its own header aliases and its own rules):
 * per (fact, shift start, dims), what the sheets hold now. Malformed rows count nowhere.
 */
function recompute(books: Map<string, unknown[][]>): Map<string, number> {
  const alias: Record<string, string> = {
    'emp id': 'employee id',
    'clock-in': 'clock in',
    'clock-out': 'clock out',
    reason: 'absence reason',
  };
  const totals = new Map<string, number>();
  const add = (k: string, v: number) => totals.set(k, (totals.get(k) ?? 0) + v);
  for (const [, [header, ...rows]] of books) {
    const col = new Map(header.map((h, i) => [alias[String(h).toLowerCase()] ?? String(h).toLowerCase(), i]));
    for (const r of rows) {
      const get = (name: string) => r[col.get(name)!] ?? null;
      const [date, shift, dept, cin, cout, reason, emp] = [
        'date',
        'shift',
        'department',
        'clock in',
        'clock out',
        'absence reason',
        'employee id',
      ].map(get);
      const hour = { A: 6, B: 14, C: 22 }[String(shift)];
      if (hour === undefined) continue;
      const minute = Date.parse(`${date}T00:00:00Z`) + hour * H;
      if (reason !== null && cin === null && cout === null) {
        add(`absences|${minute}|${reason}|`, 1);
        add(`absent_by_department|${minute}|${dept}|${shift}`, 1);
      }
      // Present: clocked out after clocking in, or still on shift (an open row: no minutes yet).
      else if (
        reason === null &&
        typeof cin === 'number' &&
        (cout === null || (typeof cout === 'number' && cout > cin))
      ) {
        add(`attendance|${minute}|${dept}|${shift}`, 1);
        if (cout !== null) add(`minutes_worked|${minute}|${dept}|${shift}`, (cout - cin) / 60_000);
        if (cout !== null) add(`worker_minutes|${minute}|${emp}|${dept}`, (cout - cin) / 60_000);
      }
    }
  }
  for (const [k, v] of totals) if (v === 0) totals.delete(k);
  return totals;
}

async function ledgerTotals(schema: string): Promise<Map<string, number>> {
  const r = await pool.query(
    `SELECT fact, minute::text, station, error_code, sum(value)::int AS v FROM ${schema}.facts GROUP BY 1, 2, 3, 4 HAVING sum(value) <> 0`,
  );
  return new Map(r.rows.map((x) => [`${x.fact}|${x.minute}|${x.station}|${x.error_code}`, x.v]));
}

describe('clock-in writer', () => {
  it('gives the same workbooks and ledger for a seed however it is paced', async () => {
    const a = await context();
    const b = await context();
    const wa = createClockinWriter(a);
    const wb = createClockinWriter(b);
    await wa.advanceTo(D + 50 * H);
    for (let t = b.startTime; t <= D + 50 * H; t += 37 * 60_000) await wb.advanceTo(t);
    await wb.advanceTo(D + 50 * H);
    assert.deepEqual(await workbooks(b.dataDir), await workbooks(a.dataDir));
    assert.deepEqual(await ledgerTotals(b.ledgerSchema), await ledgerTotals(a.ledgerSchema));
    // Rows written differ: a step holding several versions of one day writes only the last one.
    assert.deepEqual(wb.stats().faults, wa.stats().faults);
    const other = await context({ seed: 12 });
    await createClockinWriter(other).advanceTo(D + 50 * H);
    assert.notDeepEqual(await workbooks(other.dataDir), await workbooks(a.dataDir), 'another seed, other sheets');
  });

  it('injects every fault kind within one simulated day at the default rates', async () => {
    for (const seed of [1, 2, 3]) {
      const ctx = await context({ seed });
      const w = createClockinWriter(ctx);
      await w.advanceTo(D + 30 * H); // the three rewrites of day D: 14:00, 22:00, 06:00 next day
      for (const kind of ['renamed_column', 'added_column', 'malformed', 'corrected', 'deleted']) {
        assert.ok(
          (w.stats().faults[kind] ?? 0) >= 1,
          `seed ${seed}: ${kind} occurred (${JSON.stringify(w.stats().faults)})`,
        );
        const r = await pool.query(`SELECT count(*)::int AS n FROM ${ctx.ledgerSchema}.faults WHERE kind = $1`, [kind]);
        assert.ok(r.rows[0].n >= 1, `seed ${seed}: ${kind} is in the ledger`);
      }
    }
  });

  it('writes clean sheets at fault rate 0: the eight columns, every employee once per day', async () => {
    const ctx = await context({ faultRate: 0 });
    const w = createClockinWriter(ctx);
    await w.advanceTo(D + 30 * H);
    assert.deepEqual(w.stats().faults, { renamed_column: 0, added_column: 0, malformed: 0, corrected: 0, deleted: 0 });
    const [[name, [header, ...rows]]] = [...(await workbooks(ctx.dataDir))];
    assert.equal(name, 'clockin-2026-03-10.xlsx');
    assert.deepEqual(header, [
      'Date',
      'Shift',
      'Department',
      'Employee ID',
      'Name',
      'Clock In',
      'Clock Out',
      'Absence Reason',
    ]);
    assert.equal(rows.length, 96);
    assert.deepEqual(
      rows.map((r) => r[3]).sort(),
      Array.from({ length: 96 }, (_, i) => `E${String(i + 1).padStart(4, '0')}`),
    );
    const departments = new Set(floor.stations.map((s) => s.department));
    assert.ok(rows.every((r) => departments.has(String(r[2])) && ['A', 'B', 'C'].includes(String(r[1]))));
  });

  it('records facts whose signed sums equal the final workbooks, and seals at the last 06:00', async () => {
    const ctx = await context({ faultRate: 3 }); // many corrections and deletions
    const w = createClockinWriter(ctx);
    for (let t = ctx.startTime; t <= D + 75 * H; t += 5 * H) await w.advanceTo(t);
    await w.advanceTo(D + 75 * H);
    const truth = recompute(await workbooks(ctx.dataDir));
    assert.ok(truth.size > 50, 'a few days of figures');
    assert.deepEqual(await ledgerTotals(ctx.ledgerSchema), truth);
    assert.equal(
      await sourceSeal(pool, ctx.ledgerSchema, CLOCKIN_WRITER),
      D + 2 * 24 * H + 6 * H,
      'D+3 03:00 → the 06:00 of D+2',
    );
  });

  it('never rewrites a day once its 06:00 rewrite of the next day is written (what the seal relies on)', async () => {
    const ctx = await context();
    const w = createClockinWriter(ctx);
    await w.advanceTo(D + 30 * H);
    const path = join(ctx.dataDir, 'clockin', 'clockin-2026-03-10.xlsx');
    const sha = async () =>
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
    const before = await sha();
    await w.advanceTo(D + 80 * H);
    assert.equal(await sha(), before);
    assert.ok(
      (await readdir(join(ctx.dataDir, 'clockin'))).includes('clockin-2026-03-12.xlsx'),
      'later days were written meanwhile',
    );
  });
});

describe('clock-in writer, live start', () => {
  /** The rows of one workbook: header → value, per row. */
  async function sheetRows(dataDir: string, name: string): Promise<Array<Record<string, unknown>>> {
    const [header, ...rows] = (await workbooks(dataDir)).get(name) ?? [];
    assert.ok(header, `${name} exists`);
    return rows.map((r) => Object.fromEntries(header.map((h, i) => [String(h), r[i] ?? null])));
  }
  const roster = createRoster(floor, 11);

  it('writes the shift under way at once: earlier shifts closed, everyone clocked in so far as an open row', async () => {
    const liveAt = D + 16 * H + 35 * 60_000; // shift B, 2 h 35 min in
    const ctx = await context({ startTime: liveAt });
    await createClockinWriter({ ...ctx, liveStart: liveAt }).advanceTo(liveAt);
    const rows = await sheetRows(ctx.dataDir, 'clockin-2026-03-10.xlsx');
    const { rewrites, truth } = planDayWithTruth(11, D, roster, 1, DEFAULT_CLOCKIN_FAULT_RATES);
    const emp = (r: Record<string, unknown>) => r['Employee ID'] ?? r['Emp ID'];
    // Shift A as its 14:00 rewrite wrote it; every B worker not absent has clocked in (13:40–14:10), none out.
    assert.deepEqual(
      rows.filter((r) => r.Shift !== 'B').map(emp),
      rewrites[0].rows.map((r) => r.employeeId),
    );
    const open = rows.filter((r) => r.Shift === 'B');
    const onShift = truth.filter((r) => r.shift === 'B' && r.absenceReason === null);
    assert.ok(onShift.length > 20, `${onShift.length} on shift B`);
    assert.deepEqual(
      open.map(emp),
      onShift.map((r) => r.employeeId),
    );
    assert.ok(
      open.every((r) => typeof r['Clock In'] === 'number' && r['Clock Out'] === null && r['Absence Reason'] === null),
    );
    // The ledger counts the open rows as attendance without minutes: equal to the sheet.
    assert.deepEqual(await ledgerTotals(ctx.ledgerSchema), recompute(await workbooks(ctx.dataDir)));
    assert.ok(
      [...(await ledgerTotals(ctx.ledgerSchema)).keys()].some((k) => k.startsWith(`attendance|${D + 14 * H}|`)),
      'B counted',
    );
    assert.ok(
      ![...(await ledgerTotals(ctx.ledgerSchema)).keys()].some((k) => k.startsWith(`minutes_worked|${D + 14 * H}|`)),
      'no B minutes yet',
    );
  });

  it('during shift A, only who has clocked in by then; the shift end closes the rows exactly as a run without the export', async () => {
    const liveAt = D + 6 * H + 2 * 60_000; // 06:02: some of A clock in up to 06:10
    const live = await context({ startTime: liveAt });
    const plain = await context({ startTime: liveAt });
    const w = createClockinWriter({ ...live, liveStart: liveAt });
    await w.advanceTo(liveAt + 1);
    const { truth } = planDayWithTruth(11, D, roster, 1, DEFAULT_CLOCKIN_FAULT_RATES);
    const due = truth
      .filter((r) => r.shift === 'A' && r.absenceReason === null && r.clockIn! <= liveAt)
      .map((r) => r.employeeId);
    const late = truth
      .filter((r) => r.shift === 'A' && r.absenceReason === null && r.clockIn! > liveAt)
      .map((r) => r.employeeId);
    assert.ok(due.length > 0 && late.length > 0, `clocked in ${due.length}, still to come ${late.length}`);
    assert.deepEqual(
      (await sheetRows(live.dataDir, 'clockin-2026-03-10.xlsx')).map((r) => r['Employee ID']),
      due,
    );
    assert.deepEqual(await ledgerTotals(live.ledgerSchema), recompute(await workbooks(live.dataDir)));
    // Past the day's rewrites and the next 06:00: the same files and the same ledger as without the export.
    await w.advanceTo(D + 31 * H);
    await createClockinWriter(plain).advanceTo(D + 31 * H);
    assert.deepEqual(await workbooks(live.dataDir), await workbooks(plain.dataDir));
    assert.deepEqual(await ledgerTotals(live.ledgerSchema), await ledgerTotals(plain.ledgerSchema));
    assert.deepEqual(await ledgerTotals(live.ledgerSchema), recompute(await workbooks(live.dataDir)));
  });

  it('a restart rewriting days an earlier run wrote diffs from what the ledger kept: no double count', async () => {
    const first = D + 10 * H;
    const ctx = await context({ startTime: first - 24 * H, faultRate: 3 });
    const w1 = createClockinWriter({ ...ctx, liveStart: first });
    await w1.advanceTo(first);
    await w1.advanceTo(D + 15 * H); // the live export of A, then its 14:00 rewrite
    // Killed; restarted at 15:20 with a day of history again: it rewrites D-1 22:00, D 06:00, D 14:00.
    const second = D + 15 * H + 20 * 60_000;
    const w2 = createClockinWriter({ ...ctx, startTime: second - 24 * H, liveStart: second });
    await w2.advanceTo(second);
    assert.deepEqual(await ledgerTotals(ctx.ledgerSchema), recompute(await workbooks(ctx.dataDir)));
    await w2.advanceTo(D + 40 * H);
    assert.deepEqual(await ledgerTotals(ctx.ledgerSchema), recompute(await workbooks(ctx.dataDir)));
    // The same files, facts and faults (each once) as one run that was never interrupted.
    const once = await context({ startTime: first - 24 * H, faultRate: 3 });
    const w = createClockinWriter({ ...once, liveStart: first });
    await w.advanceTo(first);
    await w.advanceTo(D + 40 * H);
    assert.deepEqual(await workbooks(ctx.dataDir), await workbooks(once.dataDir));
    assert.deepEqual(await ledgerTotals(ctx.ledgerSchema), await ledgerTotals(once.ledgerSchema));
    const faults = async (schema: string) =>
      (await pool.query(`SELECT kind, detail FROM ${schema}.faults ORDER BY kind, detail`)).rows;
    assert.ok((await faults(once.ledgerSchema)).length > 5);
    assert.deepEqual(await faults(ctx.ledgerSchema), await faults(once.ledgerSchema));
  });

  it('writes only the last version of each day of its history: no worker is recorded whom no sheet on disk names', async () => {
    // Seed 42, live at 2026-12-06 06:15: the history's sheet of the 5th had a shift B row at 22:00
    // that the 06:00 rewrite deleted (a mistaken row); that worker is on no other sheet yet.
    const seed = 42;
    const day = Date.UTC(2026, 11, 5);
    const liveAt = day + 30 * H + 15 * 60_000;
    const ctx = await context({ seed, startTime: liveAt - 24 * H });
    await createClockinWriter({ ...ctx, liveStart: liveAt }).advanceTo(liveAt);
    const plan = planDayWithTruth(seed, day, createRoster(floor, seed), 1, DEFAULT_CLOCKIN_FAULT_RATES);
    const ids = (rows: readonly SheetRow[]) => new Set(rows.filter((r) => !r.malformed).map((r) => r.employeeId));
    const last = ids(plan.rewrites[2].rows);
    const gone = [...ids(plan.rewrites[1].rows)].filter((e) => !last.has(e));
    assert.ok(gone.length > 0, 'a worker named at 22:00 and deleted at 06:00');
    const onDisk = new Set(
      [...(await workbooks(ctx.dataDir)).values()].flatMap(([header, ...rows]) => {
        const col = header.findIndex((h) => h === 'Employee ID' || h === 'Emp ID');
        return rows.map((r) => String(r[col]));
      }),
    );
    const recorded = (
      await pool.query<{ key: string }>(`SELECT key FROM ${ctx.ledgerSchema}.entities WHERE entity = 'worker'`)
    ).rows.map((r) => r.key);
    assert.ok(recorded.length > 30, `${recorded.length} workers recorded`);
    assert.deepEqual(
      recorded.filter((e) => !onDisk.has(e)),
      [],
      'every recorded worker is on a sheet a reader can see',
    );
    for (const e of gone)
      assert.ok(!recorded.includes(e), `${e} (deleted before any reader could see it) not recorded`);
    // The facts are the sum of the skipped versions all the same.
    assert.deepEqual(await ledgerTotals(ctx.ledgerSchema), recompute(await workbooks(ctx.dataDir)));
  });

  it('writes no export when it starts after the live start (an earlier, faster run sealed past it)', async () => {
    const ctx = await context({ startTime: D + 30 * H });
    const w = createClockinWriter({ ...ctx, liveStart: D + 20 * H });
    await w.advanceTo(D + 25 * H);
    assert.equal(w.stats().written, 0);
    assert.ok(!existsSync(join(ctx.dataDir, 'clockin')), 'nothing written');
    await w.advanceTo(D + 38 * H);
    assert.deepEqual(
      [...(await workbooks(ctx.dataDir)).keys()],
      ['clockin-2026-03-11.xlsx'],
      'the 14:00 rewrite of the 11th, nothing of the 10th',
    );
  });

  it("a day first written after its first rewrite records the earlier rewrites' faults too (its malformed rows are on the sheet)", async () => {
    const liveAt = D + 23 * H; // shift C: the sheet holds A and B, written by this run for the first time
    const ctx = await context({ startTime: liveAt, faultRate: 3 });
    await createClockinWriter({ ...ctx, liveStart: liveAt }).advanceTo(liveAt);
    const { rewrites } = planDayWithTruth(11, D, roster, 3, DEFAULT_CLOCKIN_FAULT_RATES);
    const planned = [...rewrites[0].faults, ...rewrites[1].faults]
      .map((f) => `${f.kind} clockin-excel: ${f.detail}`)
      .sort();
    assert.ok(
      planned.some((f) => f.startsWith('malformed')),
      'malformed rows in A or B',
    );
    const r = await pool.query(`SELECT kind, detail FROM ${ctx.ledgerSchema}.faults`);
    assert.deepEqual(r.rows.map((x) => `${x.kind} ${x.detail}`).sort(), planned);
  });
});
