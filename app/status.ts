import { ident } from '../lib/ident.ts';
import { partitionLeaseHolders } from '../speed/partition-leases.ts';
import type { Ctx } from './ctx.ts';

/**
 * The state of every part this process runs: connectors (events, dead letters, lag), and the
 * positions of each layer per log partition — what `millrace status` prints and what
 * `millrace verify` waits on before comparing.
 */
export async function collectStatus(ctx: Ctx) {
  const c = ctx.config;
  const out: Record<string, unknown> = {
    mode: {
      postgres: c.DATABASE_URL ? 'external' : 'embedded',
      log: c.KAFKA_BROKERS ? 'kafka' : 'postgres-table',
      speed: c.REDIS_URL ? 'redis' : 'memory',
    },
    modules: Object.fromEntries(ctx.ready),
  };
  if (ctx.connectors) {
    // One connector whose source is down must not hide the others' status.
    const settled = await Promise.allSettled(ctx.connectors.map((k) => k.status()));
    out.connectors = settled.map((r, i) =>
      r.status === 'fulfilled'
        ? r.value
        : {
            name: ctx.connectors![i].name,
            kind: ctx.connectors![i].kind,
            events: 0,
            deadLetters: 0,
            lag: null,
            lastCheckpointAt: null,
            lastError: `status unavailable: ${(r.reason as Error)?.message ?? String(r.reason)}`,
            state: 'retrying',
            failingSince: null,
            positions: [],
            sourceEnd: [],
          },
    );
  }
  if (ctx.pool) {
    const s = ident(c.MILLRACE_SCHEMA);
    const r = await ctx.pool.query(
      `SELECT l.partition, l.next_offset AS loaded, b.next_offset AS batch, b.refreshed_at, b.max_event_time
         FROM ${s}.loader_offsets l JOIN ${s}.batch_watermarks b USING (partition) ORDER BY l.partition`,
    );
    const dl = await ctx.pool.query(`SELECT connector, count(*)::int AS n FROM ${s}.dead_letters GROUP BY connector`);
    out.loader = { offsets: r.rows.map((x) => Number(x.loaded)) };
    out.batch = {
      offsets: r.rows.map((x) => Number(x.batch)),
      refreshedAt: Math.max(0, ...r.rows.map((x) => Number(x.refreshed_at ?? 0))) || null,
      maxEventTime: Math.max(0, ...r.rows.map((x) => Number(x.max_event_time ?? 0))) || null,
    };
    out.deadLetters = Object.fromEntries(dl.rows.map((x) => [x.connector, x.n]));
  }
  if (ctx.topics) out.log = { name: ctx.topics.log.name, endOffsets: await ctx.topics.log.endOffsets() };
  if (ctx.store) {
    const speed: Record<string, unknown> = { offsets: await ctx.store.offsets(c.MILLRACE_PARTITIONS) };
    if (ctx.pool) {
      // Which applier process works which partition (several split them; none: the speed role is down).
      const h = await partitionLeaseHolders(ctx.pool, c.MILLRACE_SCHEMA);
      const by = new Map(h.partitions.map((x) => [x.partition, x.applicationName.replace(/:speed-leases$/, '')]));
      speed.appliers = {
        members: h.members,
        holders: Array.from({ length: c.MILLRACE_PARTITIONS }, (_, p) => by.get(p) ?? null),
      };
    }
    out.speed = speed;
  }
  // Where this process answers queries itself (its subgraphs run here): how many reads identical
  // questions shared (lib/share-reads.ts).
  const reads = ctx.subgraphUrls?.length ? ctx.serving?.readStats?.() : undefined;
  if (reads) out.serving = { reads: reads.reads, sharedReads: reads.shared };
  return out;
}
