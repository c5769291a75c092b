import type pg from 'pg';
import { ident } from './ledger-schema.ts';
import { inTransaction } from '../lib/pg-tx.ts';

/**
 * The ledger API of every source writer besides machining (docs/sources.md). Facts reuse the
 * `facts` table: `station` holds the first dimension and `error_code` the second ('' when none).
 * Each source seals on its own clock: verify compares a source's facts only below its seal.
 */
export interface SourceFact {
  fact: string;
  /** Minute start, epoch ms (UTC). */
  minute: number;
  /** Up to two dimension values, e.g. [machineId] or [department, shift]. */
  dims: [string] | [string, string];
  /** Additive integer (negative for a retraction). */
  value: number;
}

export interface SourceFault {
  /** e.g. 'malformed', 'duplicate', 'renamed_column', 'truncated', 'api_error'. */
  kind: string;
  detail: string;
  eventId?: string | null;
  eventAt: number;
  raw?: string | null;
}

export interface SourceLedgerEntry {
  /** Writer name, e.g. 'energy-csv'. */
  source: string;
  facts: SourceFact[];
  faults?: SourceFault[];
  /** Current-state truth: upserted (data) or deleted (data null). */
  entities?: Array<{ entity: string; key: string; data: unknown | null }>;
  /** The writer's own state to continue from in a later run (not truth: never compared), upserted per key. */
  writerState?: Array<{ key: string; data: unknown }>;
  /** Every fact of a minute before this is final (null: no change). */
  sealedBefore: number | null;
}

/** Record what a writer durably wrote, in one transaction. Call it only after the write is durable. */
export async function recordFacts(pool: pg.Pool, schema: string, e: SourceLedgerEntry): Promise<void> {
  const s = ident(schema);
  await inTransaction(pool, async (client) => {
    const f = e.facts;
    if (f.length > 0) {
      await client.query(
        `INSERT INTO ${s}.facts (fact, minute, station, error_code, value)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])
         ON CONFLICT (fact, minute, station, error_code) DO UPDATE SET value = facts.value + EXCLUDED.value`,
        [
          f.map((x) => x.fact),
          f.map((x) => x.minute),
          f.map((x) => x.dims[0]),
          f.map((x) => x.dims[1] ?? ''),
          f.map((x) => x.value),
        ],
      );
    }
    const faults = e.faults ?? [];
    if (faults.length > 0) {
      await client.query(
        `INSERT INTO ${s}.faults (kind, detail, event_id, event_at, raw)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])`,
        [
          faults.map((x) => x.kind),
          faults.map((x) => `${e.source}: ${x.detail}`),
          faults.map((x) => x.eventId ?? null),
          faults.map((x) => x.eventAt),
          faults.map((x) => x.raw ?? null),
        ],
      );
    }
    for (const ent of e.entities ?? []) {
      if (ent.data === null)
        await client.query(`DELETE FROM ${s}.entities WHERE entity = $1 AND key = $2`, [ent.entity, ent.key]);
      else {
        await client.query(
          `INSERT INTO ${s}.entities (source, entity, key, data) VALUES ($1, $2, $3, $4)
           ON CONFLICT (entity, key) DO UPDATE SET data = EXCLUDED.data`,
          [e.source, ent.entity, ent.key, JSON.stringify(ent.data)],
        );
      }
    }
    for (const w of e.writerState ?? []) {
      await client.query(
        `INSERT INTO ${s}.writer_state (source, key, data) VALUES ($1, $2, $3) ON CONFLICT (source, key) DO UPDATE SET data = EXCLUDED.data`,
        [e.source, w.key, JSON.stringify(w.data)],
      );
    }
    if (e.sealedBefore !== null) {
      await client.query(
        `INSERT INTO ${s}.seals AS x (source, sealed_before) VALUES ($1, $2)
         ON CONFLICT (source) DO UPDATE SET sealed_before = GREATEST(x.sealed_before, EXCLUDED.sealed_before), updated_at = now()`,
        [e.source, e.sealedBefore],
      );
    }
  });
}

export async function sourceSeal(pool: pg.Pool, schema: string, source: string): Promise<number | null> {
  const r = await pool.query(`SELECT sealed_before FROM ${ident(schema)}.seals WHERE source = $1`, [source]);
  return r.rowCount ? Number(r.rows[0].sealed_before) : null;
}

/** What a writer kept in the ledger under `key` (`SourceLedgerEntry.writerState`), or null. */
export async function sourceWriterState(
  pool: pg.Pool,
  schema: string,
  source: string,
  key: string,
): Promise<unknown | null> {
  const r = await pool.query(`SELECT data FROM ${ident(schema)}.writer_state WHERE source = $1 AND key = $2`, [
    source,
    key,
  ]);
  return r.rowCount ? r.rows[0].data : null;
}
