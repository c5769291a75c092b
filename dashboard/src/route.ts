import type { Grain } from './gql/graphql.ts';

export const VIEWS = ['production', 'workforce', 'energy', 'quality', 'operations', 'alerts'] as const;
export type View = (typeof VIEWS)[number];

/** Relative ranges the picker offers, from the last minutes to a year. */
export const PRESETS = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '8h': 8 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  '365d': 365 * 86_400_000,
} as const;
export type Preset = keyof typeof PRESETS;

/**
 * What the URL says: `#/<view>?range=24h` (relative: ends now and follows the clock) or
 * `#/<view>?from=<ISO>&to=<ISO>` (absolute: a shared link shows the same figures tomorrow).
 */
export interface Route {
  view: View;
  preset: Preset | null;
  from: string | null;
  to: string | null;
}

export const DEFAULT_ROUTE: Route = { view: 'production', preset: '24h', from: null, to: null };

export function parseRoute(hash: string): Route {
  const [path, qs = ''] = hash.replace(/^#\/?/, '').split('?');
  const view = (VIEWS as readonly string[]).includes(path) ? (path as View) : DEFAULT_ROUTE.view;
  const q = new URLSearchParams(qs);
  const from = q.get('from');
  const to = q.get('to');
  if (
    from &&
    to &&
    !Number.isNaN(Date.parse(from)) &&
    !Number.isNaN(Date.parse(to)) &&
    Date.parse(from) < Date.parse(to)
  ) {
    return { view, preset: null, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  }
  const range = q.get('range');
  return { view, preset: range && range in PRESETS ? (range as Preset) : DEFAULT_ROUTE.preset, from: null, to: null };
}

export function formatRoute(r: Route): string {
  const q = r.preset ? `range=${r.preset}` : `from=${r.from}&to=${r.to}`;
  return `#/${r.view}?${q}`;
}

/** The concrete window of a route now; `live` when its end follows the clock. */
export interface Window {
  from: string;
  to: string;
  grain: Grain;
  /** Grain of the "totals by day/shift" table. */
  periodGrain: Grain;
  live: boolean;
  ms: number;
}

export function windowOf(r: Route, now = Date.now()): Window {
  // Relative windows end at the next whole minute, so figures do not shift between two reads of one minute.
  const end = r.preset ? Math.ceil(now / 60_000) * 60_000 : Date.parse(r.to!);
  const start = r.preset ? end - PRESETS[r.preset] : Date.parse(r.from!);
  const ms = end - start;
  return {
    from: new Date(start).toISOString(),
    to: new Date(end).toISOString(),
    grain: grainFor(ms),
    periodGrain: ms <= 14 * 86_400_000 ? 'SHIFT' : 'DAY',
    live: r.preset !== null,
    ms,
  };
}

/** A chart grain giving at most a few hundred points. */
export function grainFor(ms: number): Grain {
  if (ms <= 3 * 3_600_000) return 'MINUTE';
  if (ms <= 4 * 86_400_000) return 'HOUR';
  if (ms <= 120 * 86_400_000) return 'DAY';
  return 'WEEK';
}
