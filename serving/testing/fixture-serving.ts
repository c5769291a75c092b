import { EventEmitter, once } from 'node:events';
import { MillraceError } from '../../lib/errors.ts';
import { allMetrics } from '../../metrics/index.ts';
import { parseShifts, type FactoryCalendar } from '../calendar.ts';
import {
  GRAIN_MS,
  type Delta,
  type DeltaItem,
  type EntityRow,
  type MetricInfo,
  type OpenPairing,
  type SeriesQuery,
  type SeriesResult,
  type Serving,
} from '../types.ts';

/** The factory calendar of the fixtures: UTC, shifts A 06:00, B 14:00, C 22:00. */
export const FIXTURE_CALENDAR: FactoryCalendar = {
  zone: 'UTC',
  shifts: parseShifts('A=06:00,B=14:00,C=22:00'),
  historyStart: Date.UTC(2000, 0, 1),
  maxBuckets: 5000,
};

/** A three-station floor for tests, as the ingested floor map's `station` entities hold it. */
export const FIXTURE_FLOOR = {
  stations: [
    {
      id: 'CUT',
      name: 'Cutting',
      zone: 'A',
      department: 'Machining',
      x: 10,
      y: 20,
      machines: ['CUT-1', 'CUT-2'],
      flowIndex: 0,
      idealCycleSec: 30,
    },
    {
      id: 'WELD',
      name: 'Welding',
      zone: 'A',
      department: 'Machining',
      x: 30,
      y: 20,
      machines: ['WELD-1'],
      flowIndex: 1,
      idealCycleSec: 60,
    },
    {
      id: 'PAINT',
      name: 'Painting',
      zone: 'B',
      department: 'Finishing',
      x: 50,
      y: 40,
      machines: ['PAINT-1'],
      flowIndex: 2,
      idealCycleSec: 45,
    },
  ],
};

/** A stored minute-grain state, as the layers would hold it. */
export interface FixtureRow {
  metric: string;
  /** Minute bucket start, epoch ms. */
  bucket: number;
  dims: Record<string, string>;
  cells: number[];
}

export interface FixtureServing extends Serving {
  /** Makes the next `series()` calls throw this (until cleared with null). */
  failWith(err: Error | null): void;
  /** Makes `series()` wait for `gate` before answering (a slow read; null = answer at once). */
  hold(gate: Promise<void> | null): void;
  /** Appends a delta with the next cursor ('1', '2', …) and wakes the feeds; returns it. */
  push(items: DeltaItem[]): Delta;
  /** Feeds currently iterating (opened and not yet ended by abort). */
  readonly openFeeds: number;
  /** Resolves once `cond()` holds, checked whenever a feed opens or ends; rejects at the deadline. */
  waitFor(cond: () => boolean, timeoutMs?: number): Promise<void>;
  /** Calls made to `series()`, for assertions. */
  readonly seriesCalls: SeriesQuery[];
  /** Calls made to `entities()` (entity kinds), for assertions. */
  readonly entityCalls: string[];
  /** Calls made to `openPairings()` (pairing names), for assertions. */
  readonly pairingCalls: string[];
}

/** An open pairing of the fixture (e.g. a tool out now). */
export interface FixturePairing extends OpenPairing {
  pairing: string;
}

/**
 * A deterministic in-memory `Serving` (our own interface, not an external service): series are
 * minute rows summed into grain buckets; deltas are a list with cursor semantics like the real
 * stream's (strictly after `after`; null = only new ones), ending when the signal aborts.
 */
