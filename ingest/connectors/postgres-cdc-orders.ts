import type { Envelope } from '../envelope.ts';

/** One row change as the replication stream decodes it (column name → parsed value). */
export interface RowChange {
  /** `schema.name` of the table. */
  table: string;
  /** LSN of the change's WAL record, canonical `X/Y`: unique per change, the same on redelivery. */
  lsn: string;
  op: 'insert' | 'update' | 'delete';
  /** Old row (updates and deletes; the table has REPLICA IDENTITY FULL). */
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** Commit time of the transaction, epoch ms. */
  commitTime: number;
  pk: string[];
}

/** Timestamps arrive as Date (pg's timestamptz parser); JSON images carry them as epoch ms. */
function ms(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const t = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(String(v));
  return Number.isFinite(t) ? t : null;
}

const image = (row: Record<string, unknown> | null) =>
  row === null
    ? null
    : Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.getTime() : v]));

/**
 * A change of the orders table → one `order.change` envelope, or the reason it cannot be one
 * (a dead letter). eventTime follows the ledger's minute rule (docs/sources.md §5): an insert at
 * requested_at, a repair completing at completed_at, any other update at the new updated_at, a
 * delete at the old row's updated_at (the row keeps no cancellation time). Only an UPDATE can
 * complete a repair: the flags say what this one change did, so a redelivered change, which keeps
 * its id, is counted once by the loader's dedup.
 */
export function orderChangeEnvelope(c: RowChange): Envelope | string {
  const row = c.after ?? c.before;
  if (!row) return 'change without a row image';
  if (c.op !== 'insert' && c.before === null)
    return 'update/delete without a before image (is REPLICA IDENTITY FULL set?)';
  const orderId = row.order_id;
  if (typeof orderId !== 'string' || orderId.length === 0) return 'order_id missing';
  const kind = row.kind;
  if (kind !== 'repair' && kind !== 'purchase') return `kind must be repair or purchase, got ${JSON.stringify(kind)}`;
  const status = row.status;
  if (typeof status !== 'string') return 'status missing';
  const requestedAt = ms(row.requested_at);
  const updatedAt = ms(row.updated_at);
  if (requestedAt === null || updatedAt === null) return 'requested_at or updated_at missing';
  const completedAt = ms(row.completed_at);
  const prevStatus = typeof c.before?.status === 'string' ? c.before.status : null;
  const becameCompleted =
    c.op === 'update' &&
    kind === 'repair' &&
    status === 'completed' &&
    prevStatus !== 'completed' &&
    completedAt !== null;
  const severity = row.severity === null || row.severity === undefined ? null : String(row.severity);
  if (kind === 'repair' && severity === null) return 'repair without severity';
  const eventTime = c.op === 'insert' ? requestedAt : becameCompleted ? completedAt! : updatedAt;
  if (eventTime < 0) return `negative event time ${eventTime}`;
  const pk = c.pk.map((k) => String(row[k])).join(',');
  return {
    id: `pg:${c.table}:${c.lsn}:${pk}`,
    source: `postgres:${c.table}`,
    type: 'order.change',
    key: orderId,
    eventTime,
    payload: {
      op: c.op,
      orderId,
      kind,
      severity,
      status,
      prevStatus,
      becameCreated: c.op === 'insert' ? 'yes' : 'no',
      becameCompleted: becameCompleted ? 'yes' : 'no',
      durationMs: becameCompleted ? completedAt! - requestedAt : null,
      requestedAt,
      completedAt,
      commitTime: c.commitTime,
      before: image(c.before),
      after: image(c.after),
    },
  };
}
