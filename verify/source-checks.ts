import type pg from 'pg';
import { MillraceError } from '../lib/errors.ts';
import { readFacts, sealedHorizon } from '../simulator/ledger.ts';
import { sourceSeal } from '../simulator/ledger-sources.ts';

/** Seals of every source the checks name, read in one go. */
export async function readSeals(
  pool: pg.Pool,
  schema: string,
  checks: readonly SourceCheck[],
): Promise<Map<string, number | null>> {
  const seals = new Map<string, number | null>();
  // `machining` is the live source: its seal is the ledger's horizon, not a writer's seal.
  for (const c of checks)
    if (!seals.has(c.source))
      seals.set(
        c.source,
        c.source === 'machining' ? await sealedHorizon(pool, schema) : await sourceSeal(pool, schema, c.source),
      );
  return seals;
}
import type { Rng } from '../simulator/prng.ts';
import { GRAIN_MS, GRAINS, type Grain, type GraphqlOptions } from './graphql.ts';
import type { Mismatch } from './compare.ts';

/**
 * One ledger fact checked against one served metric (by name, through `metricSeries`): the names
 * are the contract between the simulator's ledger and the API — no pipeline code is shared.
 */
export interface SourceCheck {
  /** The writer's seal name in the ledger. */
  source: string;
  /** Ledger fact. */
  fact: string;
  /** Served metric name and which state cell holds the fact (0 = headline; 1 = a histogram's sum). */
  metric: string;
  cell: number;
  /** The metric's dimensions holding the ledger's first and second dimension. */
  dims: [string] | [string, string];
}

const QUERY = `query VerifySource($metric: String!, $grain: Grain!, $from: DateTime!, $to: DateTime!) {
  metricSeries(metric: $metric, grain: $grain, from: $from, to: $to) { points { bucket dimensions { name value } personalDimensions { name value } cells } }
}`;

interface GenericPoint {
  bucket: string;
  dimensions: Array<{ name: string; value: string }>;
  personalDimensions: Array<{ name: string; value: string }>;
  cells: number[];
}

async function query(
  opts: GraphqlOptions,
  v: { metric: string; grain: Grain; from: string; to: string },
): Promise<GenericPoint[]> {
  const res = await fetch(opts.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify({ query: QUERY, variables: v }),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  }).catch((err: Error) => {
    throw new MillraceError('VERIFY_QUERY_FAILED', `metricSeries(${v.metric}): ${err.message}`, { retryable: true });
  });
  const body = (await res.json()) as {
    data?: { metricSeries?: { points: GenericPoint[] } };
    errors?: Array<{ message: string }>;
  };
  if (body.errors?.length || !body.data?.metricSeries) {
    throw new MillraceError(
      'VERIFY_QUERY_FAILED',
      `metricSeries(${v.metric}): ${body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${res.status}`}`,
    );
  }
  return body.data.metricSeries.points;
}

/** Compare every check whose source has sealed something, over `ranges` random ranges per grain. */
export async function runSourceChecks(args: {
  checks: readonly SourceCheck[];
  /** Seals read BEFORE waiting for the pipeline to catch up (see runVerify). */
  seals: ReadonlyMap<string, number | null>;
  pool: pg.Pool;
  schema: string;
  api: GraphqlOptions;
  rng: Rng;
  ranges: number;
  log: (line: string) => void;
}): Promise<{
  checked: number;
  mismatches: Mismatch[];
  bySource: Record<string, { checked: number; mismatches: number }>;
}> {
  let checked = 0;
  const mismatches: Mismatch[] = [];
  const bySource: Record<string, { checked: number; mismatches: number }> = {};
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const c of args.checks) {
    const seal = args.seals.get(c.source) ?? null;
    const first = await args.pool.query(`SELECT min(minute) AS m FROM ${args.schema}.facts WHERE fact = $1`, [c.fact]);
    const earliest = first.rows[0].m === null ? null : Number(first.rows[0].m);
    if (seal === null || earliest === null || seal <= earliest) {
      args.log(`verify: ${c.fact}: nothing sealed yet, skipped`);
      continue;
    }
    const [checkedBefore, mismatchesBefore] = [checked, mismatches.length];
    for (const grain of GRAINS) {
      const g = GRAIN_MS[grain];
      const lo = Math.floor(earliest / g) * g;
      const buckets = Math.floor(seal / g) - lo / g;
      if (buckets < 1) continue;
      for (let i = 0; i < args.ranges; i++) {
        const start = args.rng.int(0, buckets - 1);
        const from = lo + start * g;
        const to = from + args.rng.int(1, Math.min(buckets - start, 48)) * g;
        const [points, facts] = await Promise.all([
          query(args.api, { metric: c.metric, grain, from: iso(from), to: iso(to) }),
          readFacts(args.pool, { schema: args.schema, fact: c.fact, from, to, grainMs: g }),
        ]);
        const key = (bucket: number, d1: string, d2: string) =>
          `${iso(bucket)} ${d1}${c.dims.length > 1 ? ` ${d2}` : ''}`;
        const actual = new Map<string, number>();
        for (const p of points) {
          const dim = (n: string) => [...p.dimensions, ...p.personalDimensions].find((d) => d.name === n)?.value ?? '';
          const k = key(Date.parse(p.bucket), dim(c.dims[0]), c.dims[1] ? dim(c.dims[1]) : '');
          actual.set(k, (actual.get(k) ?? 0) + (p.cells[c.cell] ?? 0));
        }
        const expected = new Map<string, number>();
        for (const f of facts) {
          const k = key(f.bucket, f.station, f.errorCode ?? '');
          expected.set(k, (expected.get(k) ?? 0) + f.value);
        }
        for (const k of new Set([...actual.keys(), ...expected.keys()])) {
          const a = actual.get(k) ?? 0;
          const e = expected.get(k) ?? 0;
          if (a === 0 && e === 0) continue;
          checked++;
          if (a !== e)
            mismatches.push({
              metric: c.metric,
              grain,
              from: iso(from),
              to: iso(to),
              key: `${k} ${c.fact}`,
              expected: e,
              actual: a,
            });
        }
      }
    }
    const t = (bySource[c.source] ??= { checked: 0, mismatches: 0 });
    t.checked += checked - checkedBefore;
    t.mismatches += mismatches.length - mismatchesBefore;
    args.log(`verify: ${c.fact} ↔ ${c.metric}: compared`);
  }
  return { checked, mismatches, bySource };
}
