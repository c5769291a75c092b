import { z } from 'zod';
import type { Envelope } from '../envelope.ts';
import { machiningEnvelope } from '../schemas/machining.ts';

/**
 * Table row → envelope, shared by the SQL connectors (`sql-polling`, `sql-server-ct`). Rows come
 * with lower-case column names; timestamps as Date, or as text holding UTC (how each dialect
 * client returns them). A row that does not map yields the reason, and becomes a dead letter.
 */
export interface RowMapping {
  /** Columns the mapping reads; a connector config must select them. */
  readonly columns: readonly string[];
  upsert(row: Record<string, unknown>, source: string): Envelope | string;
  /** A deleted row (Change Tracking); absent when a delete means nothing (an append-only archive). */
  delete?(d: { key: string; idSuffix: string; version: string; eventTime: number }, source: string): Envelope;
}

/** A timestamp value → epoch ms: Date, ISO text with an offset, or naive text taken as UTC. */
export function toEpochMs(v: unknown): number | null {
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : null;
  if (typeof v !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,3})?\d*\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(v.trim());
  if (!m) return null;
  let zone = m[4] ?? 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const t = Date.parse(`${m[1]}T${m[2]}${m[3] ?? ''}${zone}`);
  return Number.isFinite(t) ? t : null;
}

/** Integers arrive as numbers, or as text (Postgres bigint, Oracle NUMBER fetched as string). */
const intOrRaw = (v: unknown) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v);

/**
 * Archive rows → exactly the envelope the Kafka copy of the event gets (same id `machining:<eventId>`,
 * type, key, event time, payload), by going through the same message schema: the loader keeps one.
 */
const machiningArchive: RowMapping = {
  columns: [
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
  ],
  upsert(row, source) {
    const at = toEpochMs(row.at);
    const message = {
      eventId: row.event_id,
      kind: row.kind,
      partId: row.part_id,
      station: row.station,
      machine: row.machine,
      operator: row.operator,
      at: at === null ? String(row.at) : new Date(at).toISOString(),
      nextStation: row.next_station ?? null,
      errorCode: row.error_code ?? null,
      cycleTimeMs: intOrRaw(row.cycle_time_ms ?? null),
    };
    return machiningEnvelope(JSON.stringify(message), source);
  },
};

const workOrderRow = z.object({
  wo_id: z.union([z.string().min(1), z.number().int()]).transform(String),
  sku: z.string().min(1),
  planned_qty: z.preprocess(intOrRaw, z.number().int().nonnegative()),
  due_date: z.preprocess(
    (v) => (v instanceof Date ? v.toISOString() : v),
    z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}/, 'a date')
      .transform((s) => s.slice(0, 10)),
  ),
  updated_at: z.preprocess((v) => toEpochMs(v) ?? v, z.number().int().nonnegative({ message: 'a timestamp' })),
});

/**
 * Work orders → current-state entities. The version is `updated_at` in ms: ids carry it, so a
 * re-read yields the same id and an older version never replaces a newer one in the loader.
 */
const workOrder: RowMapping = {
  columns: ['wo_id', 'sku', 'planned_qty', 'due_date', 'updated_at'],
  upsert(row, source) {
    const r = workOrderRow.safeParse(row);
    if (!r.success) return r.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; ');
    const w = r.data;
    return {
      id: `sql:work_order:${w.wo_id}:${w.updated_at}`,
      source,
      type: 'entity.upsert',
      key: `work_order:${w.wo_id}`,
      eventTime: w.updated_at,
      payload: {
        entity: 'work_order',
        key: w.wo_id,
        version: String(w.updated_at),
        data: { woId: w.wo_id, sku: w.sku, plannedQty: w.planned_qty, dueDate: w.due_date },
      },
    };
  },
  delete: (d, source) => ({
    id: `sql:work_order:${d.key}:deleted:${d.idSuffix}`,
    source,
    type: 'entity.delete',
    key: `work_order:${d.key}`,
    eventTime: d.eventTime,
    payload: { entity: 'work_order', key: d.key, version: d.version },
  }),
};

export const rowMappings = { 'machining-archive': machiningArchive, 'work-order': workOrder } as const;
export type RowMappingName = keyof typeof rowMappings;
export const rowMappingNames = Object.keys(rowMappings) as [RowMappingName, ...RowMappingName[]];
