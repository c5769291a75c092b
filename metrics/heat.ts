import { defineMetric } from './define-metric.ts';

/**
 * Zone temperatures (MYCPU.md report 3: live heat map of zone temperatures), from `heat.reading`
 * events. The mean is computed at query time as zone_temp_sum / zone_temp_count.
 */
export const zoneTempSum = defineMetric({
  name: 'zone_temp_sum',
  domain: 'energy',
  description: 'Sum of heat-sensor readings per zone (divide by zone_temp_count for the mean), centi-°C.',
  eventTypes: ['heat.reading'],
  dimensions: { zone: 'zone' },
  aggregate: { kind: 'sum', field: 'centiC' },
  unit: 'centi-°C',
});

export const zoneTempCount = defineMetric({
  name: 'zone_temp_count',
  domain: 'energy',
  description: 'Heat-sensor readings per zone.',
  eventTypes: ['heat.reading'],
  dimensions: { zone: 'zone' },
  aggregate: { kind: 'count' },
});

export const zoneTempMax = defineMetric({
  name: 'zone_temp_max',
  domain: 'energy',
  description: 'Hottest heat-sensor reading per zone, centi-°C.',
  eventTypes: ['heat.reading'],
  dimensions: { zone: 'zone' },
  aggregate: { kind: 'max', field: 'centiC' },
  unit: 'centi-°C',
});

export const heatMetrics = [zoneTempSum, zoneTempCount, zoneTempMax] as const;
