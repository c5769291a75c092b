import { defineMetric } from './define-metric.ts';

/** Cycle-time histogram bounds, ms. Part of the report spec (MYCPU.md, report 1). */
export const CYCLE_TIME_BOUNDS_MS = [15_000, 30_000, 45_000, 60_000, 90_000, 120_000, 180_000, 300_000] as const;

export const partsEntered = defineMetric({
  name: 'parts_entered',
  domain: 'production',
  description: 'Parts that entered a station (started work there).',
  eventTypes: ['machining.enter'],
  dimensions: { station: 'station' },
  aggregate: { kind: 'count' },
});

export const partsExited = defineMetric({
  name: 'parts_exited',
  domain: 'production',
  description: 'Parts that left a station (completed work there).',
  eventTypes: ['machining.exit'],
  dimensions: { station: 'station' },
  aggregate: { kind: 'count' },
});

export const stationErrors = defineMetric({
  name: 'station_errors',
  domain: 'production',
  description: 'Exits that reported an error code, by station and code.',
  eventTypes: ['machining.exit'],
  dimensions: { station: 'station', errorCode: 'errorCode' },
  requireField: 'errorCode',
  aggregate: { kind: 'count' },
});

export const cycleTime = defineMetric({
  name: 'cycle_time',
  domain: 'production',
  description: 'Cycle time of completed work per station (histogram, ms).',
  eventTypes: ['machining.exit'],
  dimensions: { station: 'station' },
  aggregate: { kind: 'histogram', field: 'cycleTimeMs', bounds: CYCLE_TIME_BOUNDS_MS },
  unit: 'ms',
});

export const productionMetrics = [partsEntered, partsExited, stationErrors, cycleTime] as const;
