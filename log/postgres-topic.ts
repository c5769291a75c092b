import pg from 'pg';
import { MillraceError, withContext } from '../lib/errors.ts';
import { createWaker } from '../lib/waker.ts';
import { inTransaction as inPgTransaction } from '../lib/pg-tx.ts';
import { partitionFor, type ConsumeOptions, type Subscription, type Topic, type TopicRecord } from './topic.ts';

export interface PostgresTopicOptions {
  /** Pool of the embedded (or any) Postgres; the topic never ends it. */
  pool: pg.Pool;
  /** Topic name. */
  name: string;
  /** Partition count; `ensure()` refuses a topic that already has another. */
  partitions: number;
  /** Fallback poll interval when no NOTIFY arrives, ms. Default 250. */
  pollIntervalMs?: number;
  /** Schema holding the `records` and `heads` tables of all topics. Default `'log'`. */
  schema?: string;
  /** Where this topic's own diagnostics go. Default `console.warn`. */
  log?: (line: string) => void;
}

/** One channel for all topics; the payload (`schema.topic`) says which one grew. */
const CHANNEL = 'millrace_topic';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Strings → one JSON array text for `json_array_elements_text`. A lone surrogate becomes U+FFFD, as
 * it would in any UTF-8 text parameter (JSON.stringify would escape it as `\udXXX`, which Postgres'
 * json refuses).
 */
function jsonTexts(xs: string[]): string {
  return JSON.stringify(xs.map((x) => (/[\uD800-\uDFFF]/.test(x) ? x.replace(LONE_SURROGATE, '\uFFFD') : x)));
}

