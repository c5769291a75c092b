import type { Serving } from '../serving/types.ts';

/** One station of the floor plan (the simulator writes the real floor map). */
export interface FloorStation {
  id: string;
  name: string;
  zone: string;
  department: string;
  /** Position on the floor plan. */
  x: number;
  y: number;
}

/** The factory floor: stations in flow order. */
export interface FloorMap {
  stations: FloorStation[];
}

/** What every resolver receives: the serving layer and the floor map, nothing long-lived of its own. */
export interface ResolverContext {
  serving: Serving;
  floor: FloorMap;
  /** The request's deadline (epoch ms) from the gateway's `x-millrace-deadline`; reads stop at it. Default none. */
  deadline?: number;
}
