import pg from 'pg';
import { z } from 'zod';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { MillraceError, withContext } from '../../lib/errors.ts';
import { readState, saveState, stateTotals, type DeadLetter } from '../checkpoints.ts';
import { defineConnector, type ConnectorStatus } from '../define-connector.ts';
import type { Envelope } from '../envelope.ts';
import { orderChangeEnvelope, type RowChange } from './postgres-cdc-orders.ts';
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
});
type Config = z.infer<typeof postgresCdcConfig>;

interface Tx { commitTime: number; events: Envelope[]; dead: DeadLetter[] }
/** One replication connection; a failure ends it and a fresh one resumes from the slot. */
interface Run { service: LogicalReplicationService; chain: Promise<void>; tx: Tx | null; acked: number; failed: boolean; closing: boolean }

/**
 * PostgreSQL logical replication (pgoutput) → the log (docs/sources.md §5). Per source transaction:
 * map its row changes to envelopes, publish them, save the checkpoint (the commit's end LSN), and
 * only then acknowledge that LSN to the slot — never earlier (auto-acknowledge is off, as is the
 * library's timed ack of merely *received* data). A crash anywhere before the ack makes the server
 * redeliver the transaction from the slot's confirmed position, with the same LSNs and so the same ids.
 * While idle, keepalive positions are acknowledged too, so the slot does not pin unrelated WAL.
 */
export const postgresCdc = defineConnector({
  kind: 'postgres-cdc',
  config: postgresCdcConfig,
  reparse(_config, raw) {
    let change: RowChange;
    try {
      change = JSON.parse(raw) as RowChange;
    } catch {
      return `not a row change: ${raw.slice(0, 80)}`;
    }
    return orderChangeEnvelope(change);
  },
  create(config: Config, ctx) {
    let pool: pg.Pool | null = null;
    const db = () => (pool ??= new pg.Pool({ connectionString: config.connectionString, max: 2 }).on('error', () => undefined));
    const source = `postgres-cdc:${config.publication}`;
    let tables = new Map<string, TableRef>();
    let run: Run | null = null;
    let stopped = true;
    let warned = false;
    let attempt = 0;
    let timer: NodeJS.Timeout | null = null;
    let lastError: string | null = null;

    function fail(r: Run, err: unknown): void {
      if (r.failed) return;
      r.failed = true;
      const e = err instanceof MillraceError ? err : withContext(err, `postgres-cdc ${ctx.name}`);
      lastError = e.message;
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
        open().then(() => (attempt = 0), (err: MillraceError) => {
          lastError = err.message;
          ctx.onError(err);
          if (!FATAL.has(err.code)) retryLater();
        });
      }, delay);
    }

    const enqueue = (r: Run, fn: () => Promise<void>) => {
      r.chain = r.chain.then(async () => {
        if (r.failed || r.closing) return;
        await fn().catch((err) => fail(r, err));
      });
    };

    async function ack(r: Run, lsn: number): Promise<void> {
      r.acked = Math.max(r.acked, lsn);
      // The library sends lsn + 1 as the flushed position; we report exactly the commit's end LSN,
      // as Postgres' own subscribers do (one byte more could skip a commit record starting there).
      await r.service.acknowledge(formatLsn(r.acked - 1));
    }

    async function onMessage(r: Run, lsn: string, msg: Pgoutput.Message): Promise<void> {
      if (msg.tag === 'begin') r.tx = { commitTime: Number(BigInt(msg.commitTime as bigint) / 1000n), events: [], dead: [] };
      else if (msg.tag === 'insert' || msg.tag === 'update' || msg.tag === 'delete') {
        const tx = r.tx!;
        const table = `${msg.relation.schema}.${msg.relation.name}`;
        const change: RowChange = {
          table, lsn: formatLsn(lsnToNumber(lsn)), op: msg.tag, commitTime: tx.commitTime,
          before: msg.tag === 'insert' ? null : (msg.old ?? msg.key ?? null),
          after: msg.tag === 'delete' ? null : msg.new,
          pk: tables.get(table)?.pk ?? msg.relation.keyColumns,
        };
        const env = tables.has(table) ? orderChangeEnvelope(change) : `table ${table} is not in this connector's tables`;
        if (typeof env !== 'string') tx.events.push(env);
        else tx.dead.push({ position: `${table}:${change.lsn}`, raw: JSON.stringify(change, (_k, v) => (v instanceof Date ? v.getTime() : v)), reason: env });
      } else if (msg.tag === 'truncate') {
        const names = msg.relations.map((x) => `${x.schema}.${x.name}`).join(',');
        r.tx?.dead.push({ position: `${names}:${formatLsn(lsnToNumber(lsn))}`, raw: 'TRUNCATE', reason: 'TRUNCATE carries no row images; the rows it removed emit no changes' });
      } else if (msg.tag === 'commit') {
        const tx = r.tx;
        r.tx = null;
        if (!tx) return;
        const end = lsnToNumber(msg.commitEndLsn ?? lsn);
        if (tx.events.length > 0) await ctx.log.publish(tx.events.map((e) => ({ key: e.key, value: JSON.stringify(e) })));
        if (r.failed) return;
        await saveState(ctx.pool, ctx.schema, { connector: ctx.name, source, state: { slot: config.slot, lsn: formatLsn(end) }, events: tx.events.length, deadLetters: tx.dead });
        if (r.failed) return;
        await ack(r, end);
        lastError = null;
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
      const service = new LogicalReplicationService({ connectionString: config.connectionString }, { acknowledge: { auto: false, timeoutSeconds: 0 } });
      const r: Run = { service, chain: Promise.resolve(), tx: null, acked: confirmed ?? 0, failed: false, closing: false };
      service.on('error', (err) => fail(r, streamError(config.slot, err)));
      service.on('data', (lsn: string, msg: Pgoutput.Message) => enqueue(r, () => onMessage(r, lsn, msg)));
      service.on('heartbeat', (lsn: string, _ts: number, reply: boolean) => {
        if (reply) void r.service.acknowledge(formatLsn(r.acked - 1)); // answer now, with what is already safe
        enqueue(r, async () => {
          if (r.tx === null && lsnToNumber(lsn) > r.acked) await ack(r, lsnToNumber(lsn));
        });
      });
      const started = new Promise<'started'>((resolve) => service.once('start', () => resolve('started')));
      // Always from 0/0: the server then starts at the slot's confirmed position (a later LSN would skip unacked changes).
      const ended = service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [config.publication] }), config.slot, '0/0');
      const first = await Promise.race([started, ended.then(() => 'ended' as const)]).catch(async (err) => {
        await service.destroy().catch(() => undefined);
        throw streamError(config.slot, err);
      });
      if (first === 'ended') throw new MillraceError('CDC_STREAM', 'replication ended before it started', { retryable: true });
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
          lastError = e.message;
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
          r.closing = true; // the transaction being checkpointed finishes (and is acked); nothing new starts
          await r.chain;
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
        for (const deadline = Date.now() + 1_000; r && !r.failed && r.acked < end && Date.now() < deadline; ) {
          await r.service.acknowledge(formatLsn(r.acked - 1), true);
          await new Promise((res) => setTimeout(res, 20));
        }
        const position = Math.max(r?.acked ?? 0, confirmed ?? 0);
        const t = await stateTotals(ctx.pool, ctx.schema, ctx.name);
        return {
          name: ctx.name, kind: 'postgres-cdc', events: t.events, deadLetters: t.deadLetters, lastCheckpointAt: t.lastCheckpointAt, lastError,
          lag: Math.max(0, end - position), positions: [position], sourceEnd: [end],
        };
      },
    };
  },
});
