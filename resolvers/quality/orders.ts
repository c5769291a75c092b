import type { EntityRow } from '../../serving/types.ts';
import type { CalendarGrain } from '../../serving/calendar.ts';
import { mergeFreshness } from '../../serving/calendar-series.ts';
import type { OrderKind, RepairStatus } from '../generated/quality.ts';
import type { ResolverContext } from '../context.ts';
import { connectionOf } from '../shared/connection.ts';
import { parseWindow, toBucket, toFreshness } from '../shared/window.ts';
import { badInput, iso } from '../validate-args.ts';

/** An order's current state, from the `order` entity (the CDC after-image of the orders table). */
export interface OrderRecord {
  id: string;
  kind: OrderKind;
  severity: number | null;
  status: RepairStatus;
  subject: string;
  requestedAt: number;
  completedAt: number | null;
}

const MINUTE = 60_000;
const ms = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v)
    ? v
    : typeof v === 'string' && Number.isFinite(Date.parse(v))
      ? Date.parse(v)
      : null;

/** A row image → an order; null for rows that are not orders (so a malformed image is skipped, never a crash). */
export function orderFromEntity(row: EntityRow): OrderRecord | null {
  if (row.deleted || !row.data || typeof row.data !== 'object') return null;
  const d = row.data as Record<string, unknown>;
  const kind = d.kind === 'repair' ? 'REPAIR' : d.kind === 'purchase' ? 'PURCHASE' : null;
  // Purchases end `received`, repairs `completed`: both are the end of the order.
  const status =
    d.status === 'requested'
      ? 'REQUESTED'
      : d.status === 'confirmed'
        ? 'CONFIRMED'
        : d.status === 'completed' || d.status === 'received'
          ? 'COMPLETED'
          : null;
  const requestedAt = ms(d.requested_at);
  if (!kind || !status || requestedAt === null) return null;
  const sev = d.severity === null || d.severity === undefined ? null : Number(d.severity);
  return {
    id: row.key,
    kind,
    status,
    requestedAt,
    severity: sev !== null && Number.isInteger(sev) ? sev : null,
    subject: typeof d.subject === 'string' ? d.subject : '',
    completedAt: ms(d.completed_at),
  };
}

const indexes = new WeakMap<readonly EntityRow[], { list: OrderRecord[]; byId: Map<string, OrderRecord> }>();

/** The request's orders, newest request first (then by id), indexed by id; built once per request. */
export async function ordersOf(ctx: ResolverContext): Promise<{ list: OrderRecord[]; byId: Map<string, OrderRecord> }> {
  const rows = await ctx.loaders.entities('order');
  let ix = indexes.get(rows);
  if (!ix) {
    const list = rows
      .map(orderFromEntity)
      .filter((o): o is OrderRecord => o !== null)
      .sort((a, b) => b.requestedAt - a.requestedAt || a.id.localeCompare(b.id));
    indexes.set(rows, (ix = { list, byId: new Map(list.map((o) => [o.id, o])) }));
  }
  return ix;
}

export async function ordersConnection(
  ctx: ResolverContext,
  args: {
    first?: number | null;
    after?: string | null;
    kinds?: OrderKind[] | null;
    statuses?: RepairStatus[] | null;
    severities?: number[] | null;
    open?: boolean | null;
  },
) {
  const { list } = await ordersOf(ctx);
  const kinds = args.kinds ? new Set(args.kinds) : null;
  const statuses = args.statuses ? new Set(args.statuses) : null;
  const severities = args.severities ? new Set(args.severities) : null;
  const rows = list.filter(
    (o) =>
      (!kinds || kinds.has(o.kind)) &&
      (!statuses || statuses.has(o.status)) &&
      (!severities || (o.severity !== null && severities.has(o.severity))) &&
      (args.open == null || (o.status !== 'COMPLETED') === args.open),
  );
  const c = connectionOf(rows, (o) => o.id, args);
  return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: { id: e.node.id } })) };
}

