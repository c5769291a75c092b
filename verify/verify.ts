import type pg from 'pg';
import { MillraceError } from '../lib/errors.ts';
import { DEFAULT_LEDGER_SCHEMA, earliestMinute, readFacts, sealedHorizon } from '../simulator/ledger.ts';
import { createRng } from '../simulator/prng.ts';
import { compareSeries, LEDGER_FACTS, type Mismatch } from './compare.ts';
import { GRAIN_MS, GRAINS, METRICS, querySeries, type Grain } from './graphql.ts';
import { readEntitySnapshot, runEntityChecks, type EntityMismatch } from './entity-checks.ts';
import { readSeals, runSourceChecks, type SourceCheck } from './source-checks.ts';
import { SOURCE_CHECKS } from './source-checks-table.ts';
import { runReportChecks } from './report-checks.ts';
import { runEnergyWorkforceChecks } from './energy-workforce-reports.ts';
import { sourceSeal } from '../simulator/ledger-sources.ts';

/**
 * Verify (ARCHITECTURE.md, protocol step 7): compare the served answers with the simulator's
 * ground-truth ledger over random ranges, for every production metric and grain. It reads the
 * ledger directly and the pipeline only through its public GraphQL API, never through its code.
 */
export interface VerifyOptions {
  /** GraphQL endpoint (the gateway's or the production subgraph's `/graphql`). */
  graphqlUrl: string;
  /** Pool on the database holding the ledger. */
  pool: pg.Pool;
  /** Ledger schema. Default `ledger`. */
  ledgerSchema?: string;
  /** Random ranges per grain; each is queried for every metric. Default 20. */
  ranges?: number;
  /** Seed for choosing ranges (logged, so a failing run can be replayed). Default `Date.now()`. */
  seed?: number;
  /** Resolves once the pipeline has consumed everything produced so far. Default: no wait. */
  waitForCatchUp?: () => Promise<void>;
  /** Progress lines. Default: silent. */
  log?: (line: string) => void;
  /** Extra HTTP headers for the API (e.g. authorization). Default none. */
  headers?: Record<string, string>;
  /** Most mismatches kept in `details` (all are counted). Default 1000. */
  maxDetails?: number;
  /** Facts of the other sources checked through `metricSeries`. Default `SOURCE_CHECKS`. */
  sourceChecks?: readonly SourceCheck[];
  /**
   * Time zones the reports (production, errors, quality, MTTR at SHIFT and DAY) are checked in,
   * besides the factory's default. Default `['Europe/Berlin']` (daylight saving). `false`: no report checks.
   */
  reportZones?: readonly string[] | false;
}

export interface VerifyResult {
  /** Values (and entities) compared. */
  checked: number;
  mismatches: number;
  /**
   * The same, per ledger source: `machining` (the production metrics), `reports` (production,
   * errors, quality and MTTR reports at calendar grains), then every other writer.
   */
  bySource: Record<string, { checked: number; mismatches: number }>;
  /** Entities not compared because the simulator changed them while verify ran. */
  entitiesInFlight: number;
  details: Array<Mismatch | (EntityMismatch & { source: string })>;
}

/** Longest range per grain, in buckets: enough to cross batch/speed seams, small enough to stay quick. */
const MAX_SPAN: Readonly<Record<Grain, number>> = { MINUTE: 120, HOUR: 48, DAY: 14 };

