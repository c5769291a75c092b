import { createHash, randomInt } from 'node:crypto';
import pg from 'pg';

/**
 * Speed appliers splitting the log's partitions between them (issue 10, scale-out): each applier
 * process holds Postgres session advisory locks on one dedicated connection — one naming it as a
 * member, one per partition it works. Every pass it counts the members and keeps its share,
 * ⌈partitions / members⌉: it lets go of partitions above it and takes free ones below it. An
 * applier that dies loses its connection and with it its locks, so the others take its partitions
 * on their next pass; one that hangs (SIGSTOP, a stuck event loop) is cut off by the session's
 * `idle_session_timeout` (the applier touches it at least every pass and between batches).
 *
 * The locks divide the work; they are not what keeps the speed layer exact. Every apply is still
 * a compare-and-set on the partition's offset in the store, so two appliers working one partition
 * for a moment (a rebalance, a session cut off while its batch was in flight) cost a refused
 * batch, never a skipped or doubled position.
 *
 * Written here rather than taken from a library: the appliers read Postgres, not the Kafka log,
 * so Kafka's group protocol has nothing to assign, and Postgres' own locks die with the process.
 */
export interface PartitionLeasesOptions {
  /** A connection string: the leases live on a connection of their own, never a pooled one. */
  connectionString: string;
  /** The deployment's schema: appliers of other deployments in the same database are not counted. */
  schema: string;
  partitions: number;
  /** The session is cut off after this long without a pass (a hung applier's partitions move), ms. Default 15 000. */
  idleTimeoutMs?: number;
  /**
   * Members are counted and shares rebalanced at most this often, ms (a pass comes after every
   * loader commit; the lock table need not be read that often). Default 1000; 0: every pass.
   */
  rebalanceMs?: number;
  /** `application_name` of the lease connection (who holds what in `pg_stat_activity`). */
  applicationName?: string;
}

export interface PartitionLeases {
  /** Rebalance to this applier's share and return the partitions it holds now. */
  owned(): Promise<ReadonlySet<number>>;
  /** Keep the session alive during a long pass (a query at most every second). */
  touch(): Promise<void>;
  /** Let go of every lock (a clean stop: the others take the partitions at once). */
  close(): Promise<void>;
}

/** A 31-bit lock key (positive, so it reads back unchanged as pg_locks' `classid` oid). */
function lockKey(schema: string, what: string): number {
  return createHash('sha256').update(`millrace:${schema}:${what}`).digest().readUInt32BE(0) & 0x7fffffff;
}
const keys = (schema: string) => ({
  members: lockKey(schema, 'speed-members'),
  partitions: lockKey(schema, 'speed-partitions'),
});

const LOCKS_WHERE = `l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = $1::int::oid
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
/** Granted advisory locks on (key, n) in the current database: `n` only. */
const TAKEN_SQL = `SELECT l.objid::int AS n FROM pg_locks l WHERE ${LOCKS_WHERE}`;
/** The same, with the holder's pid and application name. */
const HELD_SQL = `SELECT l.objid::int AS n, l.pid, a.application_name
    FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE ${LOCKS_WHERE} ORDER BY 1`;

export function createPartitionLeases(opts: PartitionLeasesOptions): PartitionLeases {
  const k = keys(opts.schema);
  const P = opts.partitions;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 15_000;
  const rebalanceMs = opts.rebalanceMs ?? 1000;
  let rebalancedAt = Number.NEGATIVE_INFINITY;
  let client: pg.Client | null = null;
  let broken = false;
  let member = 0;
  const held = new Set<number>();
  let lastQuery = 0;

  function drop(): void {
    const c = client;
    client = null;
    broken = false;
    held.clear();
    rebalancedAt = Number.NEGATIVE_INFINITY;
    void c?.end().catch(() => undefined);
  }

  async function query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      const r = await client!.query<R>(sql, params);
      lastQuery = Date.now();
      return r.rows;
    } catch (err) {
      drop();
      throw err;
    }
  }

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: opts.connectionString, application_name: opts.applicationName });
    // The session ends under us (idle timeout, a server restart): the locks are gone, so is our share.
    c.on('error', () => (broken = true));
    c.on('end', () => (broken = true));
    await c.connect();
    client = c;
    await query(`SET idle_session_timeout = ${Math.max(1000, Math.round(idleTimeoutMs))}`, []);
    for (;;) {
      member = randomInt(1, 0x7fffffff);
      const [r] = await query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [k.members, member]);
      if (r.ok) break;
    }
  }

  return {
    async owned() {
      if (client && broken) drop();
      if (!client) await connect();
      if (Date.now() - rebalancedAt < rebalanceMs) return held;
      const members = (await query(TAKEN_SQL, [k.members])).length;
      const share = Math.ceil(P / Math.max(1, members));
      for (const p of [...held].sort((a, b) => b - a)) {
        if (held.size <= share) break;
        await query('SELECT pg_advisory_unlock($1, $2)', [k.partitions, p]);
        held.delete(p);
      }
      if (held.size < share) {
        const taken = new Set((await query<{ n: number }>(TAKEN_SQL, [k.partitions])).map((r) => r.n));
        for (let i = 0; i < P && held.size < share; i++) {
          const p = (member + i) % P;
          if (held.has(p) || taken.has(p)) continue;
          const [r] = await query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [k.partitions, p]);
          if (r.ok) held.add(p);
        }
      }
      rebalancedAt = Date.now();
      return held;
    },
    async touch() {
      if (!client || broken || Date.now() - lastQuery < 1000) return;
      await query('SELECT 1', []).catch(() => undefined);
    },
    async close() {
      const c = client;
      client = null;
      held.clear();
      await c?.end().catch(() => undefined);
    },
  };
}

/** Who holds which partition of a deployment's speed layer, and how many appliers are members. */
export async function partitionLeaseHolders(
  pool: pg.Pool,
  schema: string,
): Promise<{ members: number; partitions: Array<{ partition: number; pid: number; applicationName: string }> }> {
  const k = keys(schema);
  const members = (await pool.query(TAKEN_SQL, [k.members])).rowCount ?? 0;
  const { rows } = await pool.query<{ n: number; pid: number; application_name: string }>(HELD_SQL, [k.partitions]);
  return {
    members,
    partitions: rows.map((r) => ({ partition: r.n, pid: r.pid, applicationName: r.application_name })),
  };
}
