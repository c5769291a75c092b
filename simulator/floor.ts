import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The MyCPU floor (MYCPU.md "The floor"): static JSON that never refreshes. Stations are listed in
 * flow order; side rooms (tool crib, maintenance bay) have no machines because no parts flow there.
 */
const stationSchema = z.object({
  /** Three-letter station code, the `station` of every machining event. */
  id: z.string().regex(/^[A-Z]{3}$/),
  name: z.string().min(1),
  /** Zone of the floor (Z1 receiving … Z5 pack & ship, Z6 side rooms); heat sensors are per zone. */
  zone: z.string().min(1),
  department: z.string().min(1),
  /** Position on the floor plan (metres from the plan's top-left corner). */
  x: z.number(),
  y: z.number(),
  /** Machine ids; one energy meter each. */
  machines: z.array(z.string().min(1)),
  /** Place in the line's flow (0 = first); null for stations parts do not flow through in order (rework, side rooms). */
  flowIndex: z.number().int().nonnegative().nullable().optional(),
  /** Best-practice cycle time, seconds (OEE performance); null when not declared. */
  idealCycleSec: z.number().positive().nullable().optional(),
});

export const floorMapSchema = z.object({ stations: z.array(stationSchema).min(1) }).superRefine((floor, ctx) => {
  // Ids are joined on everywhere (events, meters, the API); a duplicate would silently merge two.
  const seen = new Set<string>();
  for (const id of floor.stations.flatMap((s) => [s.id, ...s.machines])) {
    if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate station or machine id ${id}` });
    seen.add(id);
  }
});

export type FloorMap = z.infer<typeof floorMapSchema>;
export type FloorStation = FloorMap['stations'][number];

/** The floor map shipped beside this file. */
export const DEFAULT_FLOOR_MAP_PATH = fileURLToPath(new URL('./floor-map.json', import.meta.url));

/**
 * Read and validate a floor map.
 * @param path JSON file; default {@link DEFAULT_FLOOR_MAP_PATH}.
 * @throws Error naming the file and the first invalid field.
 */
export function loadFloorMap(path: string = DEFAULT_FLOOR_MAP_PATH): FloorMap {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`floor map ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = floorMapSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`floor map ${path}: ${issue.path.join('.') || 'file'}: ${issue.message}`);
  }
  return parsed.data;
}
