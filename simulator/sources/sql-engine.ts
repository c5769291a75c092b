import { withContext } from '../../lib/errors.ts';
import { recordFacts, type SourceLedgerEntry } from '../ledger-sources.ts';
import type { MachiningEvent } from '../wire.ts';
import type { SourceWriter, WriterContext } from './source-writer.ts';
import { createWorkOrderModel, HOUR_MS, type WorkOrderRow } from './work-orders.ts';
import type { SqlEngine, SqlEngineTables } from './sql-engine-rows.ts';

export { createMariaDbEngine } from './sql-engine-mariadb.ts';
export { createMssqlEngine } from './sql-engine-mssql.ts';
export { createOracleEngine } from './sql-engine-oracle.ts';
export type { SqlEngine, SqlEngineTables } from './sql-engine-rows.ts';
export type { WorkOrderRow } from './work-orders.ts';

export interface SqlEngineWriter extends SourceWriter {
  /**
   * Archive a copy of well-formed, unique machining events (fed from the machining simulator's
   * output). The archive adds no ledger facts: its rows duplicate the Kafka events and must dedup.
   */
  archive(events: readonly MachiningEvent[]): Promise<void>;
}

/** Source name in the ledger (work order entities, seal). */
export const SQL_ENGINE_SOURCE = 'sql-engine';

/** The work order data exactly as the connector emits it (`payload.data` of `entity.upsert`). */
export const workOrderData = (wo: WorkOrderRow) => ({
  woId: wo.woId,
  sku: wo.sku,
  plannedQty: wo.plannedQty,
  dueDate: wo.dueDate,
});

/**
 * The writer of the archive and the work orders. Work orders change at every simulated hour
 * boundary at or after `startTime`; each hour is one engine transaction, then one
 * ledger entry with its entities and the seal `hour + 1` (the last commit's time). A failed step
 * is retried first by the next `advanceTo`, so the ledger holds exactly what the engine committed.
 * The writer owns the engine: `close()` closes it.
 */
export function createSqlEngineWriter(ctx: WriterContext & { engine: SqlEngine; now?: () => number }): SqlEngineWriter {
  const name = SQL_ENGINE_SOURCE;
  const { engine } = ctx;
  const model = createWorkOrderModel(ctx.seed);
  const now = ctx.now ?? Date.now;
  // The first sync at or after the start. Not the one of the hour containing it: a run resuming at
  // this source's seal (the last sync + 1 ms) would write that sync again from a fresh model —
  // other rows under the same ids and the same updated_at, a change no watermark poller can see.
  let nextHour = Math.ceil(ctx.startTime / HOUR_MS) * HOUR_MS;
  let uncommitted: { hour: number; rows: WorkOrderRow[] } | null = null;
  let unrecorded: SourceLedgerEntry | null = null;
  let ready: Promise<void> | null = null;
  let written = 0;

  const ensure = () => {
    ready ??= engine.ensure().catch((err) => {
      ready = null;
      throw withContext(err, `${name}: create tables on ${engine.dialect}`);
    });
    return ready;
  };

  async function settle(): Promise<void> {
    if (uncommitted) {
      await ensure();
      try {
        await engine.upsertWorkOrders(uncommitted.rows);
      } catch (err) {
        throw withContext(err, `${name}: write work orders to ${engine.dialect}`);
      }
      written += uncommitted.rows.length;
      unrecorded = {
        source: name,
        facts: [],
        entities: uncommitted.rows.map((wo) => ({ entity: 'work_order', key: wo.woId, data: workOrderData(wo) })),
        sealedBefore: uncommitted.hour + 1,
      };
      uncommitted = null;
    }
    if (unrecorded) {
      await recordFacts(ctx.pool, ctx.ledgerSchema, unrecorded).catch((err) => {
        throw withContext(err, `${name}: ledger write`);
      });
      unrecorded = null;
    }
  }

  return {
    name,
    async advanceTo(t) {
      await settle();
      while (nextHour <= t) {
        // A real ERP stamps `updated_at` from its own clock, which never runs ahead of the wall
        // clock: when simulated time does (a sped-up demo or test), the stamp is the wall clock
        // (still non-decreasing), or a watermark poller would rightly hold the rows back until then.
        // Back-fills (simulated past) keep the simulated hour, so they stay deterministic.
        const stamp = Math.min(nextHour, now());
        const rows = model.hour(nextHour).map((wo) => (wo.updatedAt > stamp ? { ...wo, updatedAt: stamp } : wo));
        uncommitted = { hour: nextHour, rows };
        nextHour += HOUR_MS;
        await settle();
      }
    },
    async archive(events) {
      if (events.length === 0) return;
      await ensure();
      try {
        written += await engine.insertArchive(events);
      } catch (err) {
        throw withContext(err, `${name}: archive machining events to ${engine.dialect}`);
      }
    },
    stats: () => ({ written, faults: {} }),
    close: () => engine.close(),
  };
}
