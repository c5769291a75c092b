import { defineMetric } from './define-metric.ts';

/** Tool use, from the loader's out→in pairing (derived `tool.used` events, loader/state.ts). */
export const toolUseMs = defineMetric({
  name: 'tool_use_ms',
  domain: 'quality',
  description: 'Time tools spent checked out (out → in), by tool; lifespan actual = its running sum.',
  eventTypes: ['tool.used'],
  dimensions: { tool: 'toolId' },
  aggregate: { kind: 'sum', field: 'durationMs' },
  unit: 'ms',
});
