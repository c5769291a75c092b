/** The parts of `GET /status` (app/status.ts) the dashboard reads; every field may be absent. */
export interface StatusDoc {
  mode?: Record<string, string>;
  modules?: Record<string, boolean>;
  connectors?: {
    name: string;
    kind: string;
    events: number;
    deadLetters: number;
    lag: number | null;
    lastCheckpointAt: number | null;
    lastError: string | null;
  }[];
  loader?: { offsets: number[] };
  batch?: { offsets: number[]; refreshedAt: number | null; maxEventTime: number | null };
  speed?: { offsets: (number | null)[] };
  log?: { name?: string; endOffsets: number[] };
  deadLetters?: Record<string, number>;
}

const sum = (xs: (number | null)[] | undefined) => (xs ?? []).reduce<number>((a, b) => a + (b ?? 0), 0);

/** How far each layer is behind the log's end, in events (summed over partitions). */
export function layerLag(s: StatusDoc): { layer: string; offsets: number; behind: number | null }[] {
  const end = s.log ? sum(s.log.endOffsets) : null;
  const layers: [string, (number | null)[] | undefined][] = [
    ['loader', s.loader?.offsets],
    ['speed', s.speed?.offsets],
    ['batch', s.batch?.offsets],
  ];
  return [
    ...(s.log ? [{ layer: 'log', offsets: sum(s.log.endOffsets), behind: 0 }] : []),
    ...layers
      .filter(([, o]) => o)
      .map(([layer, o]) => ({ layer, offsets: sum(o), behind: end === null ? null : end - sum(o) })),
  ];
}
