import type pg from 'pg';
import { sealedHorizon } from '../simulator/ledger.ts';
import { sourceSeal } from '../simulator/ledger-sources.ts';
import type { Rng } from '../simulator/prng.ts';
import { ident } from '../store/migrate.ts';
import type { Mismatch } from './compare.ts';
import { checkEnergyReport } from './energy-checks.ts';
import type { GraphqlOptions } from './graphql.ts';
import { parseShiftSpec } from './local-buckets.ts';
import { ledgerStations, pickRange, REPORT_GRAINS, type ReportTally } from './report-checks.ts';
import { checkWorkforceReport } from './workforce-checks.ts';

/** The factory calendar verify cuts reports by (the server's MILLRACE_TIME_ZONE and MILLRACE_SHIFTS). */
export interface ReportCalendar {
  /** IANA zone of SHIFT and DAY buckets. Default 'UTC'. */
  timeZone?: string;
  /** `NAME=HH:MM,…`. Default 'A=06:00,B=14:00,C=22:00'. */
  shifts?: string;
}

/** Which ledger writers a report reads; it is checked only below all their seals. */
const REPORTS = [
  { name: 'energy', sources: ['energy-csv', 'machining', 'heat-sensors'], facts: ['energy_wh'] },
  { name: 'workforce', sources: ['clockin-excel', 'machining'], facts: ['attendance', 'absences', 'worker_minutes'] },
] as const;

/**
 * The typed reports of the energy and workforce subgraphs at SHIFT and DAY grain in the factory's
 * time zone, over `ranges` random ranges of whole sealed local buckets each (up to 3 days or 6 shifts).
 */
export async function runReportChecks(args: {
  pool: pg.Pool;
  schema: string;
  api: GraphqlOptions;
  rng: Rng;
  ranges: number;
  calendar?: ReportCalendar;
  log: (line: string) => void;
}): Promise<{ checked: number; mismatches: Mismatch[]; bySource: Record<string, { checked: number; mismatches: number }> }> {
  const zone = args.calendar?.timeZone ?? 'UTC';
  const shifts = parseShiftSpec(args.calendar?.shifts ?? 'A=06:00,B=14:00,C=22:00');
  const out = { checked: 0, mismatches: [] as Mismatch[], bySource: {} as Record<string, { checked: number; mismatches: number }> };
  const stations = await ledgerStations(args.pool, args.schema);
  for (const report of REPORTS) {
    const seals = await Promise.all(report.sources.map((s) => (s === 'machining' ? sealedHorizon(args.pool, args.schema) : sourceSeal(args.pool, args.schema, s))));
    const { rows } = await args.pool.query(`SELECT min(minute) AS m FROM ${ident(args.schema)}.facts WHERE fact = ANY($1::text[])`, [report.facts]);
    const earliest = rows[0].m === null ? null : Number(rows[0].m);
    if (seals.some((s) => s === null) || earliest === null || (report.name === 'energy' && stations.length === 0)) {
      args.log(`verify: ${report.name} report: nothing sealed yet (or no stations in the ledger), skipped`);
      continue;
    }
    const seal = Math.min(...(seals as number[]));
    const tally = (out.bySource[`${report.name}-report`] ??= { checked: 0, mismatches: 0 });
    for (const grain of REPORT_GRAINS) {
      for (let i = 0; i < args.ranges; i++) {
        const range = pickRange(args.rng, zone, shifts, grain, earliest, seal, grain === 'DAY' ? 3 : 6);
        if (!range) {
          args.log(`verify: ${report.name} report ${grain}: no whole ${grain.toLowerCase()} in ${zone} sealed yet, skipped`);
          break;
        }
        const t: ReportTally = report.name === 'energy'
          ? await checkEnergyReport({ api: args.api, pool: args.pool, schema: args.schema, range, stations })
          : await checkWorkforceReport({ api: args.api, pool: args.pool, schema: args.schema, range });
        out.checked += t.checked;
        out.mismatches.push(...t.mismatches);
        tally.checked += t.checked;
        tally.mismatches += t.mismatches.length;
        args.log(`verify: ${report.name} report ${grain} ${zone} [${new Date(range.from).toISOString()}, ${new Date(range.to).toISOString()}): ${t.checked} checked, ${t.mismatches.length} mismatches`);
      }
    }
  }
  return out;
}
