import { defineMetric } from './define-metric.ts';

/** Energy per machine (MYCPU.md, report 3): the meters' interval readings of the daily energy report. */
export const energyWh = defineMetric({
  name: 'energy_wh',
  domain: 'energy',
  description: 'Energy consumed per machine, Wh, from the energy report (one reading per machine per minute).',
  eventTypes: ['energy.reading'],
  dimensions: { machine: 'machineId' },
  aggregate: { kind: 'sum', field: 'wh' },
  unit: 'Wh',
});

export const energyMetrics = [energyWh] as const;
