/**
 * What the tool inventory API serves (docs/sources.md row 8): the current state of every tool and
 * the append-only movement history. The simulator's "database" for this source: in memory,
 * bounded — movements older than `retainMs` (simulated) before the newest one are dropped, and a
 * client asking for a dropped position is told so (HTTP 410), never silently skipped.
 */

/** A movement as the API serves it. Fields are `unknown` because a malformed one is served as is. */
export interface MovementItem {
  seq: number;
  toolId: unknown;
  action: unknown;
  holder: unknown;
  at: unknown;
}

export interface ToolState {
  toolId: string;
  status: 'in' | 'out';
  holder: string | null;
  /** ISO time of the tool's last movement (the start time when it never moved). */
  since: string;
}

export interface MovementPage {
  items: MovementItem[];
  /** Pass as `after` for the next page; null when this page reaches the newest movement. */
  next: number | null;
  latestSeq: number;
}

export interface ToolApiStoreOptions {
  toolIds: readonly string[];
  /** Every tool is 'in' since this time, epoch ms. */
  startTime: number;
  /** Seq of the first movement minus one. Default 0 (the writer passes its start time). */
  seqBase?: number;
  /** Simulated time movements are kept before the newest one, ms. Default 7 days. */
  retainMs?: number;
}

export interface ToolApiStore {
  /** Apply a real movement: the tool's state changes and the movement is appended. Returns its seq. */
  record(m: { toolId: string; action: 'out' | 'in'; holder: string; at: number }): number;
  /** Append a malformed movement (it occupies a seq, changes no tool). `atMs` orders its retention. */
  recordMalformed(item: Omit<MovementItem, 'seq'>, atMs: number): number;
  /** Movements with seq > after, at most `limit`; 'gone' when some of them were already dropped. */
  movements(after: number, limit: number): MovementPage | 'gone';
  tools(): ToolState[];
  readonly latestSeq: number;
  /** Time of the newest real movement (the start time before any), epoch ms. */
  readonly latestAt: number;
  /** Movements held in memory now. */
  readonly size: number;
}

export function createToolApiStore(opts: ToolApiStoreOptions): ToolApiStore {
  const retainMs = opts.retainMs ?? 7 * 24 * 3_600_000;
  const startIso = new Date(opts.startTime).toISOString();
  const tools = new Map<string, ToolState>(
    [...opts.toolIds].sort().map((id) => [id, { toolId: id, status: 'in', holder: null, since: startIso }]),
  );
  // Seqs are contiguous: items[i].seq = firstSeq + (i - head).
  let items: Array<{ item: MovementItem; atMs: number }> = [];
  let head = 0;
  let firstSeq = (opts.seqBase ?? 0) + 1;
  let latestSeq = firstSeq - 1;
  let latestAt = opts.startTime;
  let droppedThrough: number | null = null;

  function append(item: Omit<MovementItem, 'seq'>, atMs: number): number {
    const seq = ++latestSeq;
    items.push({ item: { seq, ...item }, atMs });
    while (head < items.length && items[head].atMs < atMs - retainMs) {
      droppedThrough = firstSeq++;
      head++;
    }
    if (head > 1_024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
    return seq;
  }

  return {
    record(m) {
      const tool = tools.get(m.toolId);
      if (!tool) throw new Error(`tool api store: unknown tool ${m.toolId}`);
      const at = new Date(m.at).toISOString();
      tools.set(m.toolId, {
        toolId: m.toolId,
        status: m.action,
        holder: m.action === 'out' ? m.holder : null,
        since: at,
      });
      latestAt = Math.max(latestAt, m.at);
      return append({ toolId: m.toolId, action: m.action, holder: m.holder, at }, m.at);
    },
    recordMalformed: (item, atMs) => append(item, atMs),
    movements(after, limit) {
      if (droppedThrough !== null && after < droppedThrough) return 'gone';
      const from = head + Math.max(0, after + 1 - firstSeq);
      const page = items.slice(from, from + limit).map((x) => x.item);
      const last = page.length > 0 ? page[page.length - 1].seq : null;
      return { items: page, next: last !== null && last < latestSeq ? last : null, latestSeq };
    },
    tools: () => [...tools.values()],
    get latestSeq() {
      return latestSeq;
    },
    get latestAt() {
      return latestAt;
    },
    get size() {
      return items.length - head;
    },
  };
}
