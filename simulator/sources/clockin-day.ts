import type { SourceFault } from '../ledger-sources.ts';
import { createRng, deriveSeed, type Rng } from '../prng.ts';
import { DAY_MS, HOUR_MS, SHIFTS, SHIFT_MS, isoDate, shiftStart, type Employee, type Shift } from './clockin-roster.ts';

export const ABSENCE_REASONS = ['Sick', 'Vacation', 'Training', 'Unexcused'] as const;
export type AbsenceReason = (typeof ABSENCE_REASONS)[number];
/**
 * How a malformed row is garbled; the employee id stays readable. (An empty Clock Out is not one of
 * them: it is a worker still on shift, as in the export written when a live run starts.)
 */
export type Malformed = 'clock-in-na' | 'clock-out-wrong-day' | 'unknown-shift';
const MALFORMED: readonly Malformed[] = ['clock-in-na', 'clock-out-wrong-day', 'unknown-shift'];

/** One row as the sheet holds it (clock times are whole minutes, epoch ms). */
export interface SheetRow {
  date: string;
  shift: Shift;
  department: string;
  employeeId: string;
  name: string;
  clockIn: number | null;
  /** Null with a clock-in: still on shift (an open row, only in an export written during the shift). */
  clockOut: number | null;
  absenceReason: AbsenceReason | null;
  /** Written garbled instead (the connector must dead-letter it); null when well-formed. */
  malformed: Malformed | null;
  /** Free text of the added "Notes" column. */
  note: string;
}

/** Headers of the sheet in order; a rewrite may rename some or add "Notes". */
export const CLOCKIN_HEADERS = [
  'Date',
  'Shift',
  'Department',
  'Employee ID',
  'Name',
  'Clock In',
  'Clock Out',
  'Absence Reason',
] as const;
/** Renames a clerk makes: every one is an alias the connector's default mapping accepts. */
export const RENAMES: ReadonlyArray<readonly [string, string]> = [
  ['Employee ID', 'Emp ID'],
  ['Clock Out', 'Clock-Out'],
  ['Clock In', 'Clock-In'],
  ['Absence Reason', 'Reason'],
];

export interface Layout {
  renamed: Array<readonly [string, string]>;
  notes: boolean;
}

/** One rewrite of a day's workbook: what it holds and the faults it brought. */
export interface Rewrite {
  /** When it is written: the end of shift A, B, C (14:00, 22:00, 06:00 next day). */
  at: number;
  rows: SheetRow[];
  layout: Layout;
  faults: SourceFault[];
}

/** Expected occurrences per day at `faultRate` 1 (so each kind shows up every simulated day). */
export interface ClockinFaultRates {
  renamedColumn: number;
  addedColumn: number;
  malformed: number;
  corrected: number;
  deleted: number;
}
export const DEFAULT_CLOCKIN_FAULT_RATES: ClockinFaultRates = {
  renamedColumn: 1,
  addedColumn: 1,
  malformed: 2,
  corrected: 2,
  deleted: 1,
};

/** Chance an employee is absent on a given day, and the reasons' weights. */
const ABSENCE_CHANCE = 0.07;
const REASON_WEIGHTS: Readonly<Record<AbsenceReason, number>> = {
  Sick: 0.4,
  Vacation: 0.35,
  Training: 0.15,
  Unexcused: 0.1,
};
const NOTES = ['swapped shift', 'badge reader down', 'left early, approved', 'overtime approved', 'late bus'];

const MIN = 60_000;
const rowKey = (r: SheetRow) => `${r.employeeId}|${r.shift}`;

function pickReason(rng: Rng, except?: AbsenceReason): AbsenceReason {
  for (;;) {
    let u = rng.next();
    const r = ABSENCE_REASONS.find((x) => (u -= REASON_WEIGHTS[x]) < 0) ?? 'Sick';
    if (r !== except) return r;
  }
}

