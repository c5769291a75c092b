/** Alert thresholds (the MILLRACE_ALERT_* settings). */
export interface AlertThresholds {
  /** A zone's hottest reading of the last 15 minutes above this fires, °C. Default 40. */
  zoneMaxC: number;
  /** A flow station with no exits for this many minutes fires. Default 15. */
  noExitMinutes: number;
  /** A connector lagging its source by more than this (positions) fires. Default 10000. */
  connectorLag: number;
  /** A connector whose last checkpoint is older than this, seconds, fires. Default 300. */
  stallSeconds: number;
}

/** The defaults of app/config.ts. */
export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = Object.freeze({
  zoneMaxC: 40,
  noExitMinutes: 15,
  connectorLag: 10_000,
  stallSeconds: 300,
});

export type AlertRuleId = 'zone-temperature' | 'station-no-exits' | 'severity-1-repair' | 'connector';

export interface FiringAlert {
  /** Stable while the condition holds: rule, subject and condition (e.g. `connector|kafka|lag`). */
  id: string;
  rule: AlertRuleId;
  /** What fires: `zone A`, `station CUT`, `order R-1`, `connector machining`. */
  subject: string;
  message: string;
  /** When this server's evaluation first saw it firing, epoch ms. */
  since: number;
}

export interface AlertRuleState {
  rule: AlertRuleId;
  description: string;
  state: 'ok' | 'firing' | 'unavailable';
  /** Why the rule could not be evaluated (an error code), null otherwise. */
  error: string | null;
}

export interface AlertSnapshot {
  thresholds: AlertThresholds;
  alerts: FiringAlert[];
  rules: AlertRuleState[];
  evaluatedAt: number;
}

/** One message of the `alerts` subscription: the snapshot first, then one per evaluation that changed something. */
export interface AlertUpdate extends AlertSnapshot {
  kind: 'snapshot' | 'change';
  raised: FiringAlert[];
  cleared: FiringAlert[];
}

/** What a connector reports that the connector rule reads (ingest's ConnectorStatus has these fields). */
export interface ConnectorHealth {
  name: string;
  lag: number | null;
  lastCheckpointAt: number | null;
  lastError: string | null;
}

/** The alert rules of one server, shared by every request and subscription (resolvers see it in their context). */
export interface AlertFeed {
  /** The latest evaluation if it is younger than the evaluation interval, else a new one. */
  current(): Promise<AlertSnapshot>;
  /** A snapshot, then the changes of every evaluation (raised, cleared, rule states), until `return()`. */
  watch(): AsyncIterableIterator<AlertUpdate>;
  close(): void;
}