/** The embedded-mode log: a Postgres table with contiguous per-partition offsets. */
export function createPostgresTopic(opts: PostgresTopicOptions): Topic {
  const { pool, name, partitions } = opts;
  const schema = opts.schema ?? 'log';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new MillraceError('CONFIG', `bad log schema name ${JSON.stringify(schema)}`);
  const log = opts.log ?? ((line: string) => console.warn(`[postgres-topic ${name}] ${line}`));
  const tag = `${schema}.${name}`;
  const subscriptions = new Set<Subscription>();

  const inTransaction = <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => inPgTransaction(pool, fn);

  return {
    name,
    partitions,

    ensure: () =>
      inTransaction(async (c) => {
        // Serialises concurrent first starts: CREATE ... IF NOT EXISTS is not race-free.
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('millrace.log.ensure'))`);
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await c.query(`CREATE TABLE IF NOT EXISTS ${schema}.heads (
          topic text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL DEFAULT 0, PRIMARY KEY (topic, partition))`);
        await c.query(`CREATE TABLE IF NOT EXISTS ${schema}.records (
          topic text NOT NULL, partition int NOT NULL, "offset" bigint NOT NULL,
          key text NOT NULL, value text NOT NULL, ts bigint NOT NULL, PRIMARY KEY (topic, partition, "offset"))`);
        const have = Number(
          (await c.query(`SELECT count(*) AS n FROM ${schema}.heads WHERE topic = $1`, [name])).rows[0].n,
        );
        if (have !== 0 && have !== partitions) {
          throw new MillraceError(
            'LOG_PARTITIONS_MISMATCH',
            `topic ${name} has ${have} partitions, configured ${partitions}`,
          );
        }
        await c.query(
          `INSERT INTO ${schema}.heads (topic, partition) SELECT $1, generate_series(0, $2::int - 1) ON CONFLICT DO NOTHING`,
          [name, partitions],
        );
      }).catch((err) => {
        throw withContext(err, `ensure postgres topic ${name}`);
      }),

    async publish(records) {
      if (records.length === 0) return [];
      const parts = records.map((r) => partitionFor(r.key, partitions));
      const counts = new Map<number, number>();
      for (const p of parts) counts.set(p, (counts.get(p) ?? 0) + 1);
      const ps = [...counts.keys()].sort((a, b) => a - b);
      return inTransaction(async (c) => {
        // Row locks on the heads, taken in partition order (no deadlocks), make offsets contiguous:
        // a later publisher gets its offsets only after this one committed.
        const locked = await c.query(
          `SELECT partition, next_offset FROM ${schema}.heads WHERE topic = $1 AND partition = ANY($2::int[]) ORDER BY partition FOR UPDATE`,
          [name, ps],
        );
        if (locked.rowCount !== ps.length) throw new MillraceError('LOG_TOPIC_MISSING', `topic ${name} is not ensured`);
        const next = new Map<number, number>(locked.rows.map((r) => [r.partition, Number(r.next_offset)]));
        await c.query(
          `UPDATE ${schema}.heads h SET next_offset = h.next_offset + u.n FROM unnest($2::int[], $3::bigint[]) AS u(p, n)
           WHERE h.topic = $1 AND h.partition = u.p`,
          [name, ps, ps.map((p) => counts.get(p))],
        );
        const out = parts.map((partition) => {
          const offset = next.get(partition)!;
          next.set(partition, offset + 1);
          return { partition, offset };
        });
        // Keys and values go as two JSON arrays (zipped with ROWS FROM), not as text[]: node-pg builds
        // an array literal in JavaScript, escaping every quote of every value (envelopes are JSON, full
        // of them) — about 1 s per 100 000 records — where JSON.stringify is native and the server's
        // json parser is fast.
        await c.query(
          `INSERT INTO ${schema}.records (topic, partition, "offset", key, value, ts)
           SELECT $1, p, o, k, v, (extract(epoch FROM clock_timestamp()) * 1000)::bigint
           FROM ROWS FROM (unnest($2::int[]), unnest($3::bigint[]), json_array_elements_text($4::json), json_array_elements_text($5::json)) AS t(p, o, k, v)`,
          [
            name,
            parts,
            out.map((x) => x.offset),
            jsonTexts(records.map((r) => r.key)),
            jsonTexts(records.map((r) => r.value)),
          ],
        );
        await c.query('SELECT pg_notify($1, $2)', [CHANNEL, tag]); // delivered at COMMIT
        return out;
      }).catch((err) => {
        throw withContext(err, `publish to ${name}`);
      });
    },

    async consume(options) {
      const sub = startPoller(options);
      const tracked: Subscription = {
        stop: async () => {
          subscriptions.delete(tracked);
          await sub.stop();
        },
      };
      subscriptions.add(tracked);
      return tracked;
    },

    async endOffsets() {
      const r = await pool.query(`SELECT partition, next_offset FROM ${schema}.heads WHERE topic = $1`, [name]);
      const out = new Array<number>(partitions).fill(0);
      for (const row of r.rows) if (row.partition < partitions) out[row.partition] = Number(row.next_offset);
      return out;
    },

    async close() {
      await Promise.all([...subscriptions].map((s) => s.stop()));
    },
  };

  /** Embedded mode is one process, so one member owns every partition: one loop over all of them. */
  function startPoller(o: ConsumeOptions): Subscription {
    const maxBatch = o.maxBatch ?? 500;
    const waker = createWaker(opts.pollIntervalMs ?? 250);
    const next = new Map<number, number>();
    const retryAt = new Map<number, number>();
    const failures = new Map<number, number>();
    let stopped = false;
    let listener: pg.Client | null = null;
    let lastNote = '';
    // A failing database would otherwise print the same line every poll.
    const note = (line: string) => {
      if (line !== lastNote) log((lastNote = line));
    };

    // Its own connection, outside the pool: a LISTEN held for the subscription's life must not
    // take a pooled client that onBatch (or anyone else) may be waiting for.
    async function listen() {
      const c = new pg.Client(pool.options);
      c.on('notification', (m) => {
        if (m.payload === tag) waker.wake();
      });
      // A dead LISTEN connection only costs latency: polling goes on, and the next step re-listens.
      c.on('error', (err) => {
        note(`listen connection lost: ${err.message}`);
        if (listener === c) listener = null;
        c.end().catch(() => undefined);
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${CHANNEL}`);
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
      listener = c;
    }

    async function step(): Promise<boolean> {
      if (!listener && !stopped) await listen().catch((err) => note(`LISTEN failed, polling only: ${err.message}`));
      const heads = await pool.query(
        `SELECT partition, next_offset FROM ${schema}.heads WHERE topic = $1 ORDER BY partition`,
        [name],
      );
      let progressed = false;
      for (const h of heads.rows as Array<{ partition: number; next_offset: string }>) {
        const p = h.partition;
        if (stopped) break;
        if ((retryAt.get(p) ?? 0) > Date.now()) continue;
        try {
          if (!next.has(p)) next.set(p, await o.startOffset(p));
          const from = next.get(p)!;
          if (Number(h.next_offset) <= from) continue;
          const r = await pool.query(
            `SELECT "offset", key, value, ts FROM ${schema}.records WHERE topic = $1 AND partition = $2 AND "offset" >= $3 ORDER BY "offset" LIMIT $4`,
            [name, p, from, maxBatch],
          );
          const records: TopicRecord[] = [];
          // Only the contiguous run from `from`: a hole would be a bug, never something to skip.
          for (const row of r.rows) {
            if (Number(row.offset) !== from + records.length) break;
            records.push({
              partition: p,
              offset: Number(row.offset),
              key: row.key,
              value: row.value,
              timestamp: Number(row.ts),
            });
          }
          if (records.length === 0 || stopped) continue;
          await o.onBatch({ partition: p, records });
          next.set(p, from + records.length);
          failures.delete(p);
          progressed = true;
        } catch (err) {
          const n = (failures.get(p) ?? 0) + 1;
          failures.set(p, n);
          retryAt.set(p, Date.now() + Math.min(500 * 2 ** (n - 1), 5000));
          next.delete(p); // redeliver from the consumer's own truth
          log(`group ${o.group} partition ${p}: batch failed, will redeliver: ${(err as Error).message}`);
        }
      }
      return progressed;
    }

    const loop = (async () => {
      while (!stopped) {
        const progressed = await step().catch((err) => {
          note(`poll failed: ${(err as Error).message}`);
          return false;
        });
        if (!progressed && !stopped) await waker.wait();
      }
    })();

    return {
      async stop() {
        stopped = true;
        waker.wake();
        await loop; // resolves once no onBatch runs
        const c = listener;
        listener = null;
        await c?.end().catch(() => undefined);
      },
    };
  }
}
