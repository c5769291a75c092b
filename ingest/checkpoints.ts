import type pg from 'pg';
import { ident } from '../lib/ident.ts';
import { inTransaction } from '../lib/pg-tx.ts';

export interface DeadLetter {
  /** Where in the source: e.g. `topic:partition:offset`, `file#row`. */
  position: string;
  raw: string;
  reason: string;
}

/** A connector's saved position per source partition (0 when never saved). */
export async function readCheckpoint(
  pool: pg.Pool,
  schema: string,
  connector: string,
  partition: number,
): Promise<number> {
  const r = await pool.query(
    `SELECT next_offset FROM ${ident(schema)}.connector_checkpoints WHERE connector = $1 AND partition = $2`,
    [connector, partition],
  );
  return r.rowCount ? Number(r.rows[0].next_offset) : 0;
}

/**
 * Save a checkpoint together with the batch's dead letters, in one transaction. Called only after
 * the log acknowledged the batch's events: a crash before this re-publishes (same ids), never loses.
 */
export async function saveCheckpoint(
  pool: pg.Pool,
  schema: string,
  c: {
    connector: string;
    source: string;
    partition: number;
    nextOffset: number;
    events: number;
    deadLetters: DeadLetter[];
  },
): Promise<void> {
  const s = ident(schema);
  await inTransaction(pool, async (client) => {
    await insertDeadLetters(client, s, c.connector, c.source, c.deadLetters);
    await client.query(
      `INSERT INTO ${s}.connector_checkpoints (connector, partition, next_offset, events, dead_letters, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (connector, partition) DO UPDATE SET next_offset = excluded.next_offset,
         events = ${s}.connector_checkpoints.events + excluded.events,
         dead_letters = ${s}.connector_checkpoints.dead_letters + excluded.dead_letters,
         updated_at = excluded.updated_at`,
      [c.connector, c.partition, c.nextOffset, c.events, c.deadLetters.length, Date.now()],
    );
  });
}

/**
 * Postgres text cannot hold NUL (a UTF-16 message read as UTF-8 is full of them): stored as U+FFFD,
 * else the dead letter, the checkpoint beside it, and so the connector would fail on it forever.
 */
const pgText = (s: string) => (s.includes('\u0000') ? s.replace(/\u0000/g, '\uFFFD') : s);

/** Dead letters of one batch; a position already recorded (a re-read after a crash) is kept once. */
async function insertDeadLetters(
  client: pg.PoolClient,
  s: string,
  connector: string,
  source: string,
  dead: DeadLetter[],
): Promise<void> {
  if (dead.length === 0) return;
  await client.query(
    `INSERT INTO ${s}.dead_letters (connector, source, position, raw, reason)
     SELECT $1, $2, unnest($3::text[]), unnest($4::text[]), unnest($5::text[]) ON CONFLICT (source, position) DO NOTHING`,
    [
      connector,
      source,
      dead.map((d) => pgText(d.position)),
      dead.map((d) => pgText(d.raw)),
      dead.map((d) => pgText(d.reason)),
    ],
  );
}

/** Totals of a connector across partitions. */
export async function checkpointTotals(pool: pg.Pool, schema: string, connector: string) {
  const r = await pool.query(
    `SELECT partition, next_offset, events, dead_letters, updated_at FROM ${ident(schema)}.connector_checkpoints WHERE connector = $1`,
    [connector],
  );
  return {
    positions: new Map(r.rows.map((row) => [Number(row.partition), Number(row.next_offset)])),
    events: r.rows.reduce((n, row) => n + Number(row.events), 0),
    deadLetters: r.rows.reduce((n, row) => n + Number(row.dead_letters), 0),
    lastCheckpointAt: r.rows.reduce<number | null>(
      (t, row) => (row.updated_at === null ? t : Math.max(t ?? 0, Number(row.updated_at))),
      null,
    ),
  };
}

/**
 * Connectors whose position is not one number per partition (file fingerprint + offset, LSN,
 * watermark + tiebreak key, ETag + cursor) keep it as JSON in `connector_state`.
 */
export async function readState<T>(pool: pg.Pool, schema: string, connector: string): Promise<T | null> {
  const r = await pool.query(`SELECT state FROM ${ident(schema)}.connector_state WHERE connector = $1`, [connector]);
  return r.rowCount ? (r.rows[0].state as T) : null;
}

/** Save a connector's state with its batch's dead letters, in one transaction, after the log acked. */
export async function saveState(
  pool: pg.Pool,
  schema: string,
  c: { connector: string; source: string; state: unknown; events: number; deadLetters: DeadLetter[] },
): Promise<void> {
  const s = ident(schema);
  await inTransaction(pool, async (client) => {
    await insertDeadLetters(client, s, c.connector, c.source, c.deadLetters);
    await client.query(
      `INSERT INTO ${s}.connector_state (connector, state, events, dead_letters, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (connector) DO UPDATE SET state = excluded.state,
         events = ${s}.connector_state.events + excluded.events,
         dead_letters = ${s}.connector_state.dead_letters + excluded.dead_letters,
         updated_at = excluded.updated_at`,
      [c.connector, JSON.stringify(c.state), c.events, c.deadLetters.length, Date.now()],
    );
  });
}

export async function stateTotals(pool: pg.Pool, schema: string, connector: string) {
  const r = await pool.query(
    `SELECT events, dead_letters, updated_at FROM ${ident(schema)}.connector_state WHERE connector = $1`,
    [connector],
  );
  const row = r.rows[0];
  return {
    events: row ? Number(row.events) : 0,
    deadLetters: row ? Number(row.dead_letters) : 0,
    lastCheckpointAt: row?.updated_at ? Number(row.updated_at) : null,
  };
}
