/**
 * A metric is defined once, as frozen data, and compiled twice: to batch SQL (`compile-sql.ts`)
 * and to a speed reducer (`compile-reducer.ts`). Only monoid aggregates, so any split of the
 * events into batch and speed parts merges back to the same numbers.
 */
export type Aggregate =
  | { kind: 'count' }
  | { kind: 'sum'; field: string }
  | { kind: 'min'; field: string }
  | { kind: 'max'; field: string }
  /** Fixed-bound histogram: cells are [count, sum, n(v ≤ b0), n(b0 < v ≤ b1), …, n(v > b_last)]. */
  | { kind: 'histogram'; field: string; bounds: readonly number[] };

export type CellOp = 'sum' | 'min' | 'max';

export interface MetricDefinition {
  /** Stable name: the key in rollups, slices, deltas and the ledger mapping. */
  readonly name: string;
  /** The subgraph domain that serves it. */
  readonly domain: 'production' | 'quality' | 'energy' | 'workforce';
  readonly description: string;
  /** Envelope `type` values this metric reads. */
  readonly eventTypes: readonly string[];
  /** Dimension name → payload field (string-valued; a missing value becomes ''). */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Only events whose payload field is non-null are counted (e.g. errors). */
  readonly requireField?: string;
  /** Only events whose payload fields equal these strings are counted (e.g. { kind: 'repair' }). */
  readonly where?: Readonly<Record<string, string>>;
  /**
   * Payload field holding +1 or -1: signed change events (an update retracts the old row and
   * asserts the new one). Only sum-type aggregates (count, sum, histogram) accept it.
   */
  readonly signField?: string;
  readonly aggregate: Aggregate;
  /** Unit of the measured field, for docs and the API ('ms', 'Wh', …). */
  readonly unit?: string;
  /**
   * Dimensions whose values are personal data (an employee id): the API shows them only in fields
   * that need pii:read. Default none.
   */
  readonly personal?: readonly string[];
}

export interface CompiledMetric extends MetricDefinition {
  readonly dimensionNames: readonly string[];
  /** One op per cell: how two states combine. */
  readonly cellOps: readonly CellOp[];
}

const NAME = /^[a-z][a-z0-9_]*$/;

export function defineMetric(def: MetricDefinition): CompiledMetric {
  if (!NAME.test(def.name)) throw new Error(`metric name ${JSON.stringify(def.name)} must match ${NAME}`);
  for (const [dim, field] of Object.entries(def.dimensions)) {
    if (!/^[a-z][A-Za-z0-9_]*$/.test(dim) || !/^[A-Za-z][A-Za-z0-9_]*$/.test(field)) {
      throw new Error(`metric ${def.name}: bad dimension ${dim} → ${field}`);
    }
  }
  const agg = def.aggregate;
  if ('field' in agg && !/^[A-Za-z][A-Za-z0-9_]*$/.test(agg.field)) throw new Error(`metric ${def.name}: bad field`);
  const FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;
  for (const f of [
    ...Object.keys(def.where ?? {}),
    ...(def.signField ? [def.signField] : []),
    ...(def.requireField ? [def.requireField] : []),
  ]) {
    if (!FIELD.test(f)) throw new Error(`metric ${def.name}: bad field ${JSON.stringify(f)}`);
  }
  for (const d of def.personal ?? [])
    if (!(d in def.dimensions)) throw new Error(`metric ${def.name}: personal ${JSON.stringify(d)} is not a dimension`);
  if (def.signField && (agg.kind === 'min' || agg.kind === 'max')) {
    throw new Error(
      `metric ${def.name}: a ${agg.kind} cannot take retractions; signed metrics need count, sum or histogram`,
    );
  }
  if (agg.kind === 'histogram') {
    const ok =
      agg.bounds.length > 0 && agg.bounds.every((b, i) => Number.isInteger(b) && (i === 0 || b > agg.bounds[i - 1]));
    if (!ok) throw new Error(`metric ${def.name}: histogram bounds must be increasing integers`);
  }
  return Object.freeze({
    ...def,
    eventTypes: Object.freeze([...def.eventTypes]),
    where: def.where ? Object.freeze({ ...def.where }) : undefined,
    dimensions: Object.freeze({ ...def.dimensions }),
    personal: Object.freeze([...(def.personal ?? [])]),
    dimensionNames: Object.freeze(Object.keys(def.dimensions)),
    cellOps: Object.freeze(cellOpsOf(agg)),
  });
}

export function cellOpsOf(agg: Aggregate): CellOp[] {
  switch (agg.kind) {
    case 'count':
    case 'sum':
      return ['sum'];
    case 'min':
      return ['min'];
    case 'max':
      return ['max'];
    case 'histogram':
      return Array.from({ length: agg.bounds.length + 3 }, () => 'sum' as const);
  }
}

/** Combine two values of one cell with its op (the monoid; the one JS copy of it). */
export function combineCell(op: CellOp, a: number, b: number): number {
  return op === 'sum' ? a + b : op === 'min' ? Math.min(a, b) : Math.max(a, b);
}

/** Combine two cell states with the metric's ops, into `a`. */
export function combineCells(ops: readonly CellOp[], a: number[], b: readonly number[]): number[] {
  for (let i = 0; i < ops.length; i++) a[i] = combineCell(ops[i], a[i], b[i]);
  return a;
}

/** The headline number of a state: count, sum, min or max; a histogram's count. */
export function primaryValue(agg: Aggregate, cells: readonly number[]): number {
  return cells[0];
}
