import type { FloorMap } from './floor.ts';
import { MinHeap } from './heap.ts';
import { createRng, deriveSeed } from './prng.ts';
import {
  EVENTS_PER_PART,
  FLOW,
  FLOW_TIME_MS,
  PROCESSES,
  TRANSIT_MS,
  nextStation,
  slotsPerMachine,
} from './process-model.ts';
import type { MachiningEvent } from './wire.ts';

/**
 * A discrete-event model of the MyCPU line: parts are released at RCV, queue FIFO at each station,
 * occupy a machine slot for their cycle time, and move on. It yields machining events in
 * non-decreasing event time. Memory is bounded: releases stop while work in progress is at its cap
 * (CONWIP, as a real plant gates work orders), so the BRN queue cannot grow without end.
 */
export interface LineOptions {
  floor: FloorMap;
  seed: number;
  /** Simulated time the line starts running (empty), epoch ms. */
  startTime: number;
  /** Target machining events per simulated second; sizes the release rate and machine slots. */
  ratePerSec: number;
  /** Prefix of event and part ids; must differ between runs that share a pipeline. */
  idPrefix: string;
}

export interface LineModel {
  /** Event time of the next event `next()` would return. */
  peekTime(): number;
  next(): MachiningEvent;
  /** Parts on the line now (released, not yet shipped or scrapped). */
  readonly wip: number;
  /** Per station: parts waiting in its queue and parts inside its machines. */
  occupancy(): Record<string, { queued: number; busy: number; slots: number }>;
}

interface Part {
  id: string;
  reworks: number;
}
interface Machine {
  id: string;
  index: number;
  free: number;
}
interface StationState {
  id: string;
  machines: Machine[];
  queue: Part[];
  head: number;
}
type Happening =
  | { t: number; seq: number; kind: 'release' }
  | { t: number; seq: number; kind: 'arrive'; part: Part; station: string }
  | {
      t: number;
      seq: number;
      kind: 'finish';
      part: Part;
      station: string;
      machine: Machine;
      operator: string;
      cycleMs: number;
    };

/** Shifts as on the clock-in sheet: A 06–14, B 14–22, C 22–06 (UTC). */
const HOUR_MS = 3_600_000;
const shiftOf = (t: number): number => Math.floor(((((Math.floor(t / HOUR_MS) - 6) % 24) + 24) % 24) / 8);

