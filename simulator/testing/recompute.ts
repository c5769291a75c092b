import type { TopicRecord } from '../../log/topic.ts';

/**
 * Test helper: the truth recomputed from what actually reached the topic, written independently of
 * `ledger-facts.ts` (its own parsing, its own copy of the spec's bounds) so a test comparing the two
 * cross-checks the ledger rather than repeating it.
 */
const SPEC_BOUNDS = [15_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000];

export interface ParsedEvent {
  eventId: string;
  kind: 'enter' | 'exit';
  partId: string;
  station: string;
  operator: string;
  at: number;
  errorCode: string | null;
  cycleTimeMs: number | null;
  nextStation: string | null;
}

/** A message as the ingest contract would read it; null for anything malformed. */
export function parseMessage(value: string): ParsedEvent | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(value) as Record<string, unknown>;
  } catch {
    return null;
  }
  const str = (x: unknown) => typeof x === 'string' && x.length > 0;
  if (!str(v.eventId) || !str(v.partId) || !str(v.station) || !str(v.machine) || !str(v.operator)) return null;
  if (v.kind !== 'enter' && v.kind !== 'exit') return null;
  if (typeof v.at !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v.at)) return null;
  const ct = v.cycleTimeMs;
  if (v.kind === 'exit' ? !Number.isInteger(ct) : ct !== null) return null;
  if (!(v.errorCode === null || str(v.errorCode)) || !(v.nextStation === null || str(v.nextStation))) return null;
  return {
    eventId: v.eventId as string,
    kind: v.kind,
    partId: v.partId as string,
    station: v.station as string,
    operator: v.operator as string,
    at: Date.parse(v.at),
    errorCode: v.errorCode as string | null,
    cycleTimeMs: ct as number | null,
    nextStation: v.nextStation as string | null,
  };
}

/** `fact|bucket|station|errorCode` → value, each eventId counted once, malformed skipped. */
export function recomputeFacts(records: readonly Pick<TopicRecord, 'value'>[], grainMs = 60_000): Map<string, number> {
  const seen = new Set<string>();
  const facts = new Map<string, number>();
  const add = (fact: string, at: number, station: string, errorCode: string | null, by: number) => {
    const key = `${fact}|${Math.floor(at / grainMs) * grainMs}|${station}|${errorCode ?? ''}`;
    facts.set(key, (facts.get(key) ?? 0) + by);
  };
  for (const r of records) {
    const e = parseMessage(r.value);
    if (!e || seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    if (e.kind === 'enter') {
      add('parts_entered', e.at, e.station, null, 1);
      continue;
    }
    add('parts_exited', e.at, e.station, null, 1);
    if (e.errorCode !== null) add('station_errors', e.at, e.station, e.errorCode, 1);
    const ct = e.cycleTimeMs!;
    add('cycle_time_count', e.at, e.station, null, 1);
    add('cycle_time_sum', e.at, e.station, null, ct);
    let bucket = SPEC_BOUNDS.length;
    for (let i = SPEC_BOUNDS.length - 1; i >= 0; i--) if (ct <= SPEC_BOUNDS[i]) bucket = i;
    add(`cycle_time_bucket_${bucket}`, e.at, e.station, null, 1);
    add('operator_task_ms', e.at, e.station, e.operator, ct);
  }
  return facts;
}

/** Ledger points in the same keyed form. */
export function keyed(
  points: ReadonlyArray<{ fact: string; bucket: number; station: string; errorCode: string | null; value: number }>,
): Map<string, number> {
  return new Map(points.map((p) => [`${p.fact}|${p.bucket}|${p.station}|${p.errorCode ?? ''}`, p.value]));
}
