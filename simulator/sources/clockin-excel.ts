import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { withContext } from '../../lib/errors.ts';
import { recordFacts, type SourceFact, type SourceLedgerEntry } from '../ledger-sources.ts';
import { DEFAULT_CLOCKIN_FAULT_RATES, nextRewriteAfter, planDay, rewriteOf, sealAt, type ClockinFaultRates, type Rewrite, type SheetRow } from './clockin-day.ts';
import { SHIFT_MS, createRoster, isoDate, shiftStart } from './clockin-roster.ts';
import { writeClockinWorkbook } from './clockin-workbook.ts';
import type { SourceWriter, WriterContext } from './source-writer.ts';

/** The writer's name: its seal and the `source` of its ledger rows. */
export const CLOCKIN_WRITER = 'clockin-excel';
/** Ledger facts, at the row's shift start: present rows [department, shift], absences [reason], minutes [department, shift]. */
export const CLOCKIN_FACTS = { attendance: 'attendance', absences: 'absences', minutesWorked: 'minutes_worked' } as const;

/** The path of a day's workbook. */
export const clockinPath = (dataDir: string, day: number) => join(dataDir, 'clockin', `clockin-${isoDate(day)}.xlsx`);

/** What a row contributes to the ledger; malformed rows contribute nothing. */
type Counted = { present: true; department: string; shift: string; minutes: number } | { present: false; reason: string };

function counted(r: SheetRow): Counted | null {
  if (r.malformed) return null;
  if (r.absenceReason) return { present: false, reason: r.absenceReason };
  return { present: true, department: r.department, shift: r.shift, minutes: Math.round((r.clockOut! - r.clockIn!) / 60_000) };
}

/** Signed facts turning one version of a day's rows into the next, summed per (fact, minute, dims). */
export function diffFacts(day: number, before: readonly SheetRow[], after: readonly SheetRow[]): SourceFact[] {
  const sums = new Map<string, SourceFact>();
  const add = (fact: string, minute: number, dims: [string] | [string, string], value: number) => {
    const k = `${fact}|${minute}|${dims.join('|')}`;
    const f = sums.get(k) ?? sums.set(k, { fact, minute, dims, value: 0 }).get(k)!;
    f.value += value;
  };
  const apply = (r: SheetRow, sign: 1 | -1) => {
    const c = counted(r);
    const minute = shiftStart(day, r.shift);
    if (c?.present) {
      add(CLOCKIN_FACTS.attendance, minute, [c.department, c.shift], sign);
      add(CLOCKIN_FACTS.minutesWorked, minute, [c.department, c.shift], sign * c.minutes);
    } else if (c) add(CLOCKIN_FACTS.absences, minute, [c.reason], sign);
  };
  const key = (r: SheetRow) => `${r.employeeId}|${r.shift}`;
  const old = new Map(before.map((r) => [key(r), r]));
  for (const r of after) {
    const o = old.get(key(r));
    old.delete(key(r));
    if (o && JSON.stringify(counted(o)) === JSON.stringify(counted(r))) continue;
    if (o) apply(o, -1);
    apply(r, 1);
  }
  for (const o of old.values()) apply(o, -1);
  return [...sums.values()].filter((f) => f.value !== 0);
}

/**
 * The worker clock-in sheets (docs/sources.md, row 6): `clockin/clockin-YYYY-MM-DD.xlsx`, rewritten
 * whole at the end of each shift (14:00, 22:00, 06:00 next day) with every row known so far. The
 * ledger gets, per rewrite, the signed difference from the previous version, once it is renamed in
 * place. Seal: the latest 06:00 at or before the clock (a day's rows change only until its 06:00
 * rewrite of the next day, and every row's minute is its shift start, at or after its day's 06:00).
 */
export function createClockinWriter(ctx: WriterContext, rates: Partial<ClockinFaultRates> = {}): SourceWriter {
  const r = { ...DEFAULT_CLOCKIN_FAULT_RATES, ...rates };
  const roster = createRoster(ctx.floor, ctx.seed);
  let next = nextRewriteAfter(ctx.startTime); // the next rewrite instant to write
  let plan: { day: number; rewrites: Rewrite[] } | null = null;
  let previous: { day: number; rows: SheetRow[] } | null = null; // the last version written
  let unrecorded: SourceLedgerEntry | null = null; // written, not yet in the ledger
  let sealed: number | null = null;
  let written = 0;
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

  async function rewrite(at: number): Promise<void> {
    const { day, k } = rewriteOf(at);
    if (plan?.day !== day) plan = { day, rewrites: planDay(ctx.seed, day, roster, ctx.faultRate, r) };
    const version = plan.rewrites[k];
    const path = clockinPath(ctx.dataDir, day);
    try {
      await mkdir(join(ctx.dataDir, 'clockin'), { recursive: true });
      await writeClockinWorkbook(path, version.rows, version.layout);
    } catch (err) {
      throw withContext(err, `clock-in writer: ${path}`);
    }
    // A day this run did not write before starts from nothing (the connector sees a new workbook).
    const before = previous?.day === day ? previous.rows : [];
    previous = { day, rows: version.rows };
    written += version.rows.length;
    next = at + SHIFT_MS; // rewrites come every 8 h: 06:00, 14:00, 22:00
    await record({ source: CLOCKIN_WRITER, facts: diffFacts(day, before, version.rows), faults: version.faults, sealedBefore: sealAt(at) });
  }

  return {
    name: CLOCKIN_WRITER,
    async advanceTo(t) {
      if (unrecorded) await record(unrecorded);
      while (next <= t) await rewrite(next);
      // Every rewrite up to t is written and recorded, so the seal may move with the clock alone.
      if (sealAt(t) > (sealed ?? Number.NEGATIVE_INFINITY)) await record({ source: CLOCKIN_WRITER, facts: [], sealedBefore: sealAt(t) });
    },
    stats: () => ({ written, faults: { ...faults } }),
    async close() {
      if (unrecorded) await record(unrecorded);
    },
  };
}
