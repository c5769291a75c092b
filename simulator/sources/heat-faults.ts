import { MinHeap } from '../heap.ts';
import type { SourceFault } from '../ledger-sources.ts';
import type { Rng } from '../prng.ts';
import { isoMs } from '../wire.ts';
import type { HeatReading } from './heat-model.ts';

/** Fault rates of the heat sensors, per reading; all multiplied by the writer context's `faultRate`. */
export interface HeatFaultOptions {
  /** Share of readings sent twice (identical message). Default 0.01. */
  duplicateRate?: number;
  /** Share of those duplicates re-sent later (1…`duplicateMaxDelay` readings after). Default 0.3. */
  delayedDuplicateShare?: number;
  /** Longest delay of a delayed duplicate, in readings sent (≈ 1 h at 13 sensors). Default 5_000. */
  duplicateMaxDelay?: number;
  /** Share of readings held back and sent after later ones. Default 0.01. */
  lateRate?: number;
  /** Lateness, simulated ms, uniform in [lateMinMs, lateMaxMs]. Defaults 1_000 and 120_000. */
  lateMinMs?: number;
  lateMaxMs?: number;
  /** Malformed messages injected per reading (never part of the truth). Default 0.005. */
  malformedRate?: number;
}

export const DEFAULT_HEAT_FAULTS: Required<HeatFaultOptions> = {
  duplicateRate: 0.01,
  delayedDuplicateShare: 0.3,
  duplicateMaxDelay: 5_000,
  lateRate: 0.01,
  lateMinMs: 1_000,
  lateMaxMs: 120_000,
  malformedRate: 0.005,
};

export const HEAT_MALFORMED = ['not_json', 'bad_centi'] as const;

/** A message to publish; `reading` is set on the one send the ledger counts. */
export interface HeatOutgoing {
  key: string;
  value: string;
  reading?: HeatReading;
  fault?: SourceFault;
}

const q = JSON.stringify;

/**
 * The wire format (contract with `ingest/schemas/heat.ts`): key sensorId, JSON value, keys in this
 * order. Built as text, the bytes `JSON.stringify` of the object would give (as `toWire` does, and
 * for the same reason: ~40 M readings a year); heat-sensors.test.ts checks the equivalence.
 */
export function heatWire(r: HeatReading): { key: string; value: string } {
  return {
    key: r.sensorId,
    value: `{"readingId":${q(r.readingId)},"sensorId":${q(r.sensorId)},"zone":${q(r.zone)},"at":"${isoMs(r.at)}","centiC":${q(r.centiC)}}`,
  };
}

export interface HeatFaultInjector {
  /** Feed the next reading; returns the messages to send now, in order (appended to `out` when given). */
  push(r: HeatReading, out?: HeatOutgoing[]): HeatOutgoing[];
  /** Everything still held back (late readings, delayed duplicates). */
  drain(): HeatOutgoing[];
  /** Earliest reading time still held back late: nothing from it on can be sealed. */
  heldMinAt(): number | null;
}

/**
 * Decisions depend only on `rng` and the reading sequence, never on batching or wall time. Held
 * state is bounded: late readings by `lateMaxMs`, duplicates by `duplicateMaxDelay` readings.
 */
export function createHeatFaults(options: HeatFaultOptions, scale: number, rng: Rng): HeatFaultInjector {
  const o = { ...DEFAULT_HEAT_FAULTS, ...options };
  if (o.lateMinMs < 1 || o.lateMaxMs < o.lateMinMs) throw new Error('heat faults: need 1 <= lateMinMs <= lateMaxMs');
  const p = (rate: number) => Math.min(1, rate * scale);
  let seq = 0;
  let sent = 0;
  const late = new MinHeap<{ release: number; seq: number; r: HeatReading; delay: number }>(
    (a, b) => a.release < b.release || (a.release === b.release && a.seq < b.seq),
  );
  const dups = new MinHeap<{ due: number; seq: number; r: HeatReading; delay: number }>(
    (a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq),
  );
  const fault = (
    kind: string,
    detail: string,
    r: HeatReading,
    raw: string | null = null,
    eventId: string | null = r.readingId,
  ): SourceFault => ({ kind, detail, eventId, eventAt: r.at, raw });

  function send(r: HeatReading, out: HeatOutgoing[], lateBy?: number): void {
    const msg = heatWire(r);
    out.push({
      key: msg.key,
      value: msg.value,
      reading: r,
      fault: lateBy === undefined ? undefined : fault('late', `${lateBy} ms late`, r),
    });
    sent++;
    if (rng.chance(p(o.duplicateRate))) {
      if (rng.chance(o.delayedDuplicateShare)) {
        const delay = rng.int(1, o.duplicateMaxDelay);
        dups.push({ due: sent + delay, seq: seq++, r, delay });
      } else
        out.push({ key: msg.key, value: msg.value, reading: undefined, fault: fault('duplicate', 'immediate', r) });
    }
    if (rng.chance(p(o.malformedRate))) out.push(malformed(r, rng.pick(HEAT_MALFORMED)));
    while (dups.size > 0 && dups.peek()!.due <= sent) resend(out);
  }

  function malformed(r: HeatReading, flavour: (typeof HEAT_MALFORMED)[number]): HeatOutgoing {
    // Its own `bad-` id: a lax consumer could never dedup it against (or mistake it for) the real reading.
    const text = heatWire({ ...r, readingId: `bad-${r.readingId}` }).value;
    const value =
      flavour === 'not_json'
        ? text.slice(0, 1 + rng.int(0, text.length - 3))
        : text.replace(/"centiC":-?\d+/, '"centiC":"hot"');
    return { key: r.sensorId, value, reading: undefined, fault: fault('malformed', flavour, r, value, null) };
  }

  function resend(out: HeatOutgoing[]): void {
    const d = dups.pop()!;
    const msg = heatWire(d.r);
    out.push({
      key: msg.key,
      value: msg.value,
      reading: undefined,
      fault: fault('duplicate', `after ${d.delay} readings`, d.r),
    });
  }

  function release(out: HeatOutgoing[], until: number): void {
    while (late.size > 0 && late.peek()!.release <= until) {
      const h = late.pop()!;
      send(h.r, out, h.delay);
    }
  }

  return {
    push(r, out = []) {
      release(out, r.at);
      if (rng.chance(p(o.lateRate))) {
        const delay = rng.int(o.lateMinMs, o.lateMaxMs);
        late.push({ release: r.at + delay, seq: seq++, r, delay });
      } else send(r, out);
      return out;
    },
    drain() {
      const out: HeatOutgoing[] = [];
      release(out, Number.POSITIVE_INFINITY);
      while (dups.size > 0) resend(out);
      return out;
    },
    heldMinAt() {
      let min: number | null = null;
      for (const h of late.values()) if (min === null || h.r.at < min) min = h.r.at;
      return min;
    },
  };
}
