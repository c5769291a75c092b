import type { MachiningEvent } from '../wire.ts';
import type { WorkOrderRow } from './work-orders.ts';

/** Table names of one engine; tests pass unique ones. */
export interface SqlEngineTables {
  /** Default `machining_archive`. */
  archive: string;
  /** Default `work_orders`. */
  workOrders: string;
}

export function resolveTables(t: Partial<SqlEngineTables> = {}): SqlEngineTables {
  const tables = { archive: t.archive ?? 'machining_archive', workOrders: t.workOrders ?? 'work_orders' };
  // Names are spliced into DDL and DML, so only plain identifiers are accepted.
  for (const n of Object.values(tables))
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) throw new Error(`sql engine: invalid table name ${JSON.stringify(n)}`);
  return tables;
}

/** The archive's columns in insert order (`archived_at` is set by the database at insert). */
export const ARCHIVE_COLUMNS = [
  'event_id',
  'kind',
  'part_id',
  'station',
  'machine',
  'operator',
  'at',
  'next_station',
  'error_code',
  'cycle_time_ms',
] as const;
export const WORK_ORDER_COLUMNS = ['wo_id', 'sku', 'planned_qty', 'due_date', 'updated_at'] as const;

/** UTC timestamp text with ms, no zone (`2026-11-22 08:00:00.000`): every engine parses it as-is. */
export const utcText = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 23);

/** A naive timestamp read back from an engine (stored as UTC) → epoch ms. */
export function fromUtcText(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  const t = Date.parse(`${String(v).trim().replace(' ', 'T').slice(0, 23)}Z`);
  if (!Number.isFinite(t)) throw new Error(`sql engine: unreadable timestamp ${JSON.stringify(v)}`);
  return t;
}

export function archiveValues(ev: MachiningEvent): Array<string | number | null> {
  return [
    ev.eventId,
    ev.kind,
    ev.partId,
    ev.station,
    ev.machine,
    ev.operator,
    utcText(ev.at),
    ev.nextStation,
    ev.errorCode,
    ev.cycleTimeMs,
  ];
}

export function workOrderValues(wo: WorkOrderRow): Array<string | number> {
  return [wo.woId, wo.sku, wo.plannedQty, wo.dueDate, utcText(wo.updatedAt)];
}

export function workOrderFromRow(r: Record<string, unknown>): WorkOrderRow {
  const get = (k: string) => r[k] ?? r[k.toUpperCase()];
  const due = get('due_date');
  return {
    woId: String(get('wo_id')),
    sku: String(get('sku')),
    plannedQty: Number(get('planned_qty')),
    dueDate: due instanceof Date ? due.toISOString().slice(0, 10) : String(due).slice(0, 10),
    updatedAt: fromUtcText(get('updated_at')),
  };
}

/** Splits a list into chunks of at most `n` (bounded statement size). */
export function chunks<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/**
 * "Another SQL engine" (MYCPU.md rows 3 and 4): the store holding the machining archive and the
 * production work orders. One implementation per engine, chosen by the wiring module:
 * MariaDB (runs here; the default), SQL Server (`mssql`), Oracle (`oracledb` thin).
 */
export interface SqlEngine {
  readonly dialect: 'mariadb' | 'mssql' | 'oracle' | 'postgres';
  readonly tables: SqlEngineTables;
  /** Create both tables when missing (SQL Server: with Change Tracking enabled). Idempotent. */
  ensure(): Promise<void>;
  /** Insert archive rows, ignoring event ids already archived; `archived_at` is the database's clock. Returns rows inserted. */
  insertArchive(events: readonly MachiningEvent[]): Promise<number>;
  /** Insert or update work orders, all in one transaction. */
  upsertWorkOrders(rows: readonly WorkOrderRow[]): Promise<void>;
  /** The table's current content (tests, verify). */
  readWorkOrders(): Promise<WorkOrderRow[]>;
  /** Drop both tables (tests). */
  dropTables(): Promise<void>;
  close(): Promise<void>;
}