export async function runVerify(opts: VerifyOptions): Promise<VerifyResult> {
  const schema = opts.ledgerSchema ?? DEFAULT_LEDGER_SCHEMA;
  const log = opts.log ?? (() => undefined);
  const seed = opts.seed ?? Date.now();
  const maxDetails = opts.maxDetails ?? 1000;
  // The horizon is read BEFORE waiting: everything below it was acknowledged by the source topic,
  // so once the pipeline has caught up with the topic, it has seen all of it.
  const horizon = await sealedHorizon(opts.pool, schema);
  const earliest = await earliestMinute(opts.pool, schema);
  const sourceChecks = opts.sourceChecks ?? SOURCE_CHECKS;
  const seals = await readSeals(opts.pool, schema, sourceChecks);
  const ordersSeal = await sourceSeal(opts.pool, schema, 'orders-postgres');
  const entitiesBefore = await readEntitySnapshot(opts.pool, schema);
  if (horizon === null || earliest === null || horizon <= earliest) {
    throw new MillraceError(
      'VERIFY_NOTHING_TO_CHECK',
      `ledger ${schema} has no sealed minute yet (is the simulator running?)`,
    );
  }
  log(`verify: seed ${seed}, ledger ${schema} sealed over [${iso(earliest)}, ${iso(horizon)})`);
  await opts.waitForCatchUp?.();

  const rng = createRng(seed);
  const result: VerifyResult = { checked: 0, mismatches: 0, bySource: {}, entitiesInFlight: 0, details: [] };
  const tally = (source: string, checked: number, mismatches: number) => {
    const t = (result.bySource[source] ??= { checked: 0, mismatches: 0 });
    t.checked += checked;
    t.mismatches += mismatches;
  };
  for (const grain of GRAINS) {
    const g = GRAIN_MS[grain];
    // Only whole buckets below the horizon compare; the first may start before `earliest`,
    // which is fine because the ledger (and the pipeline) hold nothing of this run before it.
    const lo = Math.floor(earliest / g) * g;
    const buckets = Math.floor(horizon / g) - lo / g;
    if (buckets < 1) {
      log(`verify: ${grain}: skipped, no whole ${grain.toLowerCase()} sealed yet`);
      continue;
    }
    for (let i = 0; i < (opts.ranges ?? 20); i++) {
      const start = rng.int(0, buckets - 1);
      const from = lo + start * g;
      const to = from + rng.int(1, Math.min(buckets - start, MAX_SPAN[grain])) * g;
      for (const metric of METRICS) {
        const [actual, expected] = await Promise.all([
          querySeries({ url: opts.graphqlUrl, headers: opts.headers }, { metric, grain, from: iso(from), to: iso(to) }),
          readFacts(opts.pool, { schema, fact: LEDGER_FACTS[metric], from, to, grainMs: g }),
        ]);
        const r = compareSeries({ metric, grain, from, to, expected, actual });
        result.checked += r.checked;
        result.mismatches += r.mismatches.length;
        tally('machining', r.checked, r.mismatches.length);
        result.details.push(...r.mismatches.slice(0, Math.max(0, maxDetails - result.details.length)));
        log(
          `verify: ${metric} ${grain} [${iso(from)}, ${iso(to)}): ${r.checked} checked, ${r.mismatches.length} mismatches`,
        );
      }
    }
  }
  if (opts.reportZones !== false) {
    const reports = await runReportChecks({
      pool: opts.pool,
      schema,
      api: { url: opts.graphqlUrl, headers: opts.headers },
      rng,
      ranges: Math.max(1, Math.ceil((opts.ranges ?? 20) / 4)),
      earliest,
      horizon,
      ordersSeal,
      zones: opts.reportZones ?? ['Europe/Berlin'],
      log,
    });
    result.checked += reports.checked;
    result.mismatches += reports.mismatches.length;
    tally('reports', reports.checked, reports.mismatches.length);
    result.details.push(...reports.mismatches.slice(0, Math.max(0, maxDetails - result.details.length)));
  }
  if (opts.reportZones !== false) {
    // Energy (report 3) and workforce (report 2): each only below the seals of the writers it reads.
    const reports = await runEnergyWorkforceChecks({
      pool: opts.pool,
      schema,
      api: { url: opts.graphqlUrl, headers: opts.headers },
      rng,
      ranges: Math.max(1, Math.ceil((opts.ranges ?? 20) / 10)),
      zones: opts.reportZones ?? ['Europe/Berlin'],
      log,
    });
    result.checked += reports.checked;
    result.mismatches += reports.mismatches.length;
    result.details.push(...reports.mismatches.slice(0, Math.max(0, maxDetails - result.details.length)));
    for (const [source, t] of Object.entries(reports.bySource)) tally(source, t.checked, t.mismatches);
  }
  const other = await runSourceChecks({
    checks: sourceChecks,
    seals,
    pool: opts.pool,
    schema,
    api: { url: opts.graphqlUrl, headers: opts.headers },
    rng,
    ranges: Math.max(1, Math.ceil((opts.ranges ?? 20) / 4)),
    log,
  });
  result.checked += other.checked;
  result.mismatches += other.mismatches.length;
  result.details.push(...other.mismatches.slice(0, Math.max(0, maxDetails - result.details.length)));
  for (const [source, t] of Object.entries(other.bySource)) tally(source, t.checked, t.mismatches);
  const ent = await runEntityChecks({
    before: entitiesBefore,
    pool: opts.pool,
    schema,
    api: { url: opts.graphqlUrl, headers: opts.headers },
    log,
  });
  for (const [source, n] of Object.entries(ent.checked)) {
    result.checked += n;
    tally(source, n, 0);
  }
  for (const m of ent.mismatches) tally(m.source, 0, 1);
  result.mismatches += ent.mismatches.length;
  result.entitiesInFlight = ent.inFlight;
  result.details.push(...ent.mismatches.slice(0, Math.max(0, maxDetails - result.details.length)));
  log(`verify: ${result.checked} values checked, ${result.mismatches} mismatches (seed ${seed})`);
  return result;
}

const iso = (ms: number) => new Date(ms).toISOString();
