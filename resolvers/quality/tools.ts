import type { EntityRow } from '../../serving/types.ts';
import type { ToolOrder } from '../generated/quality.ts';
import type { ResolverContext } from '../context.ts';
import { connectionOf } from '../shared/connection.ts';
import { parseWindow } from '../shared/window.ts';
import { badInput, iso } from '../validate-args.ts';

/** The loader's out → in pairing of tools (loader/state.ts PAIRINGS): open = out of the crib now. */
export const TOOL_PAIRING = 'tool-use';
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** A tool of the master list (entity `tool`, the CSV's columns) with its life and state now. */
export interface ToolRecord {
  id: string;
  type: string | null;
  vendor: string | null;
  ratedLifeHours: number | null;
  usedHours: number;
  lifeUsed: number | null;
  checkedOutSince: number | null;
}

const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);

/** The rated life from the master list's `rated_lifespan_hours` (a CSV gives strings); null when absent or not positive. */
export function ratedLifeOf(d: Record<string, unknown>): number | null {
  const v = d.rated_lifespan_hours ?? d.ratedLifespanHours;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

const indexes = new WeakMap<readonly EntityRow[], Promise<{ list: ToolRecord[]; byId: Map<string, ToolRecord> }>>();

/**
 * The request's tools in id order: master data, life used = tool_use_ms from the history start up
 * to the request's minute (one read for all tools), out now from the open pairings (one read).
 */
export function toolsOf(ctx: ResolverContext): Promise<{ list: ToolRecord[]; byId: Map<string, ToolRecord> }> {
  return ctx.loaders.entities('tool').then((rows) => {
    let ix = indexes.get(rows);
    if (!ix) indexes.set(rows, (ix = build(ctx, rows)));
    return ix;
  });
}

async function build(ctx: ResolverContext, rows: readonly EntityRow[]) {
  const to = Math.max(ctx.calendar.historyStart + MINUTE, Math.ceil(ctx.loaders.now() / MINUTE) * MINUTE);
  const [use, open] = await Promise.all([
    ctx.loaders.read({ metric: 'tool_use_ms', from: ctx.calendar.historyStart, to, grain: null, zone: 'UTC' }),
    ctx.loaders.openPairings(TOOL_PAIRING),
  ]);
  const usedMs = new Map<string, number>();
  for (const p of use.points) usedMs.set(p.dims.tool, (usedMs.get(p.dims.tool) ?? 0) + p.cells[0]);
  const out = new Map(open.map((p) => [p.key, p.startTime]));
  const list = rows
    .filter((r) => !r.deleted && r.data && typeof r.data === 'object')
    .map((r): ToolRecord => {
      const d = r.data as Record<string, unknown>;
      const rated = ratedLifeOf(d);
      const usedHours = (usedMs.get(r.key) ?? 0) / HOUR;
      return {
        id: r.key,
        type: text(d.type),
        vendor: text(d.vendor),
        ratedLifeHours: rated,
        usedHours,
        lifeUsed: rated === null ? null : usedHours / rated,
        checkedOutSince: out.get(r.key) ?? null,
      };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { list, byId: new Map(list.map((t) => [t.id, t])) };
}

export async function toolsConnection(
  ctx: ResolverContext,
  args: { first?: number | null; after?: string | null; checkedOut?: boolean | null; orderBy?: ToolOrder | null },
) {
  let list = (await toolsOf(ctx)).list.filter(
    (t) => args.checkedOut == null || (t.checkedOutSince !== null) === args.checkedOut,
  );
  if (args.orderBy?.field === 'LIFE_USED') {
    const sign = args.orderBy.direction === 'ASC' ? 1 : -1;
    // Tools without a rating sort last either way.
    list = [...list].sort(
      (a, b) =>
        (a.lifeUsed === null ? 1 : 0) - (b.lifeUsed === null ? 1 : 0) ||
        sign * ((a.lifeUsed ?? 0) - (b.lifeUsed ?? 0)) ||
        a.id.localeCompare(b.id),
    );
  } else if (args.orderBy?.field === 'ID' && args.orderBy.direction !== 'ASC') list = [...list].reverse();
  const c = connectionOf(list, (t) => t.id, args);
  return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: { id: e.node.id } })) };
}

async function tool(ctx: ResolverContext, id: string): Promise<ToolRecord> {
  const t = (await toolsOf(ctx)).byId.get(id);
  if (!t) throw badInput(`unknown tool ${JSON.stringify(id)}`);
  return t;
}

type Ref = { id: string };
/** Tool fields from the request's tool index; checkouts from one read per range for all tools. */
export const toolFields = {
  type: async (t: Ref, _a: unknown, ctx: ResolverContext) => (await tool(ctx, t.id)).type,
  vendor: async (t: Ref, _a: unknown, ctx: ResolverContext) => (await tool(ctx, t.id)).vendor,
  ratedLifeHours: async (t: Ref, _a: unknown, ctx: ResolverContext) => (await tool(ctx, t.id)).ratedLifeHours,
  usedHours: async (t: Ref, _a: unknown, ctx: ResolverContext) => (await tool(ctx, t.id)).usedHours,
  lifeUsed: async (t: Ref, _a: unknown, ctx: ResolverContext) => (await tool(ctx, t.id)).lifeUsed,
  checkedOut: async (t: Ref, _a: unknown, ctx: ResolverContext) => (await tool(ctx, t.id)).checkedOutSince !== null,
  checkedOutSince: async (t: Ref, _a: unknown, ctx: ResolverContext) => iso((await tool(ctx, t.id)).checkedOutSince),
  checkouts: async (t: Ref, args: { from: string; to: string }, ctx: ResolverContext) => {
    const w = parseWindow(args, ctx, 'hour');
    const r = await ctx.loaders.read({ metric: 'tool_checkouts', from: w.from, to: w.to, grain: null, zone: w.zone });
    return r.points.filter((p) => p.dims.tool === t.id).reduce((a, p) => a + p.cells[0], 0);
  },
};
