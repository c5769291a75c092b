import type pg from 'pg';
import { ident } from '../lib/ident.ts';

/** An accepted event as the loader's INSERT … RETURNING gives it back. */
export interface AcceptedRow {
  id: string;
  type: string;
  key: string;
  event_time: string | number;
  payload: Record<string, unknown>;
  log_offset: string | number;
}

/**
 * Durations between paired events, computed once here from loader state and emitted as derived
 * events, so the batch and speed layers aggregate them alike (ARCHITECTURE.md, step 3).
 */
export interface Pairing {
  name: string;
  startType: string;
  endType: string;
  /** Payload field that pairs a start with its end (events of one key share a log partition). */
  keyField: string;
  derivedType: string;
}

export const PAIRINGS: readonly Pairing[] = Object.freeze([
  { name: 'tool-use', startType: 'tool.out', endType: 'tool.in', keyField: 'toolId', derivedType: 'tool.used' },
]);

/**
 * Current state kept from change events (ARCHITECTURE.md, step 3): an accepted event of
 * `eventType` becomes an upsert (or a delete) of entity `entity`, newest version wins, in the
 * loader's transaction. Declarative: which payload field holds the key, which the row image, and
 * how the version orders changes of one key.
 */
export interface EntityRule {
  eventType: string;
  entity: string;
  /** Payload field with the entity's key. */
  keyField: string;
  /** Payload field with the new row image (the entity's data). */
  dataField: string;
  /** The change is a delete when this payload field has this value. */
  deleteWhen: { field: string; equals: string };
  /**
   * The version of a change: its leading integer orders changes of one key (see the upsert's
   * comparison). `cdc-lsn`: the WAL position in the event id `pg:<table>:<X/Y>:<pk>` as a decimal
   * (one row's changes are serialised by its lock, so their LSNs follow commit order; two changes
   * in one transaction still differ), else the payload's commitTime and the event id.
   */
  version: 'cdc-lsn';
}

export const ENTITY_RULES: readonly EntityRule[] = Object.freeze([
  {
    eventType: 'order.change',
    entity: 'order',
    keyField: 'orderId',
    dataField: 'after',
    deleteWhen: { field: 'op', equals: 'delete' },
    version: 'cdc-lsn',
  },
]);

/** `pg:<table>:<X/Y>:…` → the LSN as a decimal string; the commit time and id when the id has no LSN. */
export function cdcVersion(id: string, payload: Record<string, unknown>): string {
  const m = /^pg:[^:]+:([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8}):/.exec(id);
  if (m) return ((BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`)).toString();
  const t = Number(payload.commitTime);
  return `${Number.isFinite(t) ? Math.trunc(t) : 0}:${id}`;
}

const UPSERT_ENTITY = (
  s: string,
) => `INSERT INTO ${s}.entities AS e (entity, key, version, data, deleted, event_id) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (entity, key) DO UPDATE SET version = excluded.version, data = excluded.data, deleted = excluded.deleted,
           event_id = excluded.event_id, updated_at = now()
         WHERE (split_part(excluded.version, ':', 1)::numeric, excluded.version) > (split_part(e.version, ':', 1)::numeric, e.version)`;

export interface DerivedEvent {
  id: string;
  source: string;
  type: string;
  key: string;
  eventTime: number;
  payload: Record<string, unknown>;
  offset: number;
}

/**
 * Apply accepted events (in log order) to current state, inside the loader's transaction:
 * entity upserts/deletes keep the newest version per (entity, key); pairings produce derived
 * events. Only accepted rows come here, so a duplicate never moves state twice.
 */
export async function applyState(client: pg.PoolClient, schema: string, rows: AcceptedRow[]): Promise<DerivedEvent[]> {
  const s = ident(schema);
  const derived: DerivedEvent[] = [];
  for (const r of rows) {
    const t = Number(r.event_time);
    if (r.type === 'entity.upsert' || r.type === 'entity.delete') {
      const p = r.payload as { entity?: string; key?: string; version?: string; data?: unknown };
      if (!p.entity || p.key === undefined || p.version === undefined) continue;
      // Versions order by their leading integer (ms, LSN, seq), then as text.
      await client.query(UPSERT_ENTITY(s), [
        p.entity,
        String(p.key),
        String(p.version),
        r.type === 'entity.upsert' ? JSON.stringify(p.data ?? null) : null,
        r.type === 'entity.delete',
        r.id,
      ]);
      continue;
    }
    for (const rule of ENTITY_RULES) {
      if (r.type !== rule.eventType) continue;
      const key = r.payload[rule.keyField];
      if (key === undefined || key === null) continue;
      const deleted = r.payload[rule.deleteWhen.field] === rule.deleteWhen.equals;
      const data = deleted ? null : (r.payload[rule.dataField] ?? null);
      await client.query(UPSERT_ENTITY(s), [
        rule.entity,
        String(key),
        cdcVersion(r.id, r.payload),
        data === null ? null : JSON.stringify(data),
        deleted,
        r.id,
      ]);
    }
    for (const pr of PAIRINGS) {
      const key = r.payload[pr.keyField];
      if (key === undefined || key === null) continue;
      if (r.type === pr.startType) {
        await client.query(
          `INSERT INTO ${s}.pairings (pairing, key, start_time, start_id, payload) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (pairing, key) DO UPDATE SET start_time = excluded.start_time, start_id = excluded.start_id, payload = excluded.payload`,
          [pr.name, String(key), t, r.id, JSON.stringify(r.payload)],
        );
      } else if (r.type === pr.endType) {
        const open = await client.query(
          `DELETE FROM ${s}.pairings WHERE pairing = $1 AND key = $2 RETURNING start_time, start_id`,
          [pr.name, String(key)],
        );
        if (open.rowCount === 0) continue;
        const start = Number(open.rows[0].start_time);
        if (start > t) continue;
        derived.push({
          id: `derived:${pr.derivedType}:${r.id}`,
          source: `derived:${pr.name}`,
          type: pr.derivedType,
          key: r.key,
          eventTime: t,
          payload: { [pr.keyField]: key, durationMs: t - start, startId: open.rows[0].start_id, endId: r.id },
          offset: Number(r.log_offset),
        });
      }
    }
  }
  return derived;
}
