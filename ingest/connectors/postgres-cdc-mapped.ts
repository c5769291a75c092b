import type { Envelope } from '../envelope.ts';
import { mapRecord, type RecordMapping } from '../record-mapping.ts';
import type { RowChange } from './postgres-cdc-orders.ts';

/**
 * A row change of any table → one event by a declarative mapping (the `map` option), or the
 * reason it cannot be one. The id is the change's identity (table, LSN, primary key), as for the
 * orders table, so a redelivered change keeps its id; the payload says which change it was (`op`).
 */
export function mappedChangeEnvelope(map: RecordMapping, c: RowChange): Envelope | string {
  const row = c.op === 'delete' ? c.before : c.after;
  if (!row) return 'change without a row image';
  const m = mapRecord(map, row);
  if (typeof m === 'string') return m;
  const pk = c.pk.map((k) => String(row[k])).join(',');
  return {
    id: `pg:${c.table}:${c.lsn}:${pk}`,
    source: `postgres:${c.table}`,
    type: m.type,
    key: m.key,
    eventTime: m.eventTime,
    payload: { ...m.payload, op: c.op },
  };
}
