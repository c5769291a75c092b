/** The parts of a status document (app/status.ts `collectStatus`) the table shows. */
export interface StatusTableInput {
  mode?: Record<string, string>;
  modules?: Record<string, boolean>;
  connectors?: Array<{
    name: string;
    kind: string;
    events: number;
    deadLetters: number;
    lag: number | null;
    lastCheckpointAt: number | null;
    lastError: string | null;
    state?: string;
  }>;
  log?: { name?: string; endOffsets: number[] };
  loader?: { offsets: number[] };
  /** appliers.holders: per partition, the `application_name` of the speed applier working it (null: none). */
  speed?: { offsets: Array<number | null>; appliers?: { members: number; holders: Array<string | null> } };
  batch?: { offsets: number[]; refreshedAt?: number | null; maxEventTime?: number | null };
}

/** Columns padded to their widest cell; columns of numbers (and — for none) right-aligned. */
function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const width = header.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const right = header.map(
    (_, i) => rows.some((r) => typeof r[i] === 'number') && rows.every((r) => typeof r[i] === 'number' || r[i] === '—'),
  );
  return cells
    .map((r) =>
      r
        .map((c, i) => (right[i] ? c.padStart(width[i]) : c.padEnd(width[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function ago(t: number | null | undefined, now: number): string {
  if (!t) return '—';
  const s = Math.max(0, (now - t) / 1000);
  return s < 60
    ? `${s.toFixed(1)} s ago`
    : s < 3600
      ? `${(s / 60).toFixed(1)} min ago`
      : `${(s / 3600).toFixed(1)} h ago`;
}

/**
 * `millrace status` for a person: mode and modules, one row per connector (events, dead letters,
 * lag, last checkpoint, last error) and one per log partition (log end, loaded, speed, batch).
 * `--json` prints the document itself.
 */
export function formatStatusTable(s: StatusTableInput, now = Date.now()): string {
  const out: string[] = [];
  if (s.mode)
    out.push(
      `mode: ${Object.entries(s.mode)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  if (s.modules) {
    const down = Object.entries(s.modules)
      .filter(([, ok]) => !ok)
      .map(([m]) => m);
    const n = Object.keys(s.modules).length;
    out.push(`modules: ${n - down.length}/${n} ready${down.length ? ` (not ready: ${down.join(', ')})` : ''}`);
  }
  if (s.connectors?.length) {
    out.push(
      '',
      table(
        ['connector', 'kind', 'state', 'events', 'dead letters', 'lag', 'checkpoint', 'last error'],
        // state: running / retrying / stalled (failing for MILLRACE_STALL_MS: see `connectors skip`).
        s.connectors.map((k) => [
          k.name,
          k.kind,
          k.state ?? '—',
          k.events,
          k.deadLetters,
          k.lag ?? '—',
          ago(k.lastCheckpointAt, now),
          k.lastError ?? '—',
        ]),
      ),
    );
  }
  const parts = Math.max(
    s.log?.endOffsets.length ?? 0,
    s.loader?.offsets.length ?? 0,
    s.speed?.offsets.length ?? 0,
    s.batch?.offsets.length ?? 0,
  );
  if (parts > 0) {
    const at = (xs: Array<number | string | null> | undefined, p: number) => xs?.[p] ?? '—';
    const holders = s.speed?.appliers?.holders;
    out.push(
      '',
      table(
        ['partition', 'log end', 'loaded', 'speed', 'batch', ...(holders ? ['speed applier'] : [])],
        Array.from({ length: parts }, (_, p) => [
          p,
          at(s.log?.endOffsets, p),
          at(s.loader?.offsets, p),
          at(s.speed?.offsets, p),
          at(s.batch?.offsets, p),
          ...(holders ? [at(holders, p)] : []),
        ]),
      ),
    );
  }
  if (s.batch) {
    const newest = s.batch.maxEventTime ? new Date(s.batch.maxEventTime).toISOString() : '—';
    out.push('', `batch: refreshed ${ago(s.batch.refreshedAt, now)}, newest event folded ${newest}`);
  }
  return out.join('\n');
}
