import pg from 'pg';
import { z } from 'zod';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { MillraceError, withContext } from '../../lib/errors.ts';
import { readState, saveState, stateTotals, type DeadLetter } from '../checkpoints.ts';
import { defineConnector, type ConnectorStatus } from '../define-connector.ts';
import { createConnectorHealth } from '../connector-health.ts';
import { orderChangeEnvelope, type RowChange } from './postgres-cdc-orders.ts';
import { unpublishable } from '../envelope.ts';
import { mappedChangeEnvelope } from './postgres-cdc-mapped.ts';
import { recordMappingSchema } from '../record-mapping.ts';
import { skipCdc } from './postgres-cdc-skip.ts';
import { formatLsn, lsnToNumber, prepareCdc, slotPositions, streamError, type TableRef } from './postgres-cdc-setup.ts';

const IDENT = /^[a-z_][a-z0-9_]*$/;
const FATAL = new Set(['CDC_SLOT_LOST', 'CDC_WAL_LEVEL', 'CDC_CONFIG']);

export const postgresCdcConfig = z.object({
  /** The source database (where the orders table lives), e.g. postgres://postgres@127.0.0.1:5432/test. */
  connectionString: z.string().min(1),
  /** Logical replication slot (pgoutput); created when missing and this connector never checkpointed. */
  slot: z.string().regex(IDENT).max(63),
  /** Publication the slot streams; created (or extended) to cover `tables`. */
  publication: z.string().regex(IDENT).max(63),
  /** `schema.table` names; each needs a primary key and REPLICA IDENTITY FULL. */
  tables: z.array(z.string().regex(/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/)).min(1),
  /** Most WAL (MB) a stopped slot may hold that you accept; a larger or unlimited server max_slot_wal_keep_size is warned about. Default: warn only when unlimited. */
  maxSlotWalKeepSize: z.number().int().positive().optional(),
  /** Most events per publish: small transactions are grouped up to it, a larger one is published in pieces of it. Default 5000. */
  maxBatchEvents: z.number().int().positive().default(5000),
  /** Most bytes (envelope JSON) per publish, likewise. Default 4 MiB. */
  maxBatchBytes: z
    .number()
    .int()
    .positive()
    .default(4 << 20),
  /**
   * How a row change becomes an event: unset = the MyCPU orders table (`order.change`, with its
   * change flags); a mapping (ingest/record-mapping.ts) reads any table: type, key, time and
   * payload from the row's columns (the new image; the old one for a delete), plus `op`.
   */
  map: recordMappingSchema.optional(),
});
type Config = z.infer<typeof postgresCdcConfig>;

/** The source transaction being read: its events so far (published or waiting in `Run.out`) and dead letters. */
interface Tx {
  commitTime: number;
  events: number;
  dead: DeadLetter[];
}

/** One replication connection; a failure ends it and a fresh one resumes from the slot. */
interface Run {
  service: LogicalReplicationService;
  /** Every message, keepalive and flush, one after the other in arrival order. */
  chain: Promise<void>;
  tx: Tx | null;
  /** Highest LSN acknowledged to the server. */
  acked: number;
  failed: boolean;
  closing: boolean;
  /** Records not published yet: those of the complete transactions (the first `outCommitted`), then the open one's. */
  out: Array<{ key: string; value: string }>;
  outBytes: number;
  outCommitted: number;
  /** Complete transactions not checkpointed yet: the last one's commit end LSN (null: none), their event count and dead letters. */
  commitEnd: number | null;
  commitEvents: number;
  commitDead: DeadLetter[];
  /** When the oldest of them committed here (performance.now()). */
  since: number;
  /** Data messages the library decoded (taken off the socket), and those this connector has finished with. */
  received: number;
  processed: number;
  idleTimer: NodeJS.Timeout | null;
  statusTimer: NodeJS.Timeout | null;
}

/** A group of complete transactions is published once no message arrived for this long (the stream went idle), ms. */
const IDLE_MS = 5;
/** …or once its oldest transaction waited this long while messages kept coming, ms. */
const MAX_LINGER_MS = 100;
/** The server drops a walsender that hears nothing for wal_sender_timeout (60 s by default); flow control stops reading its keepalives while a batch is published. */
const STATUS_EVERY_MS = 10_000;

/** pgoutput, counting the messages the library takes off the socket (it parses each as it arrives, before queueing it). */
class CountingPgoutput extends PgoutputPlugin {
  private readonly onReceived: () => void;

  constructor(options: ConstructorParameters<typeof PgoutputPlugin>[0], onReceived: () => void) {
    super(options);
    this.onReceived = onReceived;
  }

  override parse(buffer: Buffer): Pgoutput.Message {
    this.onReceived();
    return super.parse(buffer);
  }
}

