import type { CompiledMetric } from './define-metric.ts';
import { ident } from '../lib/ident.ts';

/** A rollup grain: its name in the rollups table and its width (each a multiple of the first). */
export interface FoldGrain {
  name: string;
  ms: number;
}

/**
 * Batch side of a metric: ONE statement that folds the raw events of one partition's offset range
 * [$2, $3) into the rollups of every grain with a monoid upsert. The raw rows are scanned and
 * grouped once, at the finest grain (the first); coarser grains are re-grouped from that result
 * with the same monoid, so the cost is one scan of the new rows per metric, not one per grain.
 * Identifiers come from the definition (validated by defineMetric), values are parameters.
 * Parameters: $1 partition, $2 from offset (incl.), $3 to offset (excl.), $4 event types,
 * $5 the metric's `where` as JSON (only when it has one; see foldParams).
 */
export function compileFoldSql(metric: CompiledMetric, schema: string, grains: readonly FoldGrain[]): string {
  checkGrains(grains);
  const s = ident(schema);
  const source = `(SELECT type, event_time, payload FROM ${s}.raw_events WHERE partition = $1 AND log_offset >= $2 AND log_offset < $3)`;
  const ctes = metricCtes(metric, s, grains, 'm', source, '$4', '$5');
  return `WITH ${ctes.join(',\n')}\nSELECT 1`;
}

/**
 * Every metric in ONE statement: the new raw rows of the partition range are read once (a
 * materialised CTE) and every metric folds from that, into every grain. One scan and one round
 * trip per refresh step instead of one per metric.
 * Parameters: $1 partition, $2 from offset (incl.), $3 to offset (excl.), then `params()`'s extras.
 */
export function compileFoldAllSql(metrics: readonly CompiledMetric[], schema: string, grains: readonly FoldGrain[]) {
  checkGrains(grains);
  const s = ident(schema);
  const extra: unknown[] = [];
  const param = (v: unknown) => {
    extra.push(v);
    return `$${3 + extra.length}`;
  };
  const ctes = [
    `src AS MATERIALIZED (SELECT type, event_time, payload FROM ${s}.raw_events WHERE partition = $1 AND log_offset >= $2 AND log_offset < $3)`,
  ];
  metrics.forEach((m, i) => {
    const types = param(m.eventTypes);
    const where = m.where && Object.keys(m.where).length > 0 ? param(JSON.stringify(m.where)) : '$0';
    ctes.push(...metricCtes(m, s, grains, `m${i}`, 'src', types, where));
  });
  return {
    sql: `WITH ${ctes.join(',\n')}\nSELECT 1`,
    params: (p: number, from: number, to: number): unknown[] => [p, from, to, ...extra],
  };
}

function checkGrains(grains: readonly FoldGrain[]) {
  if (
    grains.length === 0 ||
    grains.some((g) => !Number.isInteger(g.ms) || g.ms % grains[0].ms !== 0 || !/^[a-z]+$/.test(g.name))
  ) {
    throw new Error('fold grains: integer widths, each a multiple of the first, lower-case names');
  }
}

/** The CTEs that fold one metric from `source` (rows of type, event_time, payload) into every grain. */
function metricCtes(
  metric: CompiledMetric,
  s: string,
  grains: readonly FoldGrain[],
  tag: string,
  source: string,
  typesParam: string,
  whereParam: string,
): string[] {
  const dims = metric.dimensionNames.map((d) => `coalesce(payload->>'${metric.dimensions[d]}', '')`);
  const agg = metric.aggregate;
  const v = 'field' in agg ? `(payload->>'${agg.field}')::bigint` : null;
  // Signed change events: every count becomes sum(sign), every sum sum(sign * v).
  const sign = metric.signField ? `(payload->>'${metric.signField}')::bigint` : null;
  // sum() over no rows is NULL (count() is 0), and NULL would poison every later monoid merge:
  // a histogram bucket no row of this fold falls into must be 0.
  const n = (cond?: string) =>
    sign
      ? `coalesce(sum(${sign})${cond ? ` FILTER (WHERE ${cond})` : ''}, 0)`
      : `count(*)${cond ? ` FILTER (WHERE ${cond})` : ''}`;
  const total = (x: string) => (sign ? `coalesce(sum(${sign} * ${x}), 0)` : `coalesce(sum(${x}), 0)`);
  let cells: string[];
  switch (agg.kind) {
    case 'count':
      cells = [n()];
      break;
    case 'sum':
      cells = [total(v!)];
      break;
    case 'min':
      cells = [`min(${v})`];
      break;
    case 'max':
      cells = [`max(${v})`];
      break;
    case 'histogram': {
      const b = agg.bounds;
      cells = [n(), total(v!)];
      b.forEach((bound, i) => {
        const lower = i === 0 ? '' : `${v} > ${b[i - 1]} AND `;
        cells.push(n(`${lower}${v} <= ${bound}`));
      });
      cells.push(n(`${v} > ${b[b.length - 1]}`));
      break;
    }
  }
  const filters = [`type = ANY(${typesParam}::text[])`];
  if (v) filters.push(`payload->>'${(agg as { field: string }).field}' IS NOT NULL`);
  if (metric.requireField) filters.push(`payload->>'${metric.requireField}' IS NOT NULL`);
  // Equality filters: the values are definition constants, passed as one jsonb parameter ($7).
  if (metric.where && Object.keys(metric.where).length > 0) filters.push(`payload @> ${whereParam}::jsonb`);
  const merge = metric.cellOps
    .map((op, i) => {
      const a = `r.cells[${i + 1}]`;
      const b = `excluded.cells[${i + 1}]`;
      return op === 'sum' ? `${a} + ${b}` : op === 'min' ? `least(${a}, ${b})` : `greatest(${a}, ${b})`;
    })
    .join(', ');
  const upsert = (grain: string, select: string) => `
    INSERT INTO ${s}.rollups AS r (metric, grain, bucket, dims, cells)
    SELECT '${metric.name}', '${grain}', ${select}
    ON CONFLICT (metric, grain, bucket, dims) DO UPDATE SET cells = ARRAY[${merge}]::bigint[]`;
  // Re-grouping cells of the finest grain into a coarser one: the same monoid, in SQL.
  const regroup = metric.cellOps.map((op, i) => `(${op === 'sum' ? 'sum' : op}(cells[${i + 1}]))::bigint`).join(', ');
  const [finest, ...coarser] = grains;
  return [
    `${tag}_fine AS (
      SELECT (event_time / ${finest.ms}::bigint) * ${finest.ms}::bigint AS bucket, ARRAY[${dims.join(', ')}]::text[] AS dims,
             ARRAY[${cells.map((c) => `(${c})::bigint`).join(', ')}] AS cells
      FROM ${source} AS src_rows
      WHERE ${filters.join(' AND ')}
      GROUP BY 1, 2)`,
    `${tag}_${finest.name} AS (${upsert(finest.name, `bucket, dims, cells FROM ${tag}_fine`)})`,
    ...coarser.map(
      (g) =>
        `${tag}_${g.name} AS (${upsert(g.name, `(bucket / ${g.ms}::bigint) * ${g.ms}::bigint, dims, ARRAY[${regroup}] FROM ${tag}_fine GROUP BY 3, 4`)})`,
    ),
  ];
}

/** Parameters of the fold SQL for one partition range and grain. */
export function foldParams(metric: CompiledMetric, p: number, from: number, to: number): unknown[] {
  const params: unknown[] = [p, from, to, metric.eventTypes];
  if (metric.where && Object.keys(metric.where).length > 0) params.push(JSON.stringify(metric.where));
  return params;
}
