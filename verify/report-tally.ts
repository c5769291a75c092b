import type pg from 'pg';
import { ident } from '../lib/ident.ts';
import { readFacts, type FactPoint } from '../simulator/ledger.ts';
import type { Rng } from '../simulator/prng.ts';
import { postQuery } from './graphql.ts';
import type { Mismatch } from './compare.ts';
import { bucketOf, localBuckets, type LocalBucket, type LocalShift } from './local-calendar.ts';

export { bucketOf };

/**
 * Plumbing of the energy and workforce report checks (energy-checks.ts, workforce-checks.ts): the typed report
 * fields queried through the public API in the factory's time zone, at SHIFT and DAY grain, and
 * recomputed here from the ledger's per-minute facts with verify's own calendar.
 */
export type ReportGrain = 'SHIFT' | 'DAY';
export const REPORT_GRAINS: readonly ReportGrain[] = ['SHIFT', 'DAY'];

/** A station as the ledger's reference-files writer recorded it. */
export interface LedgerStation {
  id: string;
  zone: string;
  department: string;
  machines: string[];
  flowIndex: number | null;
}

/** One check's range: whole local buckets of `grain`, all sealed. */
export interface ReportRange {
  grain: ReportGrain;
  zone: string;
  shifts: readonly LocalShift[];
  buckets: LocalBucket[];
  from: number;
  to: number;
}

/** Compares values one by one; the only acceptable difference is none. */
export class ReportTally {
  checked = 0;
  readonly mismatches: Mismatch[] = [];
  constructor(private readonly where: { metric: string; grain: string; from: number; to: number }) {}

  /** Every key of either side; a key missing on one side compares as 0 (or null). */
  compare(
    expected: ReadonlyMap<string, number | null>,
    actual: ReadonlyMap<string, number | null>,
    zeroIsAbsent = true,
  ): void {
    for (const k of new Set([...expected.keys(), ...actual.keys()])) {
      const absent = zeroIsAbsent ? 0 : null;
      const e = expected.has(k) ? expected.get(k)! : absent;
      const a = actual.has(k) ? actual.get(k)! : absent;
      if (zeroIsAbsent && e === 0 && a === 0) continue;
      this.one(k, e, a);
    }
  }

  one(key: string, expected: number | null, actual: number | null): void {
    this.checked++;
    if (expected !== actual) {
      const iso = (t: number) => new Date(t).toISOString();
      this.mismatches.push({
        metric: this.where.metric,
        grain: this.where.grain,
        from: iso(this.where.from),
        to: iso(this.where.to),
        key,
        expected,
        actual,
      });
    }
  }
}

/** Ledger facts per minute over [from, to). */
export const minuteFacts = (
  pool: pg.Pool,
  schema: string,
  fact: string | string[],
  from: number,
  to: number,
): Promise<FactPoint[]> => readFacts(pool, { schema, fact, from, to, grainMs: 60_000 });

/** The stations the ledger holds (entity `station` of the reference files). */
export async function ledgerStations(pool: pg.Pool, schema: string): Promise<LedgerStation[]> {
  const { rows } = await pool.query<{ data: Record<string, unknown> }>(
    `SELECT data FROM ${ident(schema)}.entities WHERE entity = 'station' AND data IS NOT NULL`,
  );
  return rows.map(({ data: d }) => ({
    id: String(d.id),
    zone: String(d.zone ?? ''),
    department: String(d.department ?? ''),
    machines: Array.isArray(d.machines) ? d.machines.map(String) : [],
    flowIndex: typeof d.flowIndex === 'number' ? d.flowIndex : null,
  }));
}

/**
 * A random range of whole local `grain` buckets, 1 … `maxBuckets` of them, inside [earliest, seal)
 * (the first may start before `earliest`: nothing of this run is there). Null when none is sealed.
 */
export function pickRange(
  rng: Rng,
  zone: string,
  shifts: ReportRange['shifts'],
  grain: ReportGrain,
  earliest: number,
  seal: number,
  maxBuckets: number,
): ReportRange | null {
  const all = localBuckets(zone, grain, shifts, earliest, seal).filter((b) => b.end <= seal);
  if (all.length === 0) return null;
  const i = rng.int(0, all.length - 1);
  const j = Math.min(all.length - 1, i + rng.int(0, maxBuckets - 1));
  return { grain, zone, shifts, buckets: all.slice(i, j + 1), from: all[i].start, to: all[j].end };
}

/** Sends one report query; any GraphQL error fails the run (it is not a value mismatch). */
export const queryReport = postQuery;

/**
 * The API's bucket of a row, as an index into the range's buckets: a bucket verify's calendar does
 * not have is itself a mismatch (key `<start> bucket`), and the row is then not compared further.
 */
export function apiBucket(t: ReportTally, r: ReportRange, b: { start: string; end: string }): number {
  const start = Date.parse(b.start);
  const end = Date.parse(b.end);
  const i = r.buckets.findIndex((x) => x.start === start);
  if (i < 0 || r.buckets[i].end !== end) {
    t.one(`${b.start}..${b.end} bucket`, 1, 0);
    return -1;
  }
  return i;
}

/** `<bucket start ISO> <parts…>`: the key of one compared value. */
export const key = (r: ReportRange, bucket: number | null, ...parts: string[]) =>
  [bucket === null ? 'range' : new Date(r.buckets[bucket].start).toISOString(), ...parts].join(' ');
