import type pg from 'pg';
import { withContext } from '../../lib/errors.ts';
import { inTransaction } from '../../lib/pg-tx.ts';
import { floorMinute } from '../ledger-facts.ts';
import { recordFacts, type SourceFact, type SourceFault } from '../ledger-sources.ts';
import { createOrdersModel, type OrderChange, type OrderRow } from './orders-model.ts';
import type { SourceWriter, WriterContext } from './source-writer.ts';

/** Writer name: its seal and the `source` of its ledger rows. */
export const ORDERS_SOURCE = 'orders-postgres';
export const ORDERS_FACTS = ['orders_created', 'repairs_completed', 'repair_duration_ms'] as const;

export interface OrdersWriterOptions extends WriterContext {
  /** Schema of the `orders` table (created when missing). Default `mycpu`. */
  ordersSchema?: string;
  /** Mean changes per simulated day. Default 50. */
  changesPerDay?: number;
  /** Most changes per transaction (a long back-fill is split). Default 500. */
  maxBatch?: number;
}

const COLUMNS = 'order_id, kind, subject, severity, status, requested_at, confirmed_at, completed_at, updated_at, note';
const ts = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const values = (r: OrderRow) => [
  r.orderId,
  r.kind,
  r.subject,
  r.severity,
  r.status,
  ts(r.requestedAt),
  ts(r.confirmedAt),
  ts(r.completedAt),
  ts(r.updatedAt),
  r.note,
];

/**
 * The ledger's reading of committed changes (docs/sources.md §5), from the model's own rows and
 * deliberately not from the connector's mapping: +1 `orders_created` [kind, severity|''] at the
 * minute of requested_at; for a repair completing, +1 `repairs_completed` [severity] and its
 * duration at the minute of completed_at. Deletes retract nothing (a cancelled order was created).
 */
export function ordersFacts(changes: readonly OrderChange[]): SourceFact[] {
  const cells = new Map<string, SourceFact>();
  const add = (fact: string, at: number, dims: [string] | [string, string], value: number) => {
    const minute = floorMinute(at);
    const key = `${fact}\u0000${minute}\u0000${dims.join('\u0000')}`;
    const c = cells.get(key);
    if (c) c.value += value;
    else cells.set(key, { fact, minute, dims, value });
  };
  for (const c of changes) {
    const sev = c.row.severity === null ? '' : String(c.row.severity);
    if (c.op === 'insert') add('orders_created', c.row.requestedAt, [c.row.kind, sev], 1);
    if (c.completes) {
      add('repairs_completed', c.row.completedAt!, [sev], 1);
      add('repair_duration_ms', c.row.completedAt!, [sev], c.row.completedAt! - c.row.requestedAt);
    }
  }
  return [...cells.values()];
}

/** Create the table when missing; FULL replica identity so updates and deletes carry the whole old row. */
export async function ensureOrdersTable(pool: pg.Pool, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`orders writer: invalid schema ${JSON.stringify(schema)}`);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema};
    CREATE TABLE IF NOT EXISTS ${schema}.orders (
      order_id text PRIMARY KEY, kind text NOT NULL, subject text NOT NULL, severity int, status text NOT NULL,
      requested_at timestamptz NOT NULL, confirmed_at timestamptz, completed_at timestamptz, updated_at timestamptz NOT NULL, note text);
    ALTER TABLE ${schema}.orders REPLICA IDENTITY FULL;`);
}

/**
 * Repair and purchase orders in PostgreSQL (docs/sources.md row 5), read by logical replication.
 * Each `advanceTo(t)` commits the changes due before `t` in time order (transactions of at most
 * `maxBatch` changes), then records their facts with the seal floorMinute(t): every change before
 * `t` is committed, so no later fact can land in an earlier minute. Statements are idempotent
 * (insert on conflict do nothing, update by key, delete by key), so retrying a transaction whose
 * COMMIT outcome was unknown changes nothing the ledger counts.
 */
export function createOrdersWriter(ctx: OrdersWriterOptions): SourceWriter {
  const schema = ctx.ordersSchema ?? 'mycpu';
  const table = `${schema}.orders`;
  const model = createOrdersModel({
    seed: ctx.seed,
    startTime: ctx.startTime,
    idTime: ctx.liveStart,
    floor: ctx.floor,
    changesPerDay: ctx.changesPerDay,
    faultRate: ctx.faultRate,
  });
  const maxBatch = ctx.maxBatch ?? 500;
  let ready = false;
  let uncommitted: OrderChange[] = [];
  let sealBefore: number | null = null; // seal of the batch not yet recorded
  const stats = { written: 0, faults: {} as Record<string, number> };

  async function commit(changes: readonly OrderChange[]): Promise<void> {
    await inTransaction(ctx.pool, async (client) => {
      for (const c of changes) {
        if (c.op === 'insert')
          await client.query(
            `INSERT INTO ${table} (${COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (order_id) DO NOTHING`,
            values(c.row),
          );
        else if (c.op === 'update') {
          await client.query(
            `UPDATE ${table} SET status = $2, confirmed_at = $3, completed_at = $4, updated_at = $5, note = $6 WHERE order_id = $1`,
            [
              c.row.orderId,
              c.row.status,
              ts(c.row.confirmedAt),
              ts(c.row.completedAt),
              ts(c.row.updatedAt),
              c.row.note,
            ],
          );
        } else await client.query(`DELETE FROM ${table} WHERE order_id = $1`, [c.row.orderId]);
      }
    });
  }

  /** Commit what is pending, then record it; a failure in either step is retried first next time. */
  async function settle(): Promise<void> {
    if (!ready) {
      await ensureOrdersTable(ctx.pool, schema).catch((err) => {
        throw withContext(err, `${ORDERS_SOURCE}: create ${table}`);
      });
      ready = true;
    }
    if (uncommitted.length > 0) {
      await commit(uncommitted).catch((err) => {
        throw withContext(err, `${ORDERS_SOURCE}: write ${table}`);
      });
    }
    if (uncommitted.length > 0 || sealBefore !== null) {
      const faults: SourceFault[] = uncommitted.flatMap((c) =>
        c.fault
          ? [
              {
                kind: c.fault,
                detail: `${c.op} of ${c.row.orderId} (${c.row.status})`,
                eventId: c.row.orderId,
                eventAt: c.at,
              },
            ]
          : [],
      );
      await recordFacts(ctx.pool, ctx.ledgerSchema, {
        source: ORDERS_SOURCE,
        facts: ordersFacts(uncommitted),
        faults,
        sealedBefore: sealBefore,
      }).catch((err) => {
        throw withContext(err, `${ORDERS_SOURCE}: ledger write`);
      });
      stats.written += uncommitted.length;
      for (const f of faults) stats.faults[f.kind] = (stats.faults[f.kind] ?? 0) + 1;
      uncommitted = [];
      sealBefore = null;
    }
  }

  let queue: OrderChange[] = []; // generated, not yet committed
  let sealed = -Infinity;
  return {
    name: ORDERS_SOURCE,
    async advanceTo(t) {
      await settle();
      queue.push(...model.until(t));
      while (queue.length > 0 || floorMinute(t) > sealed) {
        uncommitted = queue.splice(0, maxBatch);
        // A chunk seals up to the minute of the next change still queued (or of t after the last).
        const seal = floorMinute(queue.length > 0 ? queue[0].at : t);
        sealBefore = seal > sealed ? seal : null;
        await settle();
        sealed = Math.max(sealed, seal);
      }
    },
    stats: () => ({ written: stats.written, faults: { ...stats.faults } }),
    close: () => settle(),
  };
}
