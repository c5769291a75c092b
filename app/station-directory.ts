import type { Serving } from '../serving/types.ts';
import type { FloorMap, FloorStation } from '../resolvers/context.ts';

/** Options of {@link createStationDirectory}. */
export interface StationDirectoryOptions {
  serving: Serving;
  /** How long a read list of stations is reused, ms. Default 1000. */
  maxAgeMs?: number;
  /** Entity name of stations in the current-state table. Default 'station'. */
  entity?: string;
}

const PAGE = 500;

/** An ingested station record → the API's station (numbers may arrive as text from CSV sources). */
function toStation(key: string, data: unknown): FloorStation | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return { ...(d as object), id: text(d.id ?? key), name: text(d.name), zone: text(d.zone), department: text(d.department), x: Number(d.x ?? 0), y: Number(d.y ?? 0) } as FloorStation;
}

/** Flow order (flowIndex; stations outside the flow after the others), then id. */
function byFlow(a: FloorStation, b: FloorStation): number {
  const fa = (a as { flowIndex?: number | null }).flowIndex ?? Number.POSITIVE_INFINITY;
  const fb = (b as { flowIndex?: number | null }).flowIndex ?? Number.POSITIVE_INFINITY;
  return fa !== fb ? fa - fb : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The floor as the plant's ingested data describes it: the current `station` entities (from the
 * floor-map source, or any source mapped to that entity), not a file of the simulator's. Read
 * through the serving layer on demand and reused for `maxAgeMs`, so stations that arrive after
 * start-up are known within a second; concurrent callers share one read.
 */
export function createStationDirectory(opts: StationDirectoryOptions): () => Promise<FloorMap> {
  const maxAge = opts.maxAgeMs ?? 1000;
  const entity = opts.entity ?? 'station';
  let cached: { at: number; floor: FloorMap } | null = null;
  let reading: Promise<FloorMap> | null = null;
  async function read(): Promise<FloorMap> {
    const stations: FloorStation[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await opts.serving.entities({ entity, limit: PAGE, after });
      for (const row of page) {
        const s = row.deleted ? null : toStation(row.key, row.data);
        if (s) stations.push(s);
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1].key;
    }
    stations.sort(byFlow);
    return { stations };
  }
  return async () => {
    if (cached && Date.now() - cached.at < maxAge) return cached.floor;
    reading ??= read()
      .then((floor) => ((cached = { at: Date.now(), floor }), floor))
      .finally(() => (reading = null));
    return reading;
  };
}
