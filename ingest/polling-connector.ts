import { createLoop } from '../lib/loop.ts';
import { stateTotals } from './checkpoints.ts';
import { createConnectorHealth } from './connector-health.ts';
import type { Connector, ConnectorContext, ConnectorStatus } from './define-connector.ts';

/** Options of {@link createPollingConnector}. */
export interface PollingConnectorOptions {
  kind: string;
  ctx: ConnectorContext;
  /** Pause between passes when caught up, and after a failed pass, ms. */
  pollMs: number;
  /** One pass over the source (publish, then checkpoint); resolves `true` when more is ready now. */
  tick: () => Promise<boolean>;
  /** Where the source stands for `status()`: lag, and position and end per source partition (same units). */
  position: (totals: {
    events: number;
    deadLetters: number;
  }) => Promise<Pick<ConnectorStatus, 'lag' | 'positions' | 'sourceEnd'>>;
  /** After a failed pass, before the retry: drop what was cached, so the saved state is read again. */
  onFailure?: () => void;
  /**
   * How a failure reads in `status().lastError`, and whether it goes to `ctx.onError` (e.g. an
   * open circuit is reported when it opens, not on every poll). Default: its message, reported.
   */
  describeError?: (err: unknown, previous: string | null) => { text: string; report: boolean };
  /** Before the first pass (open the source's client). */
  open?: () => void | Promise<void>;
  /** When `stop()` begins, before waiting for the pass under way (abort requests in flight). */
  interrupt?: () => void;
  /** After the last pass (close the source's client). */
  close?: () => Promise<void>;
}

/**
 * The lifecycle every polling connector shares (files, SQL, REST): one loop (lib/loop.ts) runs
 * `tick`; a failed pass is recorded as `lastError`, reported and retried from the saved state; a
 * stop waits for the pass under way; `status()` adds the saved totals to the source's position.
 */
export function createPollingConnector(o: PollingConnectorOptions): Connector {
  const { ctx } = o;
  // lastError, failingSince and running/retrying/stalled: what status, /healthz and the gauges read.
  const health = createConnectorHealth({ stallAfterMs: ctx.stallAfterMs });
  let stopping = false;
  let closed = false;
  const loop = createLoop({
    intervalMs: o.pollMs,
    tick: async () => {
      const more = await o.tick();
      health.ok();
      return more;
    },
    onError: (err) => {
      o.onFailure?.();
      if (stopping) return; // interrupted by stop(): not a source failure
      const d = o.describeError?.(err, health.snapshot().lastError) ?? {
        text: (err as Error)?.message ?? String(err),
        report: true,
      };
      health.fail(d.text);
      if (d.report) ctx.onError(err);
    },
  });
  return {
    name: ctx.name,
    kind: o.kind,
    async start() {
      if (loop.running) return;
      stopping = false;
      closed = false;
      await o.open?.();
      loop.start();
    },
    async stop() {
      stopping = true;
      o.interrupt?.();
      await loop.stop();
      if (closed) return; // stopped twice: the source's client is closed once
      closed = true;
      await o.close?.();
    },
    async status(): Promise<ConnectorStatus> {
      const t = await stateTotals(ctx.pool, ctx.schema, ctx.name);
      const p = await o.position(t);
      return {
        name: ctx.name,
        kind: o.kind,
        events: t.events,
        deadLetters: t.deadLetters,
        lastCheckpointAt: t.lastCheckpointAt,
        ...health.snapshot(),
        ...p,
      };
    },
  };
}
