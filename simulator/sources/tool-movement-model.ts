import type { FloorMap } from '../floor.ts';
import { MinHeap } from '../heap.ts';
import { createRng, deriveSeed } from '../prng.ts';
import type { Tool } from './tool-master.ts';

/** One real check-out or check-in at the tool crib (docs/sources.md row 8). */
export interface ToolMove {
  toolId: string;
  action: 'out' | 'in';
  /** Employee id of the worker taking or returning the tool. */
  holder: string;
  /** Epoch ms, whole seconds. */
  at: number;
  /** For an 'in': when the same checkout began (its 'out'); null for an 'out'. */
  outAt: number | null;
}

export interface ToolMovementModelOptions {
  seed: number;
  /** Every tool is in the crib at this time, epoch ms. */
  startTime: number;
  floor: FloorMap;
  tools: readonly Tool[];
  /** Mean time a tool stays in the crib between checkouts, ms (exponential). Default 90 min. */
  idleMeanMs?: number;
  /** Checkout duration bounds, ms (log-uniform: many short uses, a few long ones). Defaults 10 min and 6 h. */
  useMinMs?: number;
  useMaxMs?: number;
}

export interface ToolMovementModel {
  /** Time of the next movement, epoch ms. */
  peekTime(): number;
  next(): ToolMove;
}

const MIN = 60_000;
const toSecond = (ms: number) => Math.max(1_000, Math.round(ms / 1_000) * 1_000);
/** The line model's shifts (06–14, 14–22, 22–06 UTC), so a holder is someone on shift then. */
const shiftOf = (t: number): number => Math.floor(((((new Date(t).getUTCHours() - 6) % 24) + 24) % 24) / 8);

/**
 * Each tool alternates crib → worker → crib. A pure function of the seed: one heap of each tool's
 * next movement ordered by (time, tool index), one PRNG stream, so pacing never changes the history.
 * The holder is one of the two operators on shift at a machine of a station where the tool is used
 * (the same numbering as the line model's operators), and the one who took it returns it.
 */
export function createToolMovementModel(opts: ToolMovementModelOptions): ToolMovementModel {
  const rng = createRng(deriveSeed(opts.seed, 'tool-movements'));
  const idleMean = opts.idleMeanMs ?? 90 * MIN;
  const useMin = opts.useMinMs ?? 10 * MIN;
  const useMax = opts.useMaxMs ?? 360 * MIN;
  // Global machine index, in floor order, as the line model numbers machines for operator ids.
  const machineIndex = new Map<string, number[]>();
  let index = 0;
  for (const s of opts.floor.stations)
    machineIndex.set(
      s.id,
      s.machines.map(() => index++),
    );
  const allMachines = [...machineIndex.values()].flat();
  if (allMachines.length === 0) throw new Error('tool movement model: the floor map has no machines');

  const machinesOf = opts.tools.map((t) => {
    const m = t.useCases.flatMap((s) => machineIndex.get(s) ?? []);
    return m.length > 0 ? m : allMachines;
  });
  const holders = new Array<string | null>(opts.tools.length).fill(null);
  const outAt = new Array<number | null>(opts.tools.length).fill(null);
  const heap = new MinHeap<{ t: number; tool: number }>((a, b) => a.t < b.t || (a.t === b.t && a.tool < b.tool));
  opts.tools.forEach((_, tool) => heap.push({ t: opts.startTime + toSecond(rng.exp(idleMean / 1.5)), tool }));

  return {
    peekTime: () => heap.peek()!.t,
    next() {
      const { t, tool } = heap.pop()!;
      const toolId = opts.tools[tool].toolId;
      if (holders[tool] === null) {
        const machines = machinesOf[tool];
        const m = machines[rng.int(0, machines.length - 1)];
        const holder = `E${String(1 + (m * 3 + shiftOf(t)) * 2 + rng.int(0, 1)).padStart(4, '0')}`;
        holders[tool] = holder;
        outAt[tool] = t;
        heap.push({ t: t + toSecond(rng.logUniform(useMin, useMax)), tool });
        return { toolId, action: 'out', holder, at: t, outAt: null };
      }
      const holder = holders[tool]!;
      const began = outAt[tool];
      holders[tool] = null;
      outAt[tool] = null;
      heap.push({ t: t + toSecond(rng.exp(idleMean)), tool });
      return { toolId, action: 'in', holder, at: t, outAt: began };
    },
  };
}
