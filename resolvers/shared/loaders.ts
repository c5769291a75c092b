import DataLoader from 'dataloader';
import type { EntityRow, OpenPairing, Serving } from '../../serving/types.ts';
import type { CalendarGrain } from '../../serving/calendar.ts';
import { readCalendarSeries, type CalendarResult } from '../../serving/calendar-series.ts';
import type { FactoryCalendar } from '../../serving/calendar.ts';
import { createDirectory, type Directory } from './directory.ts';

/** One metric read: over calendar buckets (`grain`) or the whole range (`grain: null`). */
export interface ReadKey {
  metric: string;
  from: number;
  to: number;
  grain: CalendarGrain | null;
  zone: string;
  /** `in` filters per dimension. */
  where?: Record<string, string[]>;
  /** Most buckets (default: the calendar's `maxBuckets`); internal reads such as availability's hours may need more. */
  maxBuckets?: number;
}

/** Most entity rows of one kind a request reads (reference data: stations, tools, orders). */
const MAX_ENTITIES = 100_000;
const PAGE = 10_000;

/**
 * Per-request loaders (dataloader): every station field of a 14-station query asks for the same
 * read, and the loader turns those 14 asks into one serving read; the directory and entity lists
 * are read once per request. A new set is made for every request, so nothing is cached across
 * requests (answers stay as fresh as the layers).
 */
export function createLoaders(serving: Serving, calendar: FactoryCalendar) {
  const reads = new DataLoader<ReadKey, CalendarResult, string>(
    (keys) =>
      Promise.all(
        keys.map((k) =>
          readCalendarSeries(serving, {
            ...k,
            shifts: calendar.shifts,
            maxBuckets: k.maxBuckets ?? calendar.maxBuckets,
          }).catch((err: unknown) => err as Error),
        ),
      ),
    {
      cacheKeyFn: (k) =>
        JSON.stringify([k.metric, k.from, k.to, k.grain, k.zone, k.where ?? null, k.maxBuckets ?? null]),
    },
  );
  const entities = new DataLoader<string, EntityRow[]>((kinds) =>
    Promise.all(kinds.map((kind) => readAllEntities(serving, kind).catch((err: unknown) => err as Error))),
  );
  let directory: Promise<Directory> | null = null;
  const pairings = new Map<string, Promise<OpenPairing[]>>();
  // One clock per request: stock figures "until now" of many fields then share one read.
  const now = Date.now();
  return {
    /** A metric over calendar buckets or the whole range, read once per request per key. */
    read: (key: ReadKey) => reads.load(key),
    /** Every current entity of a kind (key order), read once per request. */
    entities: (kind: string) => entities.load(kind),
    /** The floor from the ingested `station` entities. */
    directory: () => (directory ??= entities.load('station').then(createDirectory)),
    /** Open pairings of one kind (e.g. tools out now), read once per request. */
    openPairings: (name: string) => pairings.get(name) ?? pairings.set(name, serving.openPairings(name)).get(name)!,
    /** The request's `now`, epoch ms (the same for every field of the request). */
    now: () => now,
  };
}

export type RequestLoaders = ReturnType<typeof createLoaders>;

async function readAllEntities(serving: Serving, kind: string): Promise<EntityRow[]> {
  const out: EntityRow[] = [];
  let after: string | null = null;
  while (out.length < MAX_ENTITIES) {
    const page = await serving.entities({ entity: kind, limit: PAGE, after });
    out.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1].key;
  }
  return out;
}