export function createLineModel(opts: LineOptions): LineModel {
  const rng = createRng(deriveSeed(opts.seed, 'line'));
  const partsPerMs = opts.ratePerSec / EVENTS_PER_PART / 1000;
  const wipCap = Math.ceil(partsPerMs * FLOW_TIME_MS * 1.5) + 20;
  const stations = new Map<string, StationState>();
  const slotsOf = new Map<Machine, number>();
  let machineIndex = 0;
  for (const st of opts.floor.stations) {
    if (!(st.id in PROCESSES)) continue;
    if (st.machines.length === 0) throw new Error(`floor map: station ${st.id} is on the line but has no machines`);
    const slots = slotsPerMachine(st.id, st.machines.length, partsPerMs);
    const machines = st.machines.map((id) => ({ id, index: machineIndex++, free: slots }));
    for (const m of machines) slotsOf.set(m, slots);
    stations.set(st.id, { id: st.id, queue: [], head: 0, machines });
  }
  for (const id of [...FLOW, 'REW']) if (!stations.has(id)) throw new Error(`floor map: line station ${id} is missing`);

  const heap = new MinHeap<Happening>((a, b) => a.t < b.t || (a.t === b.t && a.seq < b.seq));
  const out: MachiningEvent[] = [];
  let outHead = 0;
  let seq = 0;
  let eventSeq = 0;
  let partSeq = 0;
  let wip = 0;
  heap.push({ t: opts.startTime, seq: seq++, kind: 'release' });

  // Positional, and the object written out in the order of MachiningEvent: one hidden class, no spread.
  const emit = (
    kind: MachiningEvent['kind'],
    partId: string,
    station: string,
    machine: string,
    operator: string,
    at: number,
    nextStation: string | null,
    errorCode: string | null,
    cycleTimeMs: number | null,
  ) =>
    out.push({
      eventId: `${opts.idPrefix}-${(eventSeq++).toString(36)}`,
      kind,
      partId,
      station,
      machine,
      operator,
      at,
      nextStation,
      errorCode,
      cycleTimeMs,
    });
  // Operator ids by number (machine × shift × crew): formatted once each.
  const operatorIds = new Map<number, string>();
  const operatorId = (n: number): string => {
    let id = operatorIds.get(n);
    if (id === undefined) operatorIds.set(n, (id = `E${String(n).padStart(4, '0')}`));
    return id;
  };

  function enter(part: Part, st: StationState, m: Machine, t: number): void {
    m.free--;
    // Two operators per machine and shift; the part keeps its operator until it exits.
    const operator = operatorId(1 + (m.index * 3 + shiftOf(t)) * 2 + rng.int(0, 1));
    const [min, mode, max] = PROCESSES[st.id].cycleMs;
    const cycleMs = rng.triangular(min, mode, max);
    emit('enter', part.id, st.id, m.id, operator, t, null, null, null);
    heap.push({ t: t + cycleMs, seq: seq++, kind: 'finish', part, station: st.id, machine: m, operator, cycleMs });
  }

  function arrive(part: Part, station: string, t: number): void {
    const st = stations.get(station)!;
    const m = st.machines.reduce((best, x) => (x.free > best.free ? x : best));
    if (m.free > 0 && st.head === st.queue.length) enter(part, st, m, t);
    else st.queue.push(part);
  }

  function finish(h: Extract<Happening, { kind: 'finish' }>): void {
    const p = PROCESSES[h.station];
    const failRate = h.station === 'TST' && h.part.reworks > 0 ? p.errorRate * 0.4 : p.errorRate;
    const errorCode = rng.chance(failRate) ? rng.pick(p.errorCodes) : null;
    const next = nextStation(h.station, errorCode !== null, h.part.reworks);
    if (h.station === 'REW') h.part.reworks++;
    emit('exit', h.part.id, h.station, h.machine.id, h.operator, h.t, next, errorCode, h.cycleMs);
    h.machine.free++;
    if (next === null) wip--;
    else
      heap.push({
        t: h.t + rng.int(TRANSIT_MS[0], TRANSIT_MS[1]),
        seq: seq++,
        kind: 'arrive',
        part: h.part,
        station: next,
      });
    const st = stations.get(h.station)!;
    if (st.head < st.queue.length) {
      enter(st.queue[st.head++], st, h.machine, h.t);
      // Compact the FIFO now and then so a long-lived queue does not keep its whole history.
      if (st.head > 1024 && st.head * 2 > st.queue.length) {
        st.queue = st.queue.slice(st.head);
        st.head = 0;
      }
    }
  }

  function step(): void {
    const h = heap.pop()!;
    if (h.kind === 'release') {
      if (wip < wipCap) {
        wip++;
        arrive({ id: `${opts.idPrefix}-P${(partSeq++).toString(36)}`, reworks: 0 }, FLOW[0], h.t);
      }
      heap.push({ t: h.t + Math.max(1, Math.round(rng.exp(1 / partsPerMs))), seq: seq++, kind: 'release' });
    } else if (h.kind === 'arrive') arrive(h.part, h.station, h.t);
    else finish(h);
  }

  /** Step until an event is ready. A release blocked by the WIP cap yields none, hence the loop. */
  function fill(): void {
    if (outHead < out.length) return;
    out.length = 0;
    outHead = 0;
    while (out.length === 0) step();
  }

  return {
    peekTime() {
      fill();
      return out[outHead].at;
    },
    next() {
      fill();
      return out[outHead++];
    },
    get wip() {
      return wip;
    },
    occupancy() {
      const result: Record<string, { queued: number; busy: number; slots: number }> = {};
      for (const [id, st] of stations) {
        const slots = st.machines.reduce((n, m) => n + slotsOf.get(m)!, 0);
        result[id] = {
          queued: st.queue.length - st.head,
          busy: slots - st.machines.reduce((n, m) => n + m.free, 0),
          slots,
        };
      }
      return result;
    },
  };
}
