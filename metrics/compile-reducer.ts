import { combineCells, type CompiledMetric } from './define-metric.ts';
import { SEP, parseStateKey, stateKey } from './cell-key.ts';

export { SEP };

/** The part of an event a reducer reads: the same fields the batch SQL reads from `raw_events`. */
export interface ReducibleEvent {
  type: string;
  eventTime: number;
  payload: Record<string, unknown>;
}

export type Reducer = (event: ReducibleEvent, into: Map<string, number[]>) => void;

const dimValue = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/**
 * Speed side of a metric: folds one event into a map keyed `bucket␟dim1␟dim2…` holding the cells,
 * at `grainMs` (the speed layer keeps minutes). Mirrors compile-sql.ts exactly; the property test
 * (`metrics.property.test.ts`) holds them to the same numbers.
 */
export function compileReducer(metric: CompiledMetric, grainMs: number): Reducer {
  const types = new Set(metric.eventTypes);
  const dimFields = metric.dimensionNames.map((d) => metric.dimensions[d]);
  const agg = metric.aggregate;
  const field = 'field' in agg ? agg.field : null;
  const required = metric.requireField;
  const where = Object.entries(metric.where ?? {});
  const signField = metric.signField;
  const bounds = agg.kind === 'histogram' ? agg.bounds : [];
  return (event, into) => {
    if (!types.has(event.type)) return;
    if (required && (event.payload[required] === null || event.payload[required] === undefined)) return;
    if (where.some(([f, v]) => event.payload[f] !== v)) return;
    const sign = signField ? Number(event.payload[signField]) : 1;
    let v = 0;
    if (field) {
      const raw = event.payload[field];
      if (raw === null || raw === undefined) return;
      v = Number(raw);
    }
    const bucket = Math.floor(event.eventTime / grainMs) * grainMs;
    const key = stateKey(
      bucket,
      dimFields.map((f) => dimValue(event.payload[f])),
    );
    let cells: number[];
    switch (agg.kind) {
      case 'count':
        cells = [sign];
        break;
      case 'sum':
        // `+ 0` turns a retraction of 0 (-0 in JS) into the 0 Postgres stores.
        cells = [sign * v + 0];
        break;
      case 'min':
      case 'max':
        cells = [v];
        break;
      case 'histogram': {
        cells = new Array(bounds.length + 3).fill(0);
        cells[0] = sign;
        cells[1] = sign * v + 0;
        let i = bounds.findIndex((b) => v <= b);
        if (i < 0) i = bounds.length;
        cells[2 + i] = sign;
        break;
      }
    }
    const prev = into.get(key);
    if (prev) combineCells(metric.cellOps, prev, cells);
    else into.set(key, cells);
  };
}

/** Split a state key back into its bucket and dimension values. */
export function parseKey(metric: CompiledMetric, key: string): { bucket: number; dims: Record<string, string> } {
  const parsed = parseStateKey(key);
  const dims: Record<string, string> = {};
  metric.dimensionNames.forEach((d, i) => (dims[d] = parsed.dims[i] ?? ''));
  return { bucket: parsed.bucket, dims };
}
