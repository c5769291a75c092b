import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { loadFloorMap } from '../floor.ts';
import { ensureLedger } from '../ledger.ts';
import { sourceSeal } from '../ledger-sources.ts';
import { CLOCKIN_WRITER, createClockinWriter } from './clockin-excel.ts';
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
  cleanups.push(() => dropSchema(pool, ledgerSchema), () => rm(dataDir, { recursive: true, force: true }));
  return {
    // The first rewrite is D 14:00 (rewrites strictly after the start).
    seed: 11, startTime: D + 6 * H, dataDir, floor, pool, ledgerSchema, faultRate: 1, log: () => undefined,
    openTopic: () => {
      throw new Error('the clock-in writer opens no topic');
    }, ...over,
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
    ws.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((v) => (v instanceof Date ? v.getTime() : v ?? null))));
    out.set(name, rows);
  }
  return out;
}

/**
 * The truth recomputed from the final workbooks alone (its own header aliases and its own rules):
 * per (fact, shift start, dims), what the sheets hold now. Malformed rows count nowhere.
 */
function recompute(books: Map<string, unknown[][]>): Map<string, number> {
  const alias: Record<string, string> = { 'emp id': 'employee id', 'clock-in': 'clock in', 'clock-out': 'clock out', reason: 'absence reason' };
  const totals = new Map<string, number>();
  const add = (k: string, v: number) => totals.set(k, (totals.get(k) ?? 0) + v);
  for (const [, [header, ...rows]] of books) {
    const col = new Map(header.map((h, i) => [alias[String(h).toLowerCase()] ?? String(h).toLowerCase(), i]));
    for (const r of rows) {
      const get = (name: string) => r[col.get(name)!] ?? null;
      const [date, shift, dept, cin, cout, reason] = ['date', 'shift', 'department', 'clock in', 'clock out', 'absence reason'].map(get);
      const hour = { A: 6, B: 14, C: 22 }[String(shift)];
      if (hour === undefined) continue;
      const minute = Date.parse(`${date}T00:00:00Z`) + hour * H;
      if (reason !== null && cin === null && cout === null) add(`absences|${minute}|${reason}|`, 1);
      else if (reason === null && typeof cin === 'number' && typeof cout === 'number') {
        add(`attendance|${minute}|${dept}|${shift}`, 1);
        add(`minutes_worked|${minute}|${dept}|${shift}`, (cout - cin) / 60_000);
      }
    }
  }
  for (const [k, v] of totals) if (v === 0) totals.delete(k);
  return totals;
}

async function ledgerTotals(schema: string): Promise<Map<string, number>> {
  const r = await pool.query(`SELECT fact, minute::text, station, error_code, sum(value)::int AS v FROM ${schema}.facts GROUP BY 1, 2, 3, 4 HAVING sum(value) <> 0`);
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
    assert.deepEqual(wb.stats(), wa.stats());
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
        assert.ok((w.stats().faults[kind] ?? 0) >= 1, `seed ${seed}: ${kind} occurred (${JSON.stringify(w.stats().faults)})`);
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
    assert.deepEqual(header, ['Date', 'Shift', 'Department', 'Employee ID', 'Name', 'Clock In', 'Clock Out', 'Absence Reason']);
    assert.equal(rows.length, 96);
    assert.deepEqual(rows.map((r) => r[3]).sort(), Array.from({ length: 96 }, (_, i) => `E${String(i + 1).padStart(4, '0')}`));
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
    assert.equal(await sourceSeal(pool, ctx.ledgerSchema, CLOCKIN_WRITER), D + 2 * 24 * H + 6 * H, 'D+3 03:00 → the 06:00 of D+2');
  });

  it('never rewrites a day once its 06:00 rewrite of the next day is written (what the seal relies on)', async () => {
    const ctx = await context();
    const w = createClockinWriter(ctx);
    await w.advanceTo(D + 30 * H);
    const path = join(ctx.dataDir, 'clockin', 'clockin-2026-03-10.xlsx');
    const sha = async () => createHash('sha256').update(await readFile(path)).digest('hex');
    const before = await sha();
    await w.advanceTo(D + 80 * H);
    assert.equal(await sha(), before);
    assert.ok((await readdir(join(ctx.dataDir, 'clockin'))).includes('clockin-2026-03-12.xlsx'), 'later days were written meanwhile');
  });
});
