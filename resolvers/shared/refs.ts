import type { RequestLoaders } from './loaders.ts';

/** An entity reference: resolvers return the key, field resolvers (or the owning subgraph) fill the rest. */
export interface IdRef {
  id: string;
}

/** What the floor's reference resolvers need of a request context. */
interface FloorContext {
  loaders: RequestLoaders;
  calendar: { shifts: ReadonlyArray<{ id: string }> };
}
type Ref = { id?: string | null };

/**
 * `__resolveReference` of the floor's shared entities, one definition for every subgraph that
 * extends them: a key the ingested floor map (or the calendar, for shifts) does not know is null.
 */
export const floorRefs = {
  station: async (ref: Ref, ctx: FloorContext) => (await ctx.loaders.directory()).station(ref.id!) ?? null,
  machine: async (ref: Ref, ctx: FloorContext) =>
    (await ctx.loaders.directory()).stationOfMachine(ref.id!) ? { id: ref.id! } : null,
  zone: async (ref: Ref, ctx: FloorContext) =>
    (await ctx.loaders.directory()).zones.includes(ref.id!) ? { id: ref.id! } : null,
  department: async (ref: Ref, ctx: FloorContext) =>
    (await ctx.loaders.directory()).departments.includes(ref.id!) ? { id: ref.id! } : null,
  shift: (ref: Ref, ctx: FloorContext) => (ctx.calendar.shifts.some((s) => s.id === ref.id) ? { id: ref.id! } : null),
};
