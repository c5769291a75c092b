import type { CompiledMetric } from './define-metric.ts';
import { productionMetrics } from './production.ts';
import { heatMetrics } from './heat.ts';
import { energyMetrics } from './energy.ts';
import { workforceMetrics } from './workforce.ts';
import { toolMetrics } from './tools.ts';
import { toolUseMs } from './tool-use.ts';
import { qualityMetrics } from './quality.ts';

/** Every defined metric, by name. */
export const allMetrics: readonly CompiledMetric[] = [
  ...productionMetrics,
  ...heatMetrics,
  ...energyMetrics,
  ...workforceMetrics,
  ...toolMetrics,
  toolUseMs,
  ...qualityMetrics,
];

export function metricByName(name: string): CompiledMetric | undefined {
  return allMetrics.find((m) => m.name === name);
}