/** Occurrences of a fault today: the integer part always, the fraction by chance. */
const occurrences = (rng: Rng, mean: number) => Math.floor(mean) + (rng.chance(mean - Math.floor(mean)) ? 1 : 0);

/** One day's plan: its three rewrites, and what really happened (every employee's row, no faults). */
export interface DayPlan {
  rewrites: Rewrite[];
  truth: readonly SheetRow[];
}

/**
 * The three rewrites of one day's workbook (`day` = UTC midnight), a pure function of seed, day,
 * roster and rates: pacing and restarts cannot change the files. Rows of a shift appear at its end;
 * corrections and deletions touch only rows of earlier rewrites of the same day, so once the
 * 06:00 rewrite of the next day is written, the day never changes again (the writer's seal).
 */
export function planDay(
  seed: number,
  day: number,
  roster: readonly Employee[],
  faultRate: number,
  rates: ClockinFaultRates,
): Rewrite[] {
  return planDayWithTruth(seed, day, roster, faultRate, rates).rewrites;
}

/** `planDay`, and the fault-free rows it started from (what the time clock recorded). */
export function planDayWithTruth(
  seed: number,
  day: number,
  roster: readonly Employee[],
  faultRate: number,
  rates: ClockinFaultRates,
): DayPlan {
  const date = isoDate(day);
  const rng = createRng(deriveSeed(seed, `clockin:${date}`));
  const truth: SheetRow[] = roster.map((e) => {
    const start = shiftStart(day, e.shift);
    const base = {
      date,
      shift: e.shift,
      department: e.department,
      employeeId: e.id,
      name: e.name,
      malformed: null,
      note: '',
    };
    if (rng.chance(ABSENCE_CHANCE)) return { ...base, clockIn: null, clockOut: null, absenceReason: pickReason(rng) };
    return {
      ...base,
      clockIn: start + rng.int(-20, 10) * MIN,
      clockOut: start + SHIFT_MS + rng.int(-15, 45) * MIN,
      absenceReason: null,
    };
  });
  // Which rewrite (0, 1, 2) each fault lands in; corrections and deletions need earlier rows.
  const at = (kind: keyof ClockinFaultRates, from: number) =>
    Array.from({ length: occurrences(rng, rates[kind] * faultRate) }, () => rng.int(from, 2));
  const plan = {
    renamed: at('renamedColumn', 0),
    added: at('addedColumn', 0),
    malformed: at('malformed', 0),
    corrected: at('corrected', 1),
    deleted: at('deleted', 1),
  };

  const sheet: SheetRow[] = [];
  const rewrites: Rewrite[] = [];
  SHIFTS.forEach((shift, k) => {
    const faults: SourceFault[] = [];
    const fault = (kind: string, detail: string, r: SheetRow | null) =>
      faults.push({
        kind,
        detail: `${date} ${detail}`,
        eventAt: r ? shiftStart(day, r.shift) : day + (14 + 8 * k) * HOUR_MS,
      });
    const earlier = sheet.slice();
    for (const _ of plan.corrected.filter((x) => x === k && earlier.length > 0)) {
      const r = rng.pick(earlier);
      if (r.malformed) {
        fault('corrected', `${rowKey(r)}: malformed row fixed`, r);
        r.malformed = null;
      } else if (r.absenceReason) {
        r.absenceReason = pickReason(rng, r.absenceReason);
        fault('corrected', `${rowKey(r)}: absence reason → ${r.absenceReason}`, r);
      } else if (rng.chance(0.3)) {
        Object.assign(r, { clockIn: null, clockOut: null, absenceReason: pickReason(rng) });
        fault('corrected', `${rowKey(r)}: present → absent (${r.absenceReason})`, r);
      } else {
        const by = rng.int(5, 90) * (rng.chance(0.5) ? 1 : -1);
        r.clockOut = r.clockOut! + by * MIN;
        fault('corrected', `${rowKey(r)}: clock-out moved ${by} min`, r);
      }
    }
    for (const _ of plan.deleted.filter((x) => x === k && earlier.length > 0)) {
      const r = rng.pick(earlier);
      const i = sheet.indexOf(r);
      if (i < 0) continue; // deleted twice in one rewrite: one deletion
      sheet.splice(i, 1);
      fault('deleted', `${rowKey(r)}: mistaken row removed`, r);
    }
    const fresh = truth.filter((r) => r.shift === shift).map((r) => ({ ...r }));
    for (const _ of plan.malformed.filter((x) => x === k && fresh.length > 0)) {
      const r = rng.pick(fresh);
      r.malformed = rng.pick(MALFORMED);
      fault('malformed', `${rowKey(r)}: ${r.malformed}`, r);
    }
    sheet.push(...fresh);
    const layout: Layout = { renamed: [], notes: false };
    for (const _ of plan.renamed.filter((x) => x === k)) {
      const rename = rng.pick(RENAMES);
      if (!layout.renamed.includes(rename)) layout.renamed.push(rename);
      fault('renamed_column', `"${rename[0]}" → "${rename[1]}"`, null);
    }
    if (plan.added.includes(k)) {
      layout.notes = true;
      for (const r of sheet) r.note = rng.chance(0.1) ? rng.pick(NOTES) : '';
      fault('added_column', 'column "Notes" added', null);
    }
    rewrites.push({ at: day + (14 + 8 * k) * HOUR_MS, rows: sheet.map((r) => ({ ...r })), layout, faults });
  });
  return { rewrites, truth: truth.map((r) => ({ ...r })) };
}

