import type { CompiledMetric } from './define-metric.ts';
import { ident } from '../lib/ident.ts';

/**
 * Batch side of a metric: one INSERT … SELECT per grain that folds the raw events of one
 * partition's offset range [$2, $3) into the rollups with a monoid upsert. Identifiers come from
 * the definition (validated by defineMetric), values are parameters.
 * Parameters: $1 partition, $2 from offset (incl.), $3 to offset (excl.), $4 event types, $5 grain ms,
 * $6 grain name, $7 the metric's `where` as JSON (only when it has one; see foldParams).
 */
export function compileFoldSql(metric: CompiledMetric, schema: string): string {
  const s = ident(schema);
  const dims = metric.dimensionNames.map((d) => `coalesce(payload->>'${metric.dimensions[d]}', '')`);
  const agg = metric.aggregate;
  const v = 'field' in agg ? `(payload->>'${agg.field}')::bigint` : null;
  // Signed change events: every count becomes sum(sign), every sum sum(sign * v).
  const sign = metric.signField ? `(payload->>'${metric.signField}')::bigint` : null;
  // sum() over no rows is NULL (count() is 0), and NULL would poison every later monoid merge:
  // a histogram bucket no row of this fold falls into must be 0.
  const n = (cond?: string) =>
    sign ? `coalesce(sum(${sign})${cond ? ` FILTER (WHERE ${cond})` : ''}, 0)` : `count(*)${cond ? ` FILTER (WHERE ${cond})` : ''}`;
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
  const filters = [`partition = $1`, `log_offset >= $2`, `log_offset < $3`, `type = ANY($4::text[])`];
  if (v) filters.push(`payload->>'${(agg as { field: string }).field}' IS NOT NULL`);
  if (metric.requireField) filters.push(`payload->>'${metric.requireField}' IS NOT NULL`);
  // Equality filters: the values are definition constants, passed as one jsonb parameter ($7).
  if (metric.where && Object.keys(metric.where).length > 0) filters.push(`payload @> $7::jsonb`);
  const merge = metric.cellOps
    .map((op, i) => {
      const a = `r.cells[${i + 1}]`;
      const b = `excluded.cells[${i + 1}]`;
      return op === 'sum' ? `${a} + ${b}` : op === 'min' ? `least(${a}, ${b})` : `greatest(${a}, ${b})`;
    })
    .join(', ');
  return `
    INSERT INTO ${s}.rollups AS r (metric, grain, bucket, dims, cells)
    SELECT '${metric.name}', $6::text, (event_time / $5::bigint) * $5::bigint, ARRAY[${dims.join(', ')}]::text[],
           ARRAY[${cells.map((c) => `(${c})::bigint`).join(', ')}]
    FROM ${s}.raw_events
    WHERE ${filters.join(' AND ')}
    GROUP BY 3, 4
    ON CONFLICT (metric, grain, bucket, dims) DO UPDATE SET cells = ARRAY[${merge}]::bigint[]`;
}

/** Parameters of the fold SQL for one partition range and grain. */
export function foldParams(metric: CompiledMetric, p: number, from: number, to: number, grainMs: number, grain: string): unknown[] {
  const params: unknown[] = [p, from, to, metric.eventTypes, grainMs, grain];
  if (metric.where && Object.keys(metric.where).length > 0) params.push(JSON.stringify(metric.where));
  return params;
}
