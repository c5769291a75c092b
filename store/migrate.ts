import type pg from 'pg';
import { inTransaction } from '../lib/pg-tx.ts';

import { ident } from '../lib/ident.ts';

// Re-exported for callers written before ident moved to lib/ (new code imports lib/ident.ts).
export { ident };

/**
 * The master dataset and every table the layers keep in Postgres, created idempotently.
 * `raw_events` is the one place events are accepted (primary key on the deterministic id).
 */
export async function migrate(pool: pg.Pool, schema: string, partitions: number): Promise<void> {
  const s = ident(schema);
  const ddl = `
      CREATE SCHEMA IF NOT EXISTS ${s};
      CREATE TABLE IF NOT EXISTS ${s}.raw_events (
        id text PRIMARY KEY,
        source text NOT NULL,
        type text NOT NULL,
        key text NOT NULL,
        event_time bigint NOT NULL,
        payload jsonb NOT NULL,
        partition int NOT NULL,
        log_offset bigint NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS raw_events_position ON ${s}.raw_events (partition, log_offset);
      CREATE TABLE IF NOT EXISTS ${s}.deployment (
        id text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS ${s}.loader_offsets (
        partition int PRIMARY KEY,
        next_offset bigint NOT NULL,
        updated_at bigint
      );
      CREATE TABLE IF NOT EXISTS ${s}.batch_watermarks (
        partition int PRIMARY KEY,
        next_offset bigint NOT NULL,
        max_event_time bigint,
        refreshed_at bigint
      );
      CREATE TABLE IF NOT EXISTS ${s}.rollups (
        metric text NOT NULL,
        grain text NOT NULL,
        bucket bigint NOT NULL,
        dims text[] NOT NULL,
        cells bigint[] NOT NULL,
        PRIMARY KEY (metric, grain, bucket, dims)
      );
      CREATE TABLE IF NOT EXISTS ${s}.connector_checkpoints (
        connector text NOT NULL,
        partition int NOT NULL,
        next_offset bigint NOT NULL,
        events bigint NOT NULL DEFAULT 0,
        dead_letters bigint NOT NULL DEFAULT 0,
        updated_at bigint,
        PRIMARY KEY (connector, partition)
      );
      CREATE TABLE IF NOT EXISTS ${s}.connector_state (
        connector text PRIMARY KEY,
        state jsonb NOT NULL,
        events bigint NOT NULL DEFAULT 0,
        dead_letters bigint NOT NULL DEFAULT 0,
        updated_at bigint
      );
      CREATE TABLE IF NOT EXISTS ${s}.entities (
        entity text NOT NULL,
        key text NOT NULL,
        version text NOT NULL,
        data jsonb,
        deleted boolean NOT NULL DEFAULT false,
        event_id text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (entity, key)
      );
      CREATE TABLE IF NOT EXISTS ${s}.pairings (
        pairing text NOT NULL,
        key text NOT NULL,
        start_time bigint NOT NULL,
        start_id text NOT NULL,
        payload jsonb NOT NULL,
        PRIMARY KEY (pairing, key)
      );
      CREATE TABLE IF NOT EXISTS ${s}.dead_letters (
        id bigserial PRIMARY KEY,
        connector text NOT NULL,
        source text NOT NULL,
        position text NOT NULL,
        raw text NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        replayed_at timestamptz,
        UNIQUE (source, position)
      );
    `;
  // Already complete (every CLI command and role calls this): plain reads only. The DDL below takes
  // table locks (CREATE INDEX IF NOT EXISTS takes a SHARE lock before it finds the index exists) and
  // its inserts wait on the loader's offset rows: run against a working loader it can deadlock it.
  const objects = [...ddl.matchAll(/CREATE (?:TABLE|INDEX) IF NOT EXISTS (?:\S+\.)?(\w+)/g)].map((m) => `${s}.${m[1]}`);
  if (await isComplete(pool, s, objects, partitions)) return;
  await inTransaction(pool, async (client) => {
    // One migrator at a time (several roles may start together against one database).
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`millrace-migrate:${s}`]);
    await client.query(ddl);
    // The deployment's identity: every role sharing this schema is one deployment; shared resources
    // (consumer groups, Redis keys) are claimed with it (app/deployment-claims.ts).
    await client.query(
      `INSERT INTO ${s}.deployment (id) SELECT gen_random_uuid()::text WHERE NOT EXISTS (SELECT 1 FROM ${s}.deployment)`,
    );
    const ps = Array.from({ length: partitions }, (_, p) => p);
    await client.query(
      `INSERT INTO ${s}.loader_offsets (partition, next_offset) SELECT unnest($1::int[]), 0 ON CONFLICT DO NOTHING`,
      [ps],
    );
    await client.query(
      `INSERT INTO ${s}.batch_watermarks (partition, next_offset) SELECT unnest($1::int[]), 0 ON CONFLICT DO NOTHING`,
      [ps],
    );
  });
}

async function isComplete(pool: pg.Pool, s: string, objects: string[], partitions: number): Promise<boolean> {
  const found = await pool.query<{ n: number }>(`SELECT count(to_regclass(o))::int AS n FROM unnest($1::text[]) AS o`, [
    objects,
  ]);
  if (found.rows[0].n !== objects.length) return false;
  const rows = await pool.query<{ l: number; b: number }>(
    `SELECT (SELECT count(*) FROM ${s}.loader_offsets WHERE partition < $1)::int AS l, (SELECT count(*) FROM ${s}.batch_watermarks WHERE partition < $1)::int AS b`,
    [partitions],
  );
  const id = await pool.query(`SELECT 1 FROM ${s}.deployment`);
  return rows.rows[0].l === partitions && rows.rows[0].b === partitions && id.rowCount === 1;
}
