import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { withContext } from '../../lib/errors.ts';
import { recordFacts, sourceWriterState, type SourceFact, type SourceLedgerEntry } from '../ledger-sources.ts';
import {
  DEFAULT_CLOCKIN_FAULT_RATES,
  nextRewriteAfter,
  planDayWithTruth,
  rewriteOf,
  sealAt,
  sheetDuringShift,
  shiftAt,
  type ClockinFaultRates,
  type DayPlan,
  type Layout,
  type SheetRow,
} from './clockin-day.ts';
import { SHIFT_MS, createRoster, isoDate, shiftStart, type Shift } from './clockin-roster.ts';
import { writeClockinWorkbook } from './clockin-workbook.ts';
import type { SourceWriter, WriterContext } from './source-writer.ts';

/** The writer's name: its seal and the `source` of its ledger rows. */
export const CLOCKIN_WRITER = 'clockin-excel';
/**
 * Ledger facts, at the row's shift start: present rows [department, shift] (open ones too), absences
 * [reason] and [department, shift], minutes [department, shift] (closed rows), and the same minutes per
 * worker [employee, department].
 */
export const CLOCKIN_FACTS = {
  attendance: 'attendance',
  absences: 'absences',
  absentByDepartment: 'absent_by_department',
  minutesWorked: 'minutes_worked',
  workerMinutes: 'worker_minutes',
} as const;

/** The `worker` entity a well-formed row states, exactly as the excel connector emits it (`payload.data`). */
export const workerData = (r: SheetRow) => ({ name: r.name, department: r.department });

/** The path of a day's workbook. */
export const clockinPath = (dataDir: string, day: number) => join(dataDir, 'clockin', `clockin-${isoDate(day)}.xlsx`);

/** What a row contributes to the ledger; malformed rows contribute nothing (null). */
export type Counted =
  | { present: true; department: string; shift: string; minutes: number | null }
  | { present: false; shift: string; reason: string; department?: string };
/** A version of a day's sheet as the ledger counts it: row key (`employeeId|shift`) → contribution. */
export type SheetCounts = Record<string, Counted | null>;

function counted(r: SheetRow): Counted | null {
  if (r.malformed) return null;
  if (r.absenceReason) return { present: false, shift: r.shift, reason: r.absenceReason, department: r.department };
  // An open row (clocked in, still on shift) is present; its minutes come with the clock-out.
  const minutes = r.clockOut === null ? null : Math.round((r.clockOut - r.clockIn!) / 60_000);
  return { present: true, department: r.department, shift: r.shift, minutes };
}

const rowKey = (r: SheetRow) => `${r.employeeId}|${r.shift}`;
/** What each row of a version counts, by row key. */
export const countsOf = (rows: readonly SheetRow[]): SheetCounts =>
  Object.fromEntries(rows.map((r) => [rowKey(r), counted(r)]));

/** Field by field: counts read back from jsonb come with their keys reordered. */
function same(a: Counted | null, b: Counted | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.present && b.present) return a.department === b.department && a.shift === b.shift && a.minutes === b.minutes;
  // A day's counts kept by an older version have no department on absences: unchanged rows stay unchanged.
  return (
    !a.present &&
    !b.present &&
    a.shift === b.shift &&
    a.reason === b.reason &&
    (a.department === undefined || b.department === undefined || a.department === b.department)
  );
}

/** Signed facts turning one version of a day's rows into the next, summed per (fact, minute, dims). */
export function diffCounts(day: number, before: Readonly<SheetCounts>, after: Readonly<SheetCounts>): SourceFact[] {
  const sums = new Map<string, SourceFact>();
  const add = (fact: string, minute: number, dims: [string] | [string, string], value: number) => {
    const k = `${fact}|${minute}|${dims.join('|')}`;
    const f = sums.get(k) ?? sums.set(k, { fact, minute, dims, value: 0 }).get(k)!;
    f.value += value;
  };
  // The row key is `employeeId|shift` (kept states predate per-worker facts: the id comes from the key).
  const apply = (k: string, c: Counted | null, sign: 1 | -1) => {
    if (!c) return;
    const minute = shiftStart(day, c.shift as Shift);
    if (c.present) {
      add(CLOCKIN_FACTS.attendance, minute, [c.department, c.shift], sign);
      if (c.minutes !== null) {
        add(CLOCKIN_FACTS.minutesWorked, minute, [c.department, c.shift], sign * c.minutes);
        add(CLOCKIN_FACTS.workerMinutes, minute, [k.slice(0, k.lastIndexOf('|')), c.department], sign * c.minutes);
      }
    } else {
      add(CLOCKIN_FACTS.absences, minute, [c.reason], sign);
      add(CLOCKIN_FACTS.absentByDepartment, minute, [c.department ?? '', c.shift], sign);
    }
  };
  for (const [k, c] of Object.entries(after)) {
    const o = before[k];
    if (o !== undefined && same(o, c)) continue;
    if (o !== undefined) apply(k, o, -1);
    apply(k, c, 1);
  }
  for (const [k, o] of Object.entries(before)) if (!(k in after)) apply(k, o, -1);
  return [...sums.values()].filter((f) => f.value !== 0);
}

