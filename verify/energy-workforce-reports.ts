import type pg from 'pg';
import { sealedHorizon } from '../simulator/ledger.ts';
import { sourceSeal } from '../simulator/ledger-sources.ts';
import type { Rng } from '../simulator/prng.ts';
import { ident } from '../lib/ident.ts';
import type { Mismatch } from './compare.ts';
import { checkEnergyReport } from './energy-checks.ts';
import type { GraphqlOptions } from './graphql.ts';
import type { LocalShift } from './local-calendar.ts';
import { ledgerStations, pickRange, queryReport, REPORT_GRAINS, type ReportTally } from './report-tally.ts';
import { checkWorkforceReport } from './workforce-checks.ts';

/** The factory's shifts and time zone, as the API states them (verify learns the calendar from the server it checks, like report-checks.ts). */
const CALENDAR_QUERY = `query VerifyCalendar($from: DateTime!, $to: DateTime!) { shifts { id start } attendance(from: $from, to: $to) { timeZone } }`;

/** Which ledger writers a report reads; it is checked only below all their seals. */
const REPORTS = [
  { name: 'energy', sources: ['energy-csv', 'machining', 'heat-sensors'], facts: ['energy_wh'] },
  { name: 'workforce', sources: ['clockin-excel', 'machining'], facts: ['attendance', 'absences', 'worker_minutes'] },
] as const;

/**
 * The typed reports of the energy and workforce subgraphs at SHIFT and DAY grain in the factory's
 * time zone and in `zones`, over `ranges` random ranges of whole sealed local buckets each (up to 3
 * days or 6 shifts).
 */
export async function runEnergyWorkforceChecks(args: {
  pool: pg.Pool;
  schema: string;
  api: GraphqlOptions;
  rng: Rng;
  ranges: number;
  /** Zones checked besides the factory's own. */
  zones: readonly string[];
  log: (line: string) => void;
}): Promise<{
  checked: number;
  mismatches: Mismatch[];
  bySource: Record<string, { checked: number; mismatches: number }>;
}> {
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const cal = await queryReport<{ shifts: Array<{ id: string; start: string }>; attendance: { timeZone: string } }>(
    args.api,
    'calendar',
    CALENDAR_QUERY,
    { from: new Date(minute).toISOString(), to: new Date(minute + 60_000).toISOString() },
  );
  const shifts: LocalShift[] = cal.shifts.map((s) => ({
    id: s.id,
    startMinute: Number(s.start.slice(0, 2)) * 60 + Number(s.start.slice(3, 5)),
  }));
  const zones = [...new Set([cal.attendance.timeZone, ...args.zones])];
  const out = {
    checked: 0,
    mismatches: [] as Mismatch[],
    bySource: {} as Record<string, { checked: number; mismatches: number }>,
  };
  const stations = await ledgerStations(args.pool, args.schema);
  for (const report of REPORTS) {
    const seals = await Promise.all(
      report.sources.map((s) =>
        s === 'machining' ? sealedHorizon(args.pool, args.schema) : sourceSeal(args.pool, args.schema, s),
      ),
    );
    const { rows } = await args.pool.query(
      `SELECT min(minute) AS m FROM ${ident(args.schema)}.facts WHERE fact = ANY($1::text[])`,
      [report.facts],
    );
    const earliest = rows[0].m === null ? null : Number(rows[0].m);
    if (seals.some((s) => s === null) || earliest === null || (report.name === 'energy' && stations.length === 0)) {
      args.log(`verify: ${report.name} report: nothing sealed yet (or no stations in the ledger), skipped`);
      continue;
    }
    const seal = Math.min(...(seals as number[]));
    const tally = (out.bySource[`${report.name}-report`] ??= { checked: 0, mismatches: 0 });
    for (const zone of zones)
      for (const grain of REPORT_GRAINS) {
        for (let i = 0; i < args.ranges; i++) {
          const range = pickRange(args.rng, zone, shifts, grain, earliest, seal, grain === 'DAY' ? 3 : 6);
          if (!range) {
            args.log(
              `verify: ${report.name} report ${grain}: no whole ${grain.toLowerCase()} in ${zone} sealed yet, skipped`,
            );
            break;
          }
          const t: ReportTally =
            report.name === 'energy'
              ? await checkEnergyReport({ api: args.api, pool: args.pool, schema: args.schema, range, stations })
              : await checkWorkforceReport({ api: args.api, pool: args.pool, schema: args.schema, range });
          out.checked += t.checked;
          out.mismatches.push(...t.mismatches);
          tally.checked += t.checked;
          tally.mismatches += t.mismatches.length;
          args.log(
            `verify: ${report.name} report ${grain} ${zone} [${new Date(range.from).toISOString()}, ${new Date(range.to).toISOString()}): ${t.checked} checked, ${t.mismatches.length} mismatches`,
          );
        }
      }
  }
  return out;
}
