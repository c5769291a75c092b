import { defineMetric } from './define-metric.ts';

/**
 * Tool checkouts (MYCPU.md report 4, tool lifespan), from the tool inventory API's `tool.out`
 * events (docs/sources.md row 8). Time checked out is `tool_use_ms` (metrics/tool-use.ts), from the
 * loader's out → in pairing.
 */
export const toolCheckouts = defineMetric({
  name: 'tool_checkouts',
  domain: 'quality',
  description: 'Times a tool was checked out of the crib, by tool.',
  eventTypes: ['tool.out'],
  dimensions: { tool: 'toolId' },
  aggregate: { kind: 'count' },
});

export const toolMetrics = [toolCheckouts] as const;
