import type { Serving } from '../../serving/types.ts';
import type { FactoryCalendar } from '../../serving/calendar.ts';
import { createLoaders } from '../shared/loaders.ts';
import { orderFromEntity } from '../quality/orders.ts';
import { MillraceError } from '../../lib/errors.ts';
import type {
  AlertFeed,
  AlertRuleId,
  AlertRuleState,
  AlertSnapshot,
  AlertThresholds,
  AlertUpdate,
  ConnectorHealth,
  FiringAlert,
} from './alert-types.ts';

const MINUTE = 60_000;
/** The zone-temperature rule looks at the hottest reading of this window. */
const HEAT_WINDOW_MS = 15 * MINUTE;

/** Options of the alert engine. */
export interface AlertEngineOptions {
  serving: Serving;
  calendar: FactoryCalendar;
  thresholds: AlertThresholds;
  /** The connectors' status; null (or a null answer) when this process runs none: the connector rule is then UNAVAILABLE (NO_CONNECTORS). Default null. */
  connectors?: (() => Promise<ConnectorHealth[] | null>) | null;
  /** How often the rules are evaluated while someone subscribes, ms. Default 10000. */
  everyMs?: number;
  /** Where a rule's unexpected failure is reported. Default console.error. */
  log?: (line: string) => void;
}

type Hit = Omit<FiringAlert, 'since' | 'rule' | 'id'> & { condition: string };

/**
 * The alert rules, evaluated on the server on the serving layer's figures and the connectors'
 * status (not through GraphQL): a zone above its temperature limit, a flow station with no
 * exits, an open severity-1 repair, a connector lagging, stalled or failing. One engine per
 * subgraph server: evaluations run every `everyMs` while someone subscribes, and `since` is the
 * first evaluation that saw an alert firing. A rule that cannot be read is `unavailable` and
 * keeps its alerts as they were (unknown is not cleared).
 */