export function createFixtureServing(
  rows: FixtureRow[],
  freshnessAsOf = Date.UTC(2026, 10, 22, 8),
  entityRows: EntityRow[] = FIXTURE_ENTITIES,
  pairings: FixturePairing[] = [],
): FixtureServing {
  const infos: MetricInfo[] = allMetrics.map((m) => ({
    name: m.name,
    domain: m.domain,
    description: m.description,
    dimensions: [...m.dimensionNames],
    personalDimensions: [...(m.personal ?? [])],
    aggregate: m.aggregate.kind,
    bounds: m.aggregate.kind === 'histogram' ? [...m.aggregate.bounds] : null,
    unit: m.unit ?? null,
  }));
  const log: Delta[] = [];
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let failure: Error | null = null;
  let gate: Promise<void> | null = null;
  let openFeeds = 0;
  const seriesCalls: SeriesQuery[] = [];
  const entityCalls: string[] = [];
  const pairingCalls: string[] = [];

  async function series(q: SeriesQuery): Promise<SeriesResult> {
    seriesCalls.push(q);
    if (gate) await gate;
    if (failure) throw failure;
    if (!infos.some((m) => m.name === q.metric))
      throw new MillraceError('BAD_USER_INPUT', `unknown metric ${q.metric}`);
    const kind = infos.find((m) => m.name === q.metric)!.aggregate;
    const merge = kind === 'max' ? Math.max : kind === 'min' ? Math.min : (a: number, b: number) => a + b;
    const g = GRAIN_MS[q.grain];
    const from = Math.floor(q.from / g) * g;
    const to = Math.ceil(q.to / g) * g;
    const acc = new Map<string, { bucket: number; dims: Record<string, string>; cells: number[] }>();
    for (const r of rows) {
      if (r.metric !== q.metric || r.bucket < from || r.bucket >= to) continue;
      if (Object.entries(q.where ?? {}).some(([d, v]) => r.dims[d] !== v)) continue;
      const bucket = Math.floor(r.bucket / g) * g;
      const key = JSON.stringify([bucket, r.dims]);
      const prev = acc.get(key);
      // Cells merge as the metric's aggregate does: a max (min) stays one, everything else adds up.
      if (prev) prev.cells = prev.cells.map((c, i) => merge(c, r.cells[i]));
      else acc.set(key, { bucket, dims: r.dims, cells: [...r.cells] });
    }
    const points = [...acc.values()].sort((a, b) => a.bucket - b.bucket).map((p) => ({ ...p, value: p.cells[0] }));
    const freshness = {
      asOf: freshnessAsOf,
      batchOffsets: [10, 20],
      batchWatermarkTime: freshnessAsOf - 60_000,
      batchRefreshedAt: freshnessAsOf - 30_000,
      speedOffsets: [12, 25],
      speedLagEvents: 3,
      speedAppliedAt: freshnessAsOf - 1_000,
      batchShare: 0.75,
      speedShare: 0.25,
    };
    return { metric: q.metric, grain: q.grain, from, to, points, freshness };
  }

  async function* deltas(opts: { after?: string | null; signal?: AbortSignal }): AsyncGenerator<Delta> {
    const signal = opts.signal ?? new AbortController().signal;
    let next = opts.after == null ? log.length : log.findIndex((d) => d.cursor === opts.after) + 1;
    if (opts.after != null && next === 0) throw new MillraceError('CURSOR_EXPIRED', `cursor ${opts.after} is unknown`);
    openFeeds++;
    events.emit('feeds');
    try {
      while (!signal.aborted) {
        if (next < log.length) {
          yield log[next++];
          continue;
        }
        // Waits for a push or the abort, whichever first; the abort ends the feed.
        await once(events, 'push', { signal }).catch(() => undefined);
      }
    } finally {
      openFeeds--;
      events.emit('feeds');
    }
  }

  return {
    series,
    deltas,
    metrics: () => infos,
    deadLetters: async ({ limit }) =>
      [
        {
          id: 1,
          connector: 'machining',
          source: 'kafka:mycpu.machining',
          position: 'mycpu.machining:0:7',
          reason: 'not JSON',
          raw: '{oops',
          createdAt: 0,
        },
      ].slice(0, limit),
    entities: async ({ entity, after, limit }) => {
      entityCalls.push(entity);
      return entityRows
        .filter((r) => r.entity === entity && (after == null || r.key > after))
        .sort((a, b) => a.key.localeCompare(b.key))
        .slice(0, limit);
    },
    lastCursor: async () => log.at(-1)?.cursor ?? null,
    // Rows, entities and pairings are fixed for a fixture's life; only pushed deltas move it.
    dataVersion: async () => `fixture:${log.length}`,
    openPairings: async (pairing) => {
      pairingCalls.push(pairing);
      return pairings
        .filter((p) => p.pairing === pairing)
        .map((p) => ({ key: p.key, startTime: p.startTime }))
        .sort((a, b) => a.key.localeCompare(b.key));
    },
    failWith: (err) => void (failure = err),
    hold: (g) => void (gate = g),
    push(items) {
      const n = log.length + 1;
      const delta: Delta = {
        cursor: String(n),
        partition: 0,
        fromOffset: n * 10,
        toOffset: n * 10 + 10,
        appliedAt: freshnessAsOf + n * 1000,
        maxEventTime: freshnessAsOf + n * 1000 - 500,
        items,
      };
      log.push(delta);
      events.emit('push');
      return delta;
    },
    get openFeeds() {
      return openFeeds;
    },
    async waitFor(cond, timeoutMs = 5000) {
      const deadline = AbortSignal.timeout(timeoutMs);
      while (!cond()) {
        try {
          await once(events, 'feeds', { signal: deadline });
        } catch {
          throw new Error(`fixture condition not met within ${timeoutMs} ms (open feeds: ${openFeeds})`);
        }
      }
    },
    seriesCalls,
    entityCalls,
    pairingCalls,
  };
}

/** The fixture's current-state entities: the floor's stations and one tool. */
export const FIXTURE_ENTITIES: EntityRow[] = [
  ...FIXTURE_FLOOR.stations.map((s) => ({ entity: 'station', key: s.id, version: '1', data: s, deleted: false })),
  { entity: 'tool', key: 'T001', version: '1', data: { type: 'drill' }, deleted: false },
];
