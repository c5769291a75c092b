import { CYCLE_TIME_BOUNDS_MS } from '../simulator/ledger-facts.ts';
import type { FactPoint } from '../simulator/ledger.ts';
import type { ApiPoint, Grain, ProductionMetric } from './graphql.ts';

/**
 * Compares one served series with the ledger, value by value. The only acceptable difference is
 * zero: a point missing on one side compares as 0, a duplicate point is itself a mismatch.
 */
export interface Mismatch {
  /** A production metric enum, or any metric name for source checks. */
  metric: ProductionMetric | string;
  /** A UTC grain, or for reports the calendar grain and zone, e.g. `DAY Europe/Berlin`. */
  grain: Grain | string;
  from: string;
  to: string;
  /** `<bucket ISO> <station>[ <errorCode>][ <field>]`, field e.g. `count`, `sum`, `counts[3]`, `bounds`. */
  key: string;
  /** Reports also compare nulls (a ratio of nothing) and text (bucket ends and labels). */
  expected: number | number[] | string | null;
  actual: number | number[] | string | null;
}

/** Ledger facts behind each metric's served fields. */
export const LEDGER_FACTS: Readonly<Record<ProductionMetric, readonly string[]>> = {
  PARTS_ENTERED: ['parts_entered'],
  PARTS_EXITED: ['parts_exited'],
  STATION_ERRORS: ['station_errors'],
  CYCLE_TIME: [
    'cycle_time_count',
    'cycle_time_sum',
    ...[...CYCLE_TIME_BOUNDS_MS, 0].map((_, i) => `cycle_time_bucket_${i}`),
  ],
};

type Fields = Map<string, number>;
const pointKey = (bucket: number, station: string, errorCode: string | null) =>
  `${new Date(bucket).toISOString()} ${station}${errorCode ? ` ${errorCode}` : ''}`;

/** Ledger fact → the API field it must equal (`value` and `count` both equal the histogram count). */
function ledgerFields(fact: string): string[] {
  if (fact === 'cycle_time_count') return ['value', 'count'];
  if (fact === 'cycle_time_sum') return ['sum'];
  const bucket = /^cycle_time_bucket_(\d+)$/.exec(fact);
  return [bucket ? `counts[${bucket[1]}]` : 'value'];
}

function apiFields(metric: ProductionMetric, p: ApiPoint): Array<[string, number]> {
  if (metric !== 'CYCLE_TIME') return [['value', p.value]];
  const h = p.histogram ?? { bounds: [], counts: [], count: 0, sum: 0 };
  return [
    ['value', p.value],
    ['count', h.count],
    ['sum', h.sum],
    ...h.counts.map((c, i): [string, number] => [`counts[${i}]`, c]),
  ];
}

export function compareSeries(args: {
  metric: ProductionMetric;
  grain: Grain;
  from: number;
  to: number;
  expected: readonly FactPoint[];
  actual: readonly ApiPoint[];
}): { checked: number; mismatches: Mismatch[] } {
  const { metric, grain } = args;
  const where = { metric, grain, from: new Date(args.from).toISOString(), to: new Date(args.to).toISOString() };
  const mismatches: Mismatch[] = [];
  let checked = 0;
  const expected = new Map<string, Fields>();
  for (const f of args.expected) {
    const k = pointKey(f.bucket, f.station, f.errorCode);
    const fields = expected.get(k) ?? expected.set(k, new Map()).get(k)!;
    for (const name of ledgerFields(f.fact)) fields.set(name, (fields.get(name) ?? 0) + f.value);
  }
  const actual = new Map<string, Fields>();
  const seen = new Map<string, number>();
  for (const p of args.actual) {
    const k = pointKey(Date.parse(p.bucket), p.station.id, p.errorCode);
    seen.set(k, (seen.get(k) ?? 0) + 1);
    const fields = actual.get(k) ?? actual.set(k, new Map()).get(k)!;
    for (const [name, v] of apiFields(metric, p)) fields.set(name, (fields.get(name) ?? 0) + v);
    if (metric === 'CYCLE_TIME') {
      checked++;
      const bounds = p.histogram?.bounds ?? [];
      if (bounds.length !== CYCLE_TIME_BOUNDS_MS.length || bounds.some((b, i) => b !== CYCLE_TIME_BOUNDS_MS[i])) {
        mismatches.push({ ...where, key: `${k} bounds`, expected: [...CYCLE_TIME_BOUNDS_MS], actual: bounds });
      }
    }
  }
  for (const [k, n] of seen) if (n > 1) mismatches.push({ ...where, key: `${k} points`, expected: 1, actual: n });
  const names =
    metric === 'CYCLE_TIME'
      ? ['value', 'count', 'sum', ...LEDGER_FACTS.CYCLE_TIME.slice(2).map((_, i) => `counts[${i}]`)]
      : ['value'];
  for (const k of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(k);
    const a = actual.get(k);
    // Fields the API sent beyond the spec's (e.g. an extra histogram bucket) are compared too.
    for (const name of new Set([...names, ...(a?.keys() ?? [])])) {
      checked++;
      const want = e?.get(name) ?? 0;
      const got = a?.get(name) ?? 0;
      if (want !== got)
        mismatches.push({ ...where, key: name === 'value' ? k : `${k} ${name}`, expected: want, actual: got });
    }
  }
  return { checked, mismatches };
}