/** `diffCounts` of two versions given as rows. */
export const diffFacts = (day: number, before: readonly SheetRow[], after: readonly SheetRow[]): SourceFact[] =>
  diffCounts(day, countsOf(before), countsOf(after));

/**
 * The worker clock-in sheets (docs/sources.md, row 6): `clockin/clockin-YYYY-MM-DD.xlsx`, rewritten
 * whole at the end of each shift (14:00, 22:00, 06:00 next day) with every row known so far, and,
 * in a live run, once at `liveStart` with the shift under way (open rows). The ledger gets, per
 * version, the signed difference from the previous one, once it is renamed in place; what a day's
 * sheet counts is kept in the ledger too (`writer_state`, key = the date, same transaction),
 * so a run that finds a day already written (a restart, a back-fill before it) diffs from that.
 * Each worker named on a well-formed row is a `worker` entity (id → name, department) in the ledger.
 * Seal: the latest 06:00 at or before the clock (a day's rows change only until its 06:00 rewrite
 * of the next day, and every row's minute is its shift start, at or after its day's 06:00).
 */
export function createClockinWriter(ctx: WriterContext, rates: Partial<ClockinFaultRates> = {}): SourceWriter {
  const r = { ...DEFAULT_CLOCKIN_FAULT_RATES, ...rates };
  const roster = createRoster(ctx.floor, ctx.seed);
  let next = nextRewriteAfter(ctx.startTime); // the next rewrite instant to write
  // Live runs: the time clock's export of the shift under way, written when the run goes live — the
  // day's last end-of-shift version plus an open row for everyone clocked in so far — so a run that
  // starts mid-shift has a sheet at once, not only at the shift's end.
  // Not when the writer starts after it (an earlier run sealed past it): that sheet is written already.
  let liveAt = ctx.liveStart !== undefined && ctx.liveStart >= ctx.startTime ? ctx.liveStart : null; // the live export still to write
  let plan: { day: number; plan: DayPlan } | null = null;
  // The last version written: what it counts, and the last rewrite of its day whose faults are recorded.
  let previous: { day: number; counts: SheetCounts; faultsThrough: number } | null = null;
  let unrecorded: SourceLedgerEntry | null = null; // written, not yet in the ledger
  let sealed: number | null = null;
  let written = 0;
  // The `worker` entities this writer recorded (id → JSON of the data): only changes are recorded again.
  const workers = new Map<string, string>();
  const faults: Record<string, number> = { renamed_column: 0, added_column: 0, malformed: 0, corrected: 0, deleted: 0 };

  async function record(entry: SourceLedgerEntry): Promise<void> {
    unrecorded = entry;
    try {
      await recordFacts(ctx.pool, ctx.ledgerSchema, entry);
    } catch (err) {
      throw withContext(err, 'clock-in writer: ledger');
    }
    unrecorded = null;
    sealed = entry.sealedBefore ?? sealed;
    for (const f of entry.faults ?? []) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
  }

  const planOf = (day: number): DayPlan => {
    if (plan?.day !== day) plan = { day, plan: planDayWithTruth(ctx.seed, day, roster, ctx.faultRate, r) };
    return plan.plan;
  };

  /**
   * Write one version of a day's workbook holding the rows of its rewrites up to `through`, then
   * record its difference from the version before, and the faults of those rewrites not yet recorded
   * (a day first written at its second rewrite has the first one's malformed rows too).
   */
  async function write(
    day: number,
    version: { rows: SheetRow[]; layout: Layout },
    through: number,
    at: number,
    done: () => void,
  ): Promise<void> {
    // A day this run has not written yet: what the ledger counted for it last (nothing if never written).
    let before: { counts: SheetCounts; faultsThrough: number };
    if (previous?.day === day) before = previous;
    else {
      const kept = (await sourceWriterState(ctx.pool, ctx.ledgerSchema, CLOCKIN_WRITER, isoDate(day)).catch((err) => {
        throw withContext(err, 'clock-in writer: ledger');
      })) as { rows?: SheetCounts; faultsThrough?: number } | null;
      before = { counts: kept?.rows ?? {}, faultsThrough: kept?.faultsThrough ?? -1 };
    }
    const newFaults = planOf(day)
      .rewrites.slice(before.faultsThrough + 1, through + 1)
      .flatMap((x) => x.faults);
    const faultsThrough = Math.max(before.faultsThrough, through);
    const path = clockinPath(ctx.dataDir, day);
    try {
      await mkdir(join(ctx.dataDir, 'clockin'), { recursive: true });
      await writeClockinWorkbook(path, version.rows, version.layout);
    } catch (err) {
      throw withContext(err, `clock-in writer: ${path}`);
    }
    const after = countsOf(version.rows);
    // Workers named on a well-formed row (the connector dead-letters the others whole).
    const entities = version.rows
      .filter((row) => !row.malformed && workers.get(row.employeeId) !== JSON.stringify(workerData(row)))
      .map((row) => ({ entity: 'worker', key: row.employeeId, data: workerData(row) }));
    for (const e of entities) workers.set(e.key, JSON.stringify(e.data));
    previous = { day, counts: after, faultsThrough };
    written += version.rows.length;
    done();
    await record({
      source: CLOCKIN_WRITER,
      facts: diffCounts(day, before.counts, after),
      faults: newFaults,
      entities,
      sealedBefore: sealAt(at),
      writerState: [{ key: isoDate(day), data: { rows: after, faultsThrough } }],
    });
  }

  /** The end-of-shift rewrite at `at` (every 8 h: 06:00, 14:00, 22:00); `done` once it is on disk. */
  async function rewrite(at: number, done: () => void): Promise<void> {
    const { day, k } = rewriteOf(at);
    await write(day, planOf(day).rewrites[k], k, at, done);
  }

  /** The time clock's export of the shift under way at `at`; `done` once it is on disk. */
  async function liveExport(at: number, done: () => void): Promise<void> {
    const { day, k } = shiftAt(at);
    await write(day, sheetDuringShift(planOf(day), k, at), k - 1, at, done);
  }

  return {
    name: CLOCKIN_WRITER,
    async advanceTo(t) {
      if (unrecorded) await record(unrecorded);
      // The versions due by t, in time order; a rewrite at the live instant goes first (the export
      // adds the open rows to it). Each one carries the writer's state once it is written.
      const due: Array<{ at: number; live: boolean; day: number; after: { next: number; liveAt: number | null } }> = [];
      for (let n = next, l = liveAt; ;) {
        if (n <= t && (l === null || n <= l)) {
          const at = n;
          n += SHIFT_MS;
          due.push({ at, live: false, day: rewriteOf(at).day, after: { next: n, liveAt: l } });
        } else if (l !== null && l <= t) {
          const at = l;
          l = null;
          due.push({ at, live: true, day: shiftAt(at).day, after: { next: n, liveAt: null } });
        } else break;
      }
      // Of several versions of one day due in one step (a live start's history, a catch-up), only the
      // last is written: the ones before it would be overwritten at once, so a reader may never see
      // them, and a worker named only there (a row a later version deleted) would be a `worker` in
      // the ledger that no reader could serve. The last version's diff is the sum of the skipped
      // ones, and it records their faults too.
      for (const [i, v] of due.entries()) {
        if (due[i + 1]?.day === v.day) continue;
        const done = () => {
          next = v.after.next;
          liveAt = v.after.liveAt;
        };
        if (v.live) await liveExport(v.at, done);
        else await rewrite(v.at, done);
      }
      // Every version up to t is written and recorded, so the seal may move with the clock alone.
      if (sealAt(t) > (sealed ?? Number.NEGATIVE_INFINITY))
        await record({ source: CLOCKIN_WRITER, facts: [], sealedBefore: sealAt(t) });
    },
    stats: () => ({ written, faults: { ...faults } }),
    async close() {
      if (unrecorded) await record(unrecorded);
    },
  };
}