/** The shift under way at `t`: its sheet day (UTC midnight; C's morning hours belong to the day before) and index. */
export function shiftAt(t: number): { day: number; k: number } {
  const h = Math.floor((t - Math.floor(t / DAY_MS) * DAY_MS) / HOUR_MS);
  const midnight = Math.floor(t / DAY_MS) * DAY_MS;
  if (h < 6) return { day: midnight - DAY_MS, k: 2 };
  return { day: midnight, k: h < 14 ? 0 : h < 22 ? 1 : 2 };
}

/**
 * The day's sheet as a time-clock export at `t` during shift `k` shows it: the last end-of-shift
 * rewrite of the day (none during shift A), plus an open row (clock-in, no clock-out) for every
 * employee of the shift who has clocked in by `t`. Absences of the shift appear at its end.
 */
export function sheetDuringShift(plan: DayPlan, k: number, t: number): { rows: SheetRow[]; layout: Layout } {
  const last = k > 0 ? plan.rewrites[k - 1] : null;
  const open = plan.truth
    .filter((r) => r.shift === SHIFTS[k] && r.absenceReason === null && r.clockIn !== null && r.clockIn <= t)
    .map((r) => ({ ...r, clockOut: null, malformed: null, note: '' }));
  return {
    rows: [...(last?.rows ?? []).map((r) => ({ ...r })), ...open],
    layout: last?.layout ?? { renamed: [], notes: false },
  };
}

/** The day (UTC midnight) and rewrite index (0, 1, 2) of a rewrite instant. */
export function rewriteOf(at: number): { day: number; k: number } {
  const h = new Date(at).getUTCHours();
  const midnight = Math.floor(at / DAY_MS) * DAY_MS;
  return h === 6 ? { day: midnight - DAY_MS, k: 2 } : { day: midnight, k: h === 14 ? 0 : 1 };
}

/** The first rewrite instant strictly after `t` (rewrites are at 06:00, 14:00 and 22:00 UTC). */
export function nextRewriteAfter(t: number): number {
  const midnight = Math.floor(t / DAY_MS) * DAY_MS;
  for (const h of [6, 14, 22, 30]) if (midnight + h * HOUR_MS > t) return midnight + h * HOUR_MS;
  throw new Error('unreachable');
}

/** The latest 06:00 UTC at or before `t`: every row of a shift starting before it is final. */
export function sealAt(t: number): number {
  return Math.floor((t - 6 * HOUR_MS) / DAY_MS) * DAY_MS + 6 * HOUR_MS;
}
