import type pg from 'pg';
import { inTransaction } from '../lib/pg-tx.ts';

/** Schema names come from config, never from users; still, only plain identifiers are spliced into SQL. */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`ledger: invalid schema name ${JSON.stringify(name)}`);
  return name;
}

/**
 * Create the ledger's schema and tables when missing (idempotent).
 * - `facts`: one row per (fact, minute, station, error_code) with an additive integer value;
 *   `minute` is epoch ms (UTC), `error_code` is '' for facts without that dimension.
 * - `faults`: every injected fault that the topic acknowledged.
 * - `state`: one row: sealed horizon, first minute, totals.
 * - `writer_state`: what a source writer must know to continue exactly in a later run (e.g. what a
 *   clock-in sheet already counts), per (source, key); written with the facts it explains.
 */
export async function ensureLedger(pool: pg.Pool, schema: string): Promise<void> {
  const s = ident(schema);
  // Serialised: two processes creating the same schema at once would otherwise race.
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`millrace-ledger:${s}`]);
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS ${s};
      CREATE TABLE IF NOT EXISTS ${s}.facts (
        fact text NOT NULL,
        minute bigint NOT NULL,
        station text NOT NULL,
        error_code text NOT NULL DEFAULT '',
        value bigint NOT NULL,
        PRIMARY KEY (fact, minute, station, error_code)
      );
      CREATE TABLE IF NOT EXISTS ${s}.faults (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        detail text NOT NULL,
        event_id text,
        event_at bigint NOT NULL,
        raw text,
        recorded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS ${s}.seals (
        source text PRIMARY KEY,
        sealed_before bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS ${s}.entities (
        source text NOT NULL,
        entity text NOT NULL,
        key text NOT NULL,
        data jsonb,
        PRIMARY KEY (entity, key)
      );
      CREATE TABLE IF NOT EXISTS ${s}.writer_state (
        source text NOT NULL,
        key text NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (source, key)
      );
      CREATE TABLE IF NOT EXISTS ${s}.state (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        sealed_before bigint NOT NULL,
        first_minute bigint,
        events bigint NOT NULL,
        messages bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );`);
  });
}
