/** How a connector is doing: `running`, `retrying` (its last attempt failed), or `stalled` (failing for long). */
export type ConnectorState = 'running' | 'retrying' | 'stalled';

export interface ConnectorHealthOptions {
  /** Failing without a success for this long makes the connector `stalled`. Default 30 000 ms. */
  stallAfterMs?: number;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

export interface ConnectorHealthSnapshot {
  state: ConnectorState;
  lastError: string | null;
  /** When the current run of failures began (epoch ms), null while it succeeds. */
  failingSince: number | null;
}

export interface ConnectorHealth {
  /** An attempt (a batch, a pass, a fetch) succeeded: the failure run is over. */
  ok(): void;
  /** An attempt failed; the first failure of a run starts the stall clock. */
  fail(err: unknown): void;
  snapshot(): ConnectorHealthSnapshot;
}

/**
 * The one place a connector's progress problems become visible: `lastError` says why, `state`
 * says whether it is only retrying or stuck (`status`, `/healthz`, the Prometheus gauges read it).
 */
export function createConnectorHealth(opts: ConnectorHealthOptions = {}): ConnectorHealth {
  const stallAfterMs = opts.stallAfterMs ?? 30_000;
  const now = opts.now ?? Date.now;
  let lastError: string | null = null;
  let failingSince: number | null = null;
  return {
    ok() {
      lastError = null;
      failingSince = null;
    },
    fail(err) {
      lastError = err instanceof Error ? err.message : String(err);
      failingSince ??= now();
    },
    snapshot() {
      const state: ConnectorState =
        failingSince === null ? 'running' : now() - failingSince >= stallAfterMs ? 'stalled' : 'retrying';
      return { state, lastError, failingSince };
    },
  };
}
