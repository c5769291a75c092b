import { defineMetric } from './define-metric.ts';

/**
 * Repair and purchase orders (MYCPU.md report 4, docs/sources.md §5), from the `order.change`
 * envelopes of the postgres-cdc connector. Each change says what it did (`becameCreated`,
 * `becameCompleted`), so plain counts and sums stay exact: a redelivered change keeps its id and is
 * dropped by the loader, a note-only update or a delete flags nothing. MTTR is computed at query
 * time as repair_duration_ms / repairs_completed (same dimensions, same buckets).
 */
export const ordersCreated = defineMetric({
  name: 'orders_created',
  domain: 'quality',
  description: 'Repair and purchase orders created (at requested_at), by kind and severity ("" for purchases).',
  eventTypes: ['order.change'],
  dimensions: { kind: 'kind', severity: 'severity' },
  where: { becameCreated: 'yes' },
  aggregate: { kind: 'count' },
});

export const repairsCompleted = defineMetric({
  name: 'repairs_completed',
  domain: 'quality',
  description: 'Repair orders completed (at completed_at), by severity.',
  eventTypes: ['order.change'],
  dimensions: { severity: 'severity' },
  where: { becameCompleted: 'yes' },
  aggregate: { kind: 'count' },
});

export const repairDuration = defineMetric({
  name: 'repair_duration_ms',
  domain: 'quality',
  description: 'Requested → completed time of completed repairs, ms, by severity; MTTR = this / repairs_completed.',
  eventTypes: ['order.change'],
  dimensions: { severity: 'severity' },
  where: { becameCompleted: 'yes' },
  aggregate: { kind: 'sum', field: 'durationMs' },
  unit: 'ms',
});

export const qualityMetrics = [ordersCreated, repairsCompleted, repairDuration] as const;