export function createAlertEngine(opts: AlertEngineOptions): AlertFeed {
  const everyMs = opts.everyMs ?? 10_000;
  const log = opts.log ?? ((line: string) => console.error(`[alerts] ${line}`));
  const t = opts.thresholds;
  const firing = new Map<string, FiringAlert>();
  const watchers = new Set<(u: AlertUpdate) => void>();
  const enders = new Set<() => void>();
  let last: AlertSnapshot | null = null;
  let running: Promise<AlertSnapshot> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const rules: Array<{ rule: AlertRuleId; description: string; run: (now: number) => Promise<Hit[]> }> = [
    {
      rule: 'zone-temperature',
      description: `a zone's hottest reading in the last 15 min above ${t.zoneMaxC} °C`,
      run: async (now) => {
        const r = await opts.serving.series({
          metric: 'zone_temp_max',
          grain: 'minute',
          from: now - HEAT_WINDOW_MS,
          to: now,
          deadline: now + everyMs,
        });
        const hottest = new Map<string, number>();
        for (const p of r.points) hottest.set(p.dims.zone, Math.max(hottest.get(p.dims.zone) ?? -Infinity, p.cells[0]));
        // Readings are centi-°C.
        return [...hottest]
          .filter(([, c]) => c / 100 > t.zoneMaxC)
          .map(([zone, c]) => ({
            subject: `zone ${zone}`,
            condition: 'hot',
            message: `${c / 100} °C > ${t.zoneMaxC} °C`,
          }));
      },
    },
    {
      rule: 'station-no-exits',
      description: `a flow station with no exits for ${t.noExitMinutes} min`,
      run: async (now) => {
        const loaders = createLoaders(opts.serving, opts.calendar);
        const [dir, exits] = await Promise.all([
          loaders.directory(),
          opts.serving.series({
            metric: 'parts_exited',
            grain: 'minute',
            from: now - t.noExitMinutes * MINUTE,
            to: now,
            deadline: now + everyMs,
          }),
        ]);
        const exited = new Map<string, number>();
        for (const p of exits.points) exited.set(p.dims.station, (exited.get(p.dims.station) ?? 0) + p.cells[0]);
        return dir.flow
          .filter((s) => !exited.get(s.id))
          .map((s) => ({
            subject: `station ${s.id}`,
            condition: 'idle',
            message: `no exits in the last ${t.noExitMinutes} min`,
          }));
      },
    },
    {
      rule: 'severity-1-repair',
      description: 'a severity-1 repair order is open',
      run: async () => {
        const rows = await createLoaders(opts.serving, opts.calendar).entities('order');
        return rows
          .map(orderFromEntity)
          .filter((o) => o !== null && o.kind === 'REPAIR' && o.severity === 1 && o.status !== 'COMPLETED')
          .map((o) => ({
            subject: `order ${o!.id}`,
            condition: 'open',
            message: `severity 1 on ${o!.subject}, open since ${new Date(o!.requestedAt).toISOString().slice(0, 16)}`,
          }));
      },
    },
    {
      rule: 'connector',
      description: `a connector lagging by more than ${t.connectorLag}, stalled for ${t.stallSeconds} s, or failing`,
      run: async (now) => {
        const list = opts.connectors ? await opts.connectors() : null;
        if (!list) throw new MillraceError('NO_CONNECTORS', 'this process runs no connectors');
        return list.flatMap((c) => {
          const out: Hit[] = [];
          const subject = `connector ${c.name}`;
          if (c.lag !== null && c.lag > t.connectorLag)
            out.push({ subject, condition: 'lag', message: `lag ${c.lag} > ${t.connectorLag}` });
          if (c.lastCheckpointAt !== null && now - c.lastCheckpointAt > t.stallSeconds * 1000)
            out.push({
              subject,
              condition: 'stalled',
              message: `no checkpoint for ${Math.round((now - c.lastCheckpointAt) / 1000)} s`,
            });
          if (c.lastError) out.push({ subject, condition: 'failing', message: `failing: ${c.lastError}` });
          return out;
        });
      },
    },
  ];

  async function evaluate(): Promise<AlertSnapshot> {
    const now = Date.now();
    const results = await Promise.all(
      rules.map(async (r) => {
        try {
          return { r, hits: await r.run(now), error: null };
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (typeof code !== 'string') log(`rule ${r.rule}: ${(err as Error)?.stack ?? String(err)}`);
          return { r, hits: null, error: typeof code === 'string' ? code : 'INTERNAL' };
        }
      }),
    );
    const raised: FiringAlert[] = [];
    const cleared: FiringAlert[] = [];
    const states: AlertRuleState[] = [];
    for (const { r, hits, error } of results) {
      if (hits) {
        const seen = new Set<string>();
        for (const h of hits) {
          const id = `${r.rule}|${h.subject}|${h.condition}`;
          seen.add(id);
          const prev = firing.get(id);
          const alert = { id, rule: r.rule, subject: h.subject, message: h.message, since: prev?.since ?? now };
          firing.set(id, alert);
          if (!prev) raised.push(alert);
        }
        for (const [id, a] of firing)
          if (a.rule === r.rule && !seen.has(id)) {
            firing.delete(id);
            cleared.push(a);
          }
      }
      const own = [...firing.values()].some((a) => a.rule === r.rule);
      states.push({
        rule: r.rule,
        description: r.description,
        state: error ? 'unavailable' : own ? 'firing' : 'ok',
        error,
      });
    }
    const rulesChanged = JSON.stringify(states) !== JSON.stringify(last?.rules);
    const snap: AlertSnapshot = {
      thresholds: t,
      alerts: [...firing.values()].sort((a, b) => a.since - b.since || a.id.localeCompare(b.id)),
      rules: states,
      evaluatedAt: now,
    };
    const first = last === null;
    last = snap;
    if (!first && (raised.length || cleared.length || rulesChanged))
      for (const w of watchers) w({ ...snap, kind: 'change', raised, cleared });
    return snap;
  }

  /** One evaluation at a time: callers arriving during one share it. */
  const evaluateOnce = () =>
    (running ??= evaluate().finally(() => {
      running = null;
    }));

  function schedule() {
    clearTimeout(timer);
    if (closed || watchers.size === 0) return;
    timer = setTimeout(() => void evaluateOnce().finally(schedule), everyMs);
  }

  return {
    async current() {
      if (last && Date.now() - last.evaluatedAt < everyMs) return last;
      return evaluateOnce();
    },
    watch: () => watchUpdates(),
    close() {
      closed = true;
      clearTimeout(timer);
      for (const end of [...enders]) end();
    },
  };

  /**
   * A hand-made iterator, not an async generator: a generator's `return()` waits for its pending
   * `next()`, so an unsubscribe would hang until the next change; here it ends at once.
   */
  function watchUpdates(): AsyncIterableIterator<AlertUpdate> {
    const queue: AlertUpdate[] = [];
    let waiting: ((r: IteratorResult<AlertUpdate>) => void) | null = null;
    let state: 'new' | 'open' | 'done' = 'new';
    const push = (u: AlertUpdate) => {
      if (waiting) {
        const w = waiting;
        waiting = null;
        w({ done: false, value: u });
      } else queue.push(u);
    };
    const end = async (): Promise<IteratorResult<AlertUpdate>> => {
      state = 'done';
      watchers.delete(push);
      enders.delete(end);
      if (watchers.size === 0) clearTimeout(timer);
      waiting?.({ done: true, value: undefined });
      waiting = null;
      return { done: true, value: undefined };
    };
    enders.add(end);
    return {
      async next() {
        if (state === 'done' || closed) return end();
        if (state === 'new') {
          // The snapshot is the latest evaluation (a new one when nobody watches), and the watcher
          // is registered in the same turn, so every later change is relative to it.
          const snap = watchers.size > 0 && last ? last : await evaluateOnce();
          if (state !== 'new' || closed) return end();
          state = 'open';
          watchers.add(push);
          if (watchers.size === 1) schedule();
          return { done: false, value: { ...snap, kind: 'snapshot', raised: [], cleared: [] } };
        }
        if (queue.length) return { done: false, value: queue.shift()! };
        return new Promise((resolve) => (waiting = resolve));
      },
      return: end,
      async throw(err: unknown) {
        await end();
        throw err;
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
