import { MinHeap } from './heap.ts';
import type { Rng } from './prng.ts';
import { MALFORMED_FLAVOURS, malformedFrom, toWire, type MachiningEvent, type WireMessage } from './wire.ts';

/** Fault rates of the machining source. Every injected fault is recorded in the ledger's fault list. */
export interface FaultOptions {
  /** Share of events sent a second time (same eventId, identical value). Default 0.02. */
  duplicateRate?: number;
  /** Share of those duplicates re-sent much later instead of right after the original. Default 0.3. */
  delayedDuplicateShare?: number;
  /**
   * Longest delay of a delayed duplicate, in events sent after the original; delays are
   * log-uniform from 10, so most are short and a few come hours later. Default 100_000 (≈ 1.4 h at 20/s).
   */
  duplicateMaxDelayEvents?: number;
  /** Share of events held back and sent after later events. Default 0.02. */
  lateRate?: number;
  /** Lateness of a late event, simulated ms, uniform in [lateMinMs, lateMaxMs]. Defaults 1_000 and 300_000. */
  lateMinMs?: number;
  lateMaxMs?: number;
  /** Malformed messages injected per event sent (never part of the truth). Default 0.01. */
  malformedRate?: number;
}

export const DEFAULT_FAULTS: Required<FaultOptions> = {
  duplicateRate: 0.02,
  delayedDuplicateShare: 0.3,
  duplicateMaxDelayEvents: 100_000,
  lateRate: 0.02,
  lateMinMs: 1_000,
  lateMaxMs: 300_000,
  malformedRate: 0.01,
};

export interface FaultRecord {
  kind: 'duplicate' | 'late' | 'malformed';
  /** e.g. `immediate`, `after 1234 events`, `12345 ms late`, `bad_at`. */
  detail: string;
  eventId: string | null;
  /** Event time of the (original) event, epoch ms. */
  eventAt: number;
  /** The raw value, for malformed messages only. */
  raw: string | null;
}

/** A message to publish. */
export interface Outgoing extends WireMessage {
  /** Set on the first send of a real event: the one send the ledger counts, once acked. */
  event?: MachiningEvent;
  fault?: FaultRecord;
}

export interface FaultInjector {
  /** Feed the next event (non-decreasing time); returns the messages to send now, in order (appended to `out` when given). */
  push(ev: MachiningEvent, out?: Outgoing[]): Outgoing[];
  /** Everything still held back (late events, delayed duplicates), e.g. before stopping. */
  drain(): Outgoing[];
  /** Earliest event time among held-back late events: nothing at or after it is sealed yet. */
  heldMinAt(): number | null;
  readonly held: { late: number; duplicates: number };
}

/**
 * Turns the clean event stream into what a real plant sends. Decisions depend only on the seeded
 * `rng` and the event sequence, never on batching or wall time, so a run's message sequence is
 * reproducible however it is paced.
 */
export function createFaultInjector(options: FaultOptions, rng: Rng): FaultInjector {
  const o = { ...DEFAULT_FAULTS, ...options };
  if (o.lateMinMs < 1 || o.lateMaxMs < o.lateMinMs) throw new Error('faults: need 1 <= lateMinMs <= lateMaxMs');
  let seq = 0;
  let sent = 0;
  const late = new MinHeap<{ release: number; seq: number; ev: MachiningEvent; delay: number }>(
    (a, b) => a.release < b.release || (a.release === b.release && a.seq < b.seq),
  );
  const dups = new MinHeap<{ due: number; seq: number; msg: WireMessage; ev: MachiningEvent; delay: number }>(
    (a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq),
  );

  function send(ev: MachiningEvent, out: Outgoing[], lateBy?: number): void {
    const msg = toWire(ev);
    const fault: FaultRecord | undefined =
      lateBy === undefined
        ? undefined
        : { kind: 'late', detail: `${lateBy} ms late`, eventId: ev.eventId, eventAt: ev.at, raw: null };
    // Object literals of one shape, no spreads: this runs for every one of ~50 M events a year.
    out.push({ key: msg.key, value: msg.value, event: ev, fault });
    sent++;
    if (rng.chance(o.duplicateRate)) {
      if (rng.chance(o.delayedDuplicateShare)) {
        const delay = rng.logUniform(10, o.duplicateMaxDelayEvents);
        dups.push({ due: sent + delay, seq: seq++, msg, ev, delay });
      } else
        out.push({
          key: msg.key,
          value: msg.value,
          event: undefined,
          fault: { kind: 'duplicate', detail: 'immediate', eventId: ev.eventId, eventAt: ev.at, raw: null },
        });
    }
    if (rng.chance(o.malformedRate)) {
      const flavour = rng.pick(MALFORMED_FLAVOURS);
      const bad = malformedFrom(ev, flavour, (n) => rng.int(0, n - 1));
      out.push({
        key: bad.key,
        value: bad.value,
        event: undefined,
        fault: { kind: 'malformed', detail: flavour, eventId: null, eventAt: ev.at, raw: bad.value },
      });
    }
    while (dups.size > 0 && dups.peek()!.due <= sent) resendDuplicate(out);
  }

  function resendDuplicate(out: Outgoing[]): void {
    const d = dups.pop()!;
    out.push({
      key: d.msg.key,
      value: d.msg.value,
      event: undefined,
      fault: {
        kind: 'duplicate',
        detail: `after ${d.delay} events`,
        eventId: d.ev.eventId,
        eventAt: d.ev.at,
        raw: null,
      },
    });
  }

  function releaseLate(out: Outgoing[], until: number): void {
    while (late.size > 0 && late.peek()!.release <= until) {
      const h = late.pop()!;
      send(h.ev, out, h.delay);
    }
  }

  return {
    push(ev, out = []) {
      releaseLate(out, ev.at);
      if (rng.chance(o.lateRate)) {
        const delay = rng.int(o.lateMinMs, o.lateMaxMs);
        late.push({ release: ev.at + delay, seq: seq++, ev, delay });
      } else send(ev, out);
      return out;
    },
    drain() {
      const out: Outgoing[] = [];
      releaseLate(out, Number.POSITIVE_INFINITY);
      while (dups.size > 0) resendDuplicate(out);
      return out;
    },
    heldMinAt() {
      let min: number | null = null;
      for (const h of late.values()) if (min === null || h.ev.at < min) min = h.ev.at;
      return min;
    },
    get held() {
      return { late: late.size, duplicates: dups.size };
    },
  };
}
