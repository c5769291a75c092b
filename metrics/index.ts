import type { CompiledMetric } from './define-metric.ts';
import { productionMetrics } from './production.ts';

/** Every defined metric, by name. */
export const allMetrics: readonly CompiledMetric[] = [...productionMetrics];

export function metricByName(name: string): CompiledMetric | undefined {
  return allMetrics.find((m) => m.name === name);
}