/**
 * PostgreSQL logical replication (pgoutput) → the log (docs/sources.md §5). Row changes become
 * envelopes; complete source transactions are grouped (up to maxBatchEvents / maxBatchBytes, or
 * until the stream goes idle) into one publish, then one checkpoint (the last grouped commit's end
 * LSN), and only then is that LSN acknowledged to the slot — never earlier (auto-acknowledge is off,
 * as is the library's timed ack of merely *received* data). A transaction larger than a batch is
 * published in pieces as it arrives, but checkpointed and acknowledged only with its commit. A crash
 * anywhere before the ack makes the server redeliver every transaction after the slot's confirmed
 * position, with the same LSNs and so the same ids. The library's flow control pauses the socket
 * while a message is handled, so a backlog waits in the server, not in memory.
 * While idle, keepalive positions are acknowledged too, so the slot does not pin unrelated WAL.
 */
export const postgresCdc = defineConnector({
  kind: 'postgres-cdc',
  config: postgresCdcConfig,
  reparse(config, raw) {
    let change: RowChange;
    try {
      change = JSON.parse(raw) as RowChange;
    } catch {
      return `not a row change: ${raw.slice(0, 80)}`;
    }
    return config.map ? mappedChangeEnvelope(config.map, change) : orderChangeEnvelope(change);
  },
  skip: skipCdc,
  create(config: Config, ctx) {
    let pool: pg.Pool | null = null;
    const db = () =>
      (pool ??= new pg.Pool({ connectionString: config.connectionString, max: 2 }).on('error', () => undefined));
    const source = `postgres-cdc:${config.publication}`;
    let tables = new Map<string, TableRef>();
    let run: Run | null = null;
    let stopped = true;
    let warned = false;
    let attempt = 0;
    let timer: NodeJS.Timeout | null = null;
    const health = createConnectorHealth({ stallAfterMs: ctx.stallAfterMs });

    function fail(r: Run, err: unknown): void {
      if (r.failed) return;
      r.failed = true;
      clearTimers(r);
      const e = err instanceof MillraceError ? err : withContext(err, `postgres-cdc ${ctx.name}`);
      health.fail(e);
      ctx.onError(e);
      void r.service.destroy().catch(() => undefined);
      if (run === r) run = null;
      if (!stopped && !r.closing && !FATAL.has(e.code)) retryLater();
    }

    function retryLater(): void {
      if (timer || stopped) return;
      const delay = Math.min(30_000, 500 * 2 ** attempt++);
      timer = setTimeout(() => {
        timer = null;
        if (stopped) return;
        open().then(
          () => (attempt = 0),
          (err: MillraceError) => {
            health.fail(err);
            ctx.onError(err);
            if (!FATAL.has(err.code)) retryLater();
          },
        );
      }, delay);
    }

    const enqueue = (r: Run, fn: () => Promise<void>) => {
      r.chain = r.chain.then(async () => {
        if (r.failed || r.closing) return;
        await fn().catch((err) => fail(r, err));
      });
      return r.chain;
    };

    function clearTimers(r: Run): void {
      if (r.idleTimer) clearTimeout(r.idleTimer);
      if (r.statusTimer) clearInterval(r.statusTimer);
      r.idleTimer = r.statusTimer = null;
    }

    const full = (r: Run) =>
      r.out.length + r.commitDead.length >= config.maxBatchEvents || r.outBytes >= config.maxBatchBytes;

    /**
     * Publish what waits — the complete transactions' records, and with `all` the open transaction's
     * so far too (a transaction larger than a batch) — then checkpoint the last complete transaction's
     * commit and acknowledge it. The open transaction is checkpointed only with its own commit: a crash
     * before that redelivers all of it (the pieces already published come again with the same ids).
     */
    async function flush(r: Run, all: boolean): Promise<void> {
      const n = all ? r.out.length : r.outCommitted;
      const end = r.commitEnd;
      if (n === 0 && end === null) return;
      const records = n === r.out.length ? r.out : r.out.slice(0, n);
      r.out = n === r.out.length ? [] : r.out.slice(n);
      r.outBytes = r.out.reduce((b, x) => b + x.value.length, 0);
      r.outCommitted = 0;
      const events = r.commitEvents;
      const dead = r.commitDead;
      r.commitEnd = null;
      r.commitEvents = 0;
      r.commitDead = [];
      if (records.length > 0) await ctx.log.publish(records);
      if (r.failed || end === null) return;
      await saveState(ctx.pool, ctx.schema, {
        connector: ctx.name,
        source,
        state: { slot: config.slot, lsn: formatLsn(end) },
        events,
        deadLetters: dead,
      });
      if (r.failed) return;
      await ack(r, end);
      health.ok();
    }

    /** Complete transactions wait for more while messages keep coming; once none arrived for IDLE_MS (or MAX_LINGER_MS passed), they go out. */
    function armIdle(r: Run): void {
      if (r.idleTimer || r.failed || r.closing) return;
      const seen = r.received;
      r.idleTimer = setTimeout(() => {
        r.idleTimer = null;
        if (r.failed || r.closing || r.commitEnd === null) return;
        const quiet = r.received === seen && r.processed === r.received;
        if (quiet || performance.now() - r.since >= MAX_LINGER_MS) void enqueue(r, () => flush(r, false));
        else armIdle(r);
      }, IDLE_MS);
    }

    /** A standby status with what is already safe (keepalive replies, and while flow control has the socket paused). */
    function reportAlive(r: Run): void {
      if (r.acked > 0) void r.service.acknowledge(formatLsn(r.acked - 1)).catch(() => undefined);
    }

    async function ack(r: Run, lsn: number): Promise<void> {
      r.acked = Math.max(r.acked, lsn);
      // The library sends lsn + 1 as the flushed position; we report exactly the commit's end LSN,
      // as Postgres' own subscribers do (one byte more could skip a commit record starting there).
      await r.service.acknowledge(formatLsn(r.acked - 1));
    }

    async function onMessage(r: Run, lsn: string, msg: Pgoutput.Message): Promise<void> {
      if (msg.tag === 'begin')
        r.tx = { commitTime: Number(BigInt(msg.commitTime as bigint) / 1000n), events: 0, dead: [] };
      else if (msg.tag === 'insert' || msg.tag === 'update' || msg.tag === 'delete') {
        const tx = r.tx!;
        const table = `${msg.relation.schema}.${msg.relation.name}`;
        const change: RowChange = {
          table,
          lsn: formatLsn(lsnToNumber(lsn)),
          op: msg.tag,
          commitTime: tx.commitTime,
          before: msg.tag === 'insert' ? null : (msg.old ?? msg.key ?? null),
          after: msg.tag === 'delete' ? null : msg.new,
          pk: tables.get(table)?.pk ?? msg.relation.keyColumns,
        };
        const env = !tables.has(table)
          ? `table ${table} is not in this connector's tables`
          : config.map
            ? mappedChangeEnvelope(config.map, change)
            : orderChangeEnvelope(change);
        const value = typeof env === 'string' ? null : JSON.stringify(env);
        // Too big for the log, or bytes that were not UTF-8 / a NUL: a dead letter, not a stall.
        const why = typeof env === 'string' ? env : unpublishable(value!);
        if (why === null && typeof env !== 'string' && value !== null) {
          r.out.push({ key: env.key, value });
          r.outBytes += value.length;
          tx.events++;
          // Full: the complete transactions go out; with none waiting, this one's records so far (a transaction larger than a batch).
          if (full(r)) await flush(r, r.commitEnd === null);
        } else
          tx.dead.push({
            position: `${table}:${change.lsn}`,
            raw: JSON.stringify(change, (_k, v) => (v instanceof Date ? v.getTime() : v)),
            reason: why ?? 'unreadable',
          });
      } else if (msg.tag === 'truncate') {
        const names = msg.relations.map((x) => `${x.schema}.${x.name}`).join(',');
        r.tx?.dead.push({
          position: `${names}:${formatLsn(lsnToNumber(lsn))}`,
          raw: 'TRUNCATE',
          reason: 'TRUNCATE carries no row images; the rows it removed emit no changes',
        });
      } else if (msg.tag === 'commit') {
        const tx = r.tx;
        r.tx = null;
        if (!tx) return;
        if (r.commitEnd === null) r.since = performance.now();
        r.commitEnd = lsnToNumber(msg.commitEndLsn ?? lsn);
        r.commitEvents += tx.events;
        for (const d of tx.dead) r.commitDead.push(d);
        r.outCommitted = r.out.length;
        if (full(r)) await flush(r, false);
        else armIdle(r);
      }
    }

    /** Check and prepare the source, then stream from the slot's confirmed position. */
    async function open(): Promise<void> {
      const saved = await readState<{ lsn: string }>(ctx.pool, ctx.schema, ctx.name);
      const prep = await prepareCdc(db(), { ...config, checkpointedLsn: saved?.lsn ?? null });
      if (prep.warning && !warned) {
        warned = true;
        ctx.onError(new MillraceError('CDC_UNBOUNDED_SLOT', `warning: ${prep.warning}`));
      }
      tables = new Map(prep.tables.map((t) => [t.full, t]));
      const { confirmed } = await slotPositions(db(), config.slot);
      // Flow control: the library pauses the socket until the 'data' handler's promise settles, so
      // the backlog stays in the server (at most one socket read is decoded ahead of the handler).
      const service = new LogicalReplicationService(
        { connectionString: config.connectionString },
        { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
      );
      const r: Run = {
        service,
        chain: Promise.resolve(),
        tx: null,
        acked: confirmed ?? 0,
        failed: false,
        closing: false,
        out: [],
        outBytes: 0,
        outCommitted: 0,
        commitEnd: null,
        commitEvents: 0,
        commitDead: [],
        since: 0,
        received: 0,
        processed: 0,
        idleTimer: null,
        statusTimer: null,
      };
      service.on('error', (err) => fail(r, streamError(config.slot, err)));
      service.on('data', (lsn: string, msg: Pgoutput.Message) => {
        const done = enqueue(r, () => onMessage(r, lsn, msg));
        return done.then(() => void r.processed++);
      });
      service.on('heartbeat', (lsn: string, _ts: number, reply: boolean) => {
        if (reply) reportAlive(r); // answer now, with what is already safe
        // Keepalives bypass the library's queue: its position is past everything received before it,
        // so it is usable only when all of that has been handled (nothing decoded still waits).
        if (r.processed !== r.received) return;
        void enqueue(r, async () => {
          if (r.tx !== null) return;
          await flush(r, false); // the stream is idle: what waits goes out now
          if (!r.failed && lsnToNumber(lsn) > r.acked) await ack(r, lsnToNumber(lsn));
        });
      });
      // While paused (a batch being published), the server's keepalives are not read: tell it we are alive.
      r.statusTimer = setInterval(() => reportAlive(r), STATUS_EVERY_MS);
      const started = new Promise<'started'>((resolve) => service.once('start', () => resolve('started')));
      // Always from 0/0: the server then starts at the slot's confirmed position (a later LSN would skip unacked changes).
      const plugin = new CountingPgoutput(
        { protoVersion: 1, publicationNames: [config.publication] },
        () => void r.received++,
      );
      const ended = service.subscribe(plugin, config.slot, '0/0');
      const first = await Promise.race([started, ended.then(() => 'ended' as const)]).catch(async (err) => {
        clearTimers(r);
        await service.destroy().catch(() => undefined);
        throw streamError(config.slot, err);
      });
      if (first === 'ended') {
        clearTimers(r);
        throw new MillraceError('CDC_STREAM', 'replication ended before it started', { retryable: true });
      }
      run = r;
      ended.then(
        () => !r.closing && fail(r, new MillraceError('CDC_STREAM', 'replication stream ended', { retryable: true })),
        (err) => fail(r, streamError(config.slot, err)),
      );
    }

    return {
      name: ctx.name,
      kind: 'postgres-cdc',
      async start() {
        stopped = false;
        try {
          await open();
        } catch (err) {
          const e = err instanceof MillraceError ? err : withContext(err, `postgres-cdc ${ctx.name}`);
          health.fail(e);
          if (FATAL.has(e.code)) {
            stopped = true;
            throw e;
          }
          ctx.onError(e); // e.g. the table does not exist yet: keep trying
          retryLater();
        }
      },
      async stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
        timer = null;
        const r = run;
        run = null;
        if (r) {
          r.closing = true; // what is being checkpointed finishes (and is acked); nothing new starts
          clearTimers(r);
          await r.chain;
          // Complete transactions still waiting for their group go out now (a restart would only redeliver them).
          if (!r.failed) await flush(r, false).catch((err) => fail(r, err));
          await r.service.destroy().catch(() => undefined);
        }
        await pool?.end();
        pool = null;
      },
      async status(): Promise<ConnectorStatus> {
        const { confirmed, end } = await slotPositions(db(), config.slot);
        const r = run;
        // The server reports WAL positions only as it passes them: ask for keepalives (briefly) so an
        // idle connector can show it has read everything up to the WAL end read above.
        for (const deadline = Date.now() + 1_000; r && !r.failed && r.acked < end && Date.now() < deadline;) {
          await r.service.acknowledge(formatLsn(r.acked - 1), true);
          await new Promise((res) => setTimeout(res, 20));
        }
        const position = Math.max(r?.acked ?? 0, confirmed ?? 0);
        const t = await stateTotals(ctx.pool, ctx.schema, ctx.name);
        return {
          name: ctx.name,
          kind: 'postgres-cdc',
          events: t.events,
          deadLetters: t.deadLetters,
          lastCheckpointAt: t.lastCheckpointAt,
          ...health.snapshot(),
          lag: Math.max(0, end - position),
          positions: [position],
          sourceEnd: [end],
        };
      },
    };
  },
});
