import type { FactPoint } from '../simulator/ledger.ts';
import { bucketOf, type LocalBucket } from './local-calendar.ts';

/**
 * The report figures recomputed from ledger facts alone (verify never runs the pipeline's code):
 * integers summed per local bucket and station, then the ratios with the same arithmetic the API
 * documents (schema/production.graphql, schema/quality.graphql), so equal integers give equal floats.
 */
export interface StationBucket {
  entered: number;
  exited: number;
  errors: number;
  ctCount: number;
  ctSum: number;
  /** entered − exited since the ledger's first minute, at the bucket's end. */
  wip: number;
}

export interface FloorStation {
  id: string;
  flowIndex: number | null;
  idealCycleSec: number | null;
}

const zero = (): StationBucket => ({ entered: 0, exited: 0, errors: 0, ctCount: 0, ctSum: 0, wip: 0 });

/** Per station, one entry per bucket; errors per (bucket, station, code). */
export interface ExpectedCounts {
  perStation: Map<string, StationBucket[]>;
  errors: Map<string, number>;
}

export function countByBucket(args: {
  buckets: readonly LocalBucket[];
  stations: readonly string[];
  /** Minute facts of the range. */
  facts: readonly FactPoint[];
  /** parts_entered / parts_exited before the range, one point per station. */
  before: readonly FactPoint[];
}): ExpectedCounts {
  const perStation = new Map<string, StationBucket[]>();
  const get = (s: string) => perStation.get(s) ?? perStation.set(s, args.buckets.map(zero)).get(s)!;
  for (const s of args.stations) get(s);
  const errors = new Map<string, number>();
  for (const f of args.facts) {
    const b = bucketOf(args.buckets, f.bucket);
    if (b < 0) continue;
    const c = get(f.station)[b];
    if (f.fact === 'parts_entered') c.entered += f.value;
    else if (f.fact === 'parts_exited') c.exited += f.value;
    else if (f.fact === 'station_errors') {
      c.errors += f.value;
      const k = `${new Date(args.buckets[b].start).toISOString()} ${f.station} ${f.errorCode ?? ''}`;
      errors.set(k, (errors.get(k) ?? 0) + f.value);
    } else if (f.fact === 'cycle_time_count') c.ctCount += f.value;
    else if (f.fact === 'cycle_time_sum') c.ctSum += f.value;
  }
  const base = new Map<string, number>();
  for (const f of args.before)
    base.set(
      f.station,
      (base.get(f.station) ?? 0) + (f.fact === 'parts_entered' ? f.value : f.fact === 'parts_exited' ? -f.value : 0),
    );
  for (const [s, list] of perStation) {
    let running = base.get(s) ?? 0;
    for (const c of list) c.wip = running += c.entered - c.exited;
  }
  return { perStation, errors };
}

export function sum(list: readonly StationBucket[] | undefined): StationBucket {
  const out = zero();
  for (const c of list ?? []) {
    out.entered += c.entered;
    out.exited += c.exited;
    out.errors += c.errors;
    out.ctCount += c.ctCount;
    out.ctSum += c.ctSum;
  }
  out.wip = list?.at(-1)?.wip ?? 0;
  return out;
}

/** Line figures of report 1: first flow station's entries, last one's exits, WIP, OEE. */
export function expectedLine(args: {
  counts: ExpectedCounts;
  floor: readonly FloorStation[];
  /** Whole hours of the range, and per station those with at least one exit. */
  hours: number;
  activeHours: ReadonlyMap<string, number>;
  rangeHours: number;
}) {
  const flow = args.floor.filter((s) => s.flowIndex !== null).sort((a, b) => a.flowIndex! - b.flowIndex!);
  const first = flow[0];
  const last = flow.at(-1);
  const completed = last ? sum(args.counts.perStation.get(last.id)).exited : 0;
  let perfSum = 0;
  let perfWeight = 0;
  let quality: number | null = flow.length ? 1 : null;
  for (const s of flow) {
    const c = sum(args.counts.perStation.get(s.id));
    if (s.idealCycleSec !== null && c.ctCount > 0 && c.ctSum > 0) {
      perfSum += Math.min(1, (s.idealCycleSec * 1000) / (c.ctSum / c.ctCount)) * c.exited;
      perfWeight += c.exited;
    }
    const q = c.exited > 0 ? (c.exited - c.errors) / c.exited : null;
    quality = quality === null || q === null ? null : quality * q;
  }
  let wip = 0;
  for (const list of args.counts.perStation.values()) wip += list.at(-1)?.wip ?? 0;
  const availability = last && args.hours > 0 ? (args.activeHours.get(last.id) ?? 0) / args.hours : null;
  const performance = perfWeight > 0 ? perfSum / perfWeight : null;
  const oee =
    availability === null || performance === null || quality === null ? null : availability * performance * quality;
  return {
    partsStarted: first ? sum(args.counts.perStation.get(first.id)).entered : 0,
    partsCompleted: completed,
    throughputPerHour: args.rangeHours > 0 ? completed / args.rangeHours : 0,
    wip,
    oee: { availability, performance, quality, oee },
    firstPassYield: quality,
  };
}