/** Order fields from the request's order index. */
export const orderFields = {
  kind: async (o: { id: string }, _a: unknown, ctx: ResolverContext) => (await order(ctx, o.id)).kind,
  severity: async (o: { id: string }, _a: unknown, ctx: ResolverContext) => (await order(ctx, o.id)).severity,
  status: async (o: { id: string }, _a: unknown, ctx: ResolverContext) => (await order(ctx, o.id)).status,
  subject: async (o: { id: string }, _a: unknown, ctx: ResolverContext) => (await order(ctx, o.id)).subject,
  requestedAt: async (o: { id: string }, _a: unknown, ctx: ResolverContext) =>
    iso((await order(ctx, o.id)).requestedAt),
  completedAt: async (o: { id: string }, _a: unknown, ctx: ResolverContext) =>
    iso((await order(ctx, o.id)).completedAt),
  repairMinutes: async (o: { id: string }, _a: unknown, ctx: ResolverContext) => {
    const r = await order(ctx, o.id);
    return r.kind === 'REPAIR' && r.status === 'COMPLETED' && r.completedAt !== null
      ? (r.completedAt - r.requestedAt) / MINUTE
      : null;
  },
  machine: async (o: { id: string }, _a: unknown, ctx: ResolverContext) => {
    const r = await order(ctx, o.id);
    return r.kind === 'REPAIR' && (await ctx.loaders.directory()).stationOfMachine(r.subject)
      ? { id: r.subject }
      : null;
  },
};

async function order(ctx: ResolverContext, id: string): Promise<OrderRecord> {
  const o = (await ordersOf(ctx)).byId.get(id);
  if (!o) throw badInput(`unknown order ${JSON.stringify(id)}`);
  return o;
}

/** Repair orders on a machine, newest first. */
export async function repairOrdersOf(
  ctx: ResolverContext,
  machine: string,
  args: { open?: boolean | null; first?: number | null },
) {
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > 1000) throw badInput('`first` must be between 1 and 1000');
  return (await ordersOf(ctx)).list
    .filter(
      (o) =>
        o.kind === 'REPAIR' && o.subject === machine && (args.open == null || (o.status !== 'COMPLETED') === args.open),
    )
    .slice(0, first)
    .map((o) => ({ id: o.id }));
}

/** MTTR = repair_duration_ms / repairs_completed per bucket (and severity), both read once. */
export async function mttrReport(
  ctx: ResolverContext,
  args: {
    from: string;
    to: string;
    grain?: CalendarGrain | null;
    timeZone?: string | null;
    severities?: number[] | null;
    bySeverity?: boolean | null;
  },
) {
  const w = parseWindow(args, ctx, 'day');
  if (args.severities?.some((s) => !Number.isInteger(s))) throw badInput('`severities` must be integers');
  const where = args.severities ? { severity: args.severities.map(String) } : undefined;
  const key = { from: w.from, to: w.to, grain: w.grain, zone: w.zone, where };
  const [done, duration] = await Promise.all([
    ctx.loaders.read({ metric: 'repairs_completed', ...key }),
    ctx.loaders.read({ metric: 'repair_duration_ms', ...key }),
  ]);
  const bySeverity = args.bySeverity ?? true;
  const cells = new Map<string, { bucket: number; severity: number | null; n: number; ms: number }>();
  const cell = (bucket: number, severity: string) => {
    const sev = bySeverity ? Number(severity) : null;
    const k = `${bucket}:${sev}`;
    return cells.get(k) ?? cells.set(k, { bucket, severity: sev, n: 0, ms: 0 }).get(k)!;
  };
  // Every bucket has a row without `bySeverity`; with it, every bucket × severity seen in the range.
  const severities = new Set([...done.points, ...duration.points].map((p) => p.dims.severity));
  done.buckets.forEach((_, i) => (bySeverity ? [...severities].forEach((s) => cell(i, s)) : cell(i, '')));
  for (const p of done.points) cell(p.bucket, p.dims.severity).n += p.cells[0];
  for (const p of duration.points) cell(p.bucket, p.dims.severity).ms += p.cells[0];
  const rows = [...cells.values()].sort((a, b) => a.bucket - b.bucket || (a.severity ?? 0) - (b.severity ?? 0));
  const mttr = (n: number, sum: number) => (n > 0 ? sum / n / MINUTE : null);
  const n = rows.reduce((a, r) => a + r.n, 0);
  const sum = rows.reduce((a, r) => a + r.ms, 0);
  return {
    rows: rows.map((r) => ({
      bucket: toBucket(done.buckets[r.bucket]),
      severity: r.severity,
      repairsCompleted: r.n,
      mttrMinutes: mttr(r.n, r.ms),
    })),
    repairsCompleted: n,
    mttrMinutes: mttr(n, sum),
    freshness: toFreshness(
      mergeFreshness([
        { f: done.freshness, total: n },
        { f: duration.freshness, total: sum },
      ]),
    ),
  };
}
