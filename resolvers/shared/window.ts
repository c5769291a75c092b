import { checkTimeZone, type CalendarGrain } from '../../serving/calendar.ts';
import type { CalendarBucket } from '../../serving/calendar.ts';
import type { Freshness as ServingFreshness } from '../../serving/types.ts';
import type { ResolverContext } from '../context.ts';
import type { Directory } from './directory.ts';
import { badInput, iso, parseRange } from '../validate-args.ts';

/** The time window of a report: [from, to) in epoch ms, cut by `grain` in `zone`. */
export interface ReportWindow {
  from: number;
  to: number;
  grain: CalendarGrain;
  zone: string;
}

/** Checks a report's from/to/grain/timeZone arguments (BAD_USER_INPUT naming the argument). */
export function parseWindow(
  args: { from: string; to: string; grain?: CalendarGrain | null; timeZone?: string | null },
  ctx: ResolverContext,
  defaultGrain: CalendarGrain,
): ReportWindow {
  const { from, to } = parseRange(args);
  const zone = args.timeZone == null ? ctx.calendar.zone : checkZone(args.timeZone);
  return { from, to, grain: args.grain ?? defaultGrain, zone };
}

function checkZone(zone: string): string {
  try {
    return checkTimeZone(zone);
  } catch (err) {
    throw badInput((err as Error).message);
  }
}

/**
 * An `in` filter checked against what the directory knows: an unknown id is BAD_USER_INPUT
 * listing the known ones (never an empty answer). Null or absent = no filter.
 */
export function checkIds(
  name: string,
  ids: readonly string[] | null | undefined,
  known: readonly string[],
): string[] | null {
  if (ids == null) return null;
  const set = new Set(known);
  const unknown = ids.filter((id) => !set.has(id));
  if (unknown.length)
    throw badInput(`unknown ${name} ${unknown.map((u) => JSON.stringify(u)).join(', ')}; known: ${known.join(', ')}`);
  return [...new Set(ids)];
}

/** Station ids selected by station/zone/department `in` filters (all stations without filters). */
export function selectStations(
  dir: Directory,
  f: { stations?: readonly string[] | null; zones?: readonly string[] | null; departments?: readonly string[] | null },
): string[] {
  const stations = checkIds(
    'station',
    f.stations,
    dir.stations.map((s) => s.id),
  );
  const zones = checkIds('zone', f.zones, dir.zones);
  const departments = checkIds('department', f.departments, dir.departments);
  return dir.stations
    .filter(
      (s) =>
        (!stations || stations.includes(s.id)) &&
        (!zones || zones.includes(s.zone)) &&
        (!departments || departments.includes(s.department)),
    )
    .map((s) => s.id);
}

/** A calendar bucket as the API's `Bucket`. */
export function toBucket(b: CalendarBucket) {
  return { start: iso(b.start), end: iso(b.end), label: b.label, shift: b.shift };
}

/** The serving layer's freshness as the API's `Freshness`. */
export function toFreshness(f: ServingFreshness) {
  return {
    asOf: iso(f.asOf),
    batchOffsets: f.batchOffsets,
    batchWatermark: iso(f.batchWatermarkTime),
    batchRefreshedAt: iso(f.batchRefreshedAt),
    speedOffsets: f.speedOffsets,
    speedLagEvents: f.speedLagEvents,
    speedAppliedAt: iso(f.speedAppliedAt),
    batchShare: f.batchShare,
    speedShare: f.speedShare,
  };
}

/** Checks `top` (1 … 10 000). */
export function checkTop(top: number | null | undefined): number | null {
  if (top == null) return null;
  if (!Number.isInteger(top) || top < 1 || top > 10_000) throw badInput('`top` must be between 1 and 10000');
  return top;
}
