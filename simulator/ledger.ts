import type pg from 'pg';
import { inTransaction } from '../lib/pg-tx.ts';
import type { FaultRecord } from './faults.ts';
import { floorMinute, type FactRow } from './ledger-facts.ts';
import { ensureLedger, ident } from './ledger-schema.ts';

export { ensureLedger } from './ledger-schema.ts';

/**
 * The ground-truth ledger in Postgres: exact per-minute facts of everything the simulator produced
 * and the topic acknowledged, the injected faults, and the sealed horizon. Written only by the
 * simulator, from its own events; read by `verify`. One schema per ledger, so tests can isolate.
 */
export interface LedgerOptions {
  pool: pg.Pool;
  /** Postgres schema holding the ledger (created when missing). Default `ledger`. */
  schema?: string;
}

/** What one acknowledged publish adds to the ledger; written in one transaction. */
export interface LedgerEntry {
  facts: FactRow[];
  faults: FaultRecord[];
  /** Every event with time before this (epoch ms, minute-aligned, exclusive) has been acknowledged. */
  sealedBefore: number;
  /** Unique events counted in `facts`. */
  events: number;
  /** Messages acknowledged, duplicates and malformed included. */
  messages: number;
}

export interface FactQuery {
  /** Postgres schema of the ledger. Default `ledger`. */
  schema?: string;
  /** One fact name (see `FACTS`) or several. */
  fact: string | readonly string[];
  /** Range of minutes [from, to), epoch ms. */
  from: number;
  to: number;
  /** Bucket width, ms: bucket = floor(minute / grainMs) * grainMs (UTC). */
  grainMs: number;
}

export interface FactPoint {
  fact: string;
  bucket: number;
  station: string;
  errorCode: string | null;
  value: number;
}

export interface Ledger {
  readonly schema: string;
  /** Create the schema and tables when missing (idempotent; `record` calls it by itself). */
  ensure(): Promise<void>;
  record(entry: LedgerEntry): Promise<void>;
  readFacts(q: Omit<FactQuery, 'schema'>): Promise<FactPoint[]>;
  sealedHorizon(): Promise<number | null>;
  earliestMinute(): Promise<number | null>;
  /** Acked faults by kind: `duplicate:immediate`, `duplicate:delayed`, `late`, `malformed:<flavour>`. */
  faultCounts(): Promise<Record<string, number>>;
}

export const DEFAULT_LEDGER_SCHEMA = 'ledger';

/** Add one acked batch: facts additively, faults appended, horizon only ever moved forward. */
export async function recordEntry(pool: pg.Pool, schema: string, e: LedgerEntry): Promise<void> {
  const s = ident(schema);
  const first = e.facts.reduce<number | null>((m, f) => (m === null || f.minute < m ? f.minute : m), null);
  await inTransaction(pool, async (client) => {
    if (e.facts.length > 0) {
      await client.query(
        `INSERT INTO ${s}.facts (fact, minute, station, error_code, value)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])
         ON CONFLICT (fact, minute, station, error_code) DO UPDATE SET value = facts.value + EXCLUDED.value`,
        [
          e.facts.map((f) => f.fact),
          e.facts.map((f) => f.minute),
          e.facts.map((f) => f.station),
          e.facts.map((f) => f.errorCode ?? ''),
          e.facts.map((f) => f.value),
        ],
      );
    }
    if (e.faults.length > 0) {
      await client.query(
        `INSERT INTO ${s}.faults (kind, detail, event_id, event_at, raw)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])`,
        [
          e.faults.map((f) => f.kind),
          e.faults.map((f) => f.detail),
          e.faults.map((f) => f.eventId),
          e.faults.map((f) => f.eventAt),
          e.faults.map((f) => f.raw),
        ],
      );
    }
    await client.query(
      `INSERT INTO ${s}.state AS st (id, sealed_before, first_minute, events, messages) VALUES (1, $1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET sealed_before = GREATEST(st.sealed_before, EXCLUDED.sealed_before),
         first_minute = LEAST(st.first_minute, EXCLUDED.first_minute), events = st.events + EXCLUDED.events,
         messages = st.messages + EXCLUDED.messages, updated_at = now()`,
      [e.sealedBefore, first, e.events, e.messages],
    );
  });
}

/** Facts summed per (fact, bucket, station, errorCode) over the minutes in [from, to). */
export async function readFacts(pool: pg.Pool, q: FactQuery): Promise<FactPoint[]> {
  const s = ident(q.schema ?? DEFAULT_LEDGER_SCHEMA);
  const facts = typeof q.fact === 'string' ? [q.fact] : [...q.fact];
  const { rows } = await pool.query<{
    fact: string;
    bucket: string;
    station: string;
    error_code: string;
    value: string;
  }>(
    `SELECT fact, (minute / $4::bigint) * $4::bigint AS bucket, station, error_code, sum(value) AS value
       FROM ${s}.facts WHERE fact = ANY($1::text[]) AND minute >= $2 AND minute < $3
      GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 4, 1`,
    [facts, q.from, q.to, q.grainMs],
  );
  return rows.map((r) => ({
    fact: r.fact,
    bucket: Number(r.bucket),
    station: r.station,
    errorCode: r.error_code === '' ? null : r.error_code,
    value: Number(r.value),
  }));
}

/** Sealed horizon, epoch ms (exclusive); null before the first acknowledged batch. */
export async function sealedHorizon(pool: pg.Pool, schema: string = DEFAULT_LEDGER_SCHEMA): Promise<number | null> {
  const { rows } = await pool.query<{ v: string }>(
    `SELECT sealed_before AS v FROM ${ident(schema)}.state WHERE id = 1`,
  );
  return rows.length === 0 ? null : Number(rows[0].v);
}

/** First minute holding any fact, epoch ms; null while the ledger is empty. */
export async function earliestMinute(pool: pg.Pool, schema: string = DEFAULT_LEDGER_SCHEMA): Promise<number | null> {
  const { rows } = await pool.query<{ v: string | null }>(
    `SELECT first_minute AS v FROM ${ident(schema)}.state WHERE id = 1`,
  );
  return rows.length === 0 || rows[0].v === null ? null : floorMinute(Number(rows[0].v));
}

export function createLedger(opts: LedgerOptions): Ledger {
  const schema = ident(opts.schema ?? DEFAULT_LEDGER_SCHEMA);
  const { pool } = opts;
  let ensured: Promise<void> | null = null;
  const ensure = (): Promise<void> => {
    // Memoised, but a failed attempt (database not up yet) is retried on the next call.
    ensured ??= ensureLedger(pool, schema).catch((err: unknown) => {
      ensured = null;
      throw err;
    });
    return ensured;
  };
  return {
    schema,
    ensure,
    async record(entry) {
      await ensure();
      await recordEntry(pool, schema, entry);
    },
    readFacts: (q) => readFacts(pool, { ...q, schema }),
    sealedHorizon: () => sealedHorizon(pool, schema),
    earliestMinute: () => earliestMinute(pool, schema),
    async faultCounts() {
      const { rows } = await pool.query<{ k: string; n: string }>(
        `SELECT CASE kind WHEN 'malformed' THEN 'malformed:' || detail
                          WHEN 'duplicate' THEN CASE detail WHEN 'immediate' THEN 'duplicate:immediate' ELSE 'duplicate:delayed' END
                          ELSE kind END AS k, count(*) AS n
           FROM ${schema}.faults GROUP BY 1`,
      );
      return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
    },
  };
}
