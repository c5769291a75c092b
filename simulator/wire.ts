/**
 * The machining topic's wire format: the contract with the ingest connector
 * (`ingest/schemas/machining.ts`). Message key = partId (so a part's events stay in one
 * partition, in order); value = the JSON below, keys in exactly this order.
 */
export interface MachiningEvent {
  /** Unique per logical event, deterministic from the seed; re-sends carry the same id. */
  eventId: string;
  kind: 'enter' | 'exit';
  partId: string;
  station: string;
  machine: string;
  /** Employee id, e.g. E0042. */
  operator: string;
  /** Event time, epoch ms (UTC). On the wire: ISO-8601 with ms. */
  at: number;
  /** Where the part goes after an exit; null on enter, and on the exit that ends a part's life. */
  nextStation: string | null;
  errorCode: string | null;
  /** Integer on exit (time spent at the machine), null on enter. */
  cycleTimeMs: number | null;
}

export interface WireMessage {
  key: string;
  value: string;
}

const q = JSON.stringify;

/**
 * The value is built as text rather than by `JSON.stringify` of an object: the same bytes (each
 * string and number is still JSON-encoded by `JSON.stringify`), at half the CPU, and the back-fill
 * writes ~50 M of them a year. `simulator/wire.test.ts` checks the equivalence on random events.
 */
export function toWire(ev: MachiningEvent): WireMessage {
  return {
    key: ev.partId,
    value: `{"eventId":${q(ev.eventId)},"kind":${q(ev.kind)},"partId":${q(ev.partId)},"station":${q(ev.station)},"machine":${q(ev.machine)},"operator":${q(ev.operator)},"at":"${isoMs(ev.at)}","nextStation":${q(ev.nextStation)},"errorCode":${q(ev.errorCode)},"cycleTimeMs":${q(ev.cycleTimeMs)}}`,
  };
}

/** Latest year whose ISO-8601 form has four digits (`toISOString` switches to ±YYYYYY after it). */
const ISO_FOUR_DIGIT_END = Date.UTC(10_000, 0, 1);
let isoMinute = Number.NaN;
let isoPrefix = '';

/**
 * `new Date(t).toISOString()` for epoch ms `t`, e.g. `2026-01-01T03:04:05.678Z`. Consecutive events
 * share their minute, so the `YYYY-MM-DDTHH:MM:` part is formatted once per minute (a one-entry
 * cache); `toISOString` itself was a fifth of a machining message's serialisation.
 */
export function isoMs(t: number): string {
  if (!(t >= 0 && t < ISO_FOUR_DIGIT_END) || !Number.isInteger(t)) return new Date(t).toISOString();
  const minute = t - (t % 60_000);
  if (minute !== isoMinute) {
    isoMinute = minute;
    isoPrefix = new Date(minute).toISOString().slice(0, 17);
  }
  const r = t - minute;
  const s = (r / 1000) | 0;
  const ms = r - s * 1000;
  return `${isoPrefix}${s < 10 ? '0' : ''}${s}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** The malformed flavours a real plant produces; each is injected and counted as a fault. */
export const MALFORMED_FLAVOURS = ['not_json', 'missing_field', 'bad_cycle_time', 'bad_at'] as const;
export type MalformedFlavour = (typeof MALFORMED_FLAVOURS)[number];

const DROPPABLE = ['eventId', 'kind', 'partId', 'station', 'at'] as const;

/**
 * A broken message derived from a real event. It gets its own `bad-` event id so that, should a
 * lax consumer accept it anyway, it can never be mistaken for (or dedup against) a real event.
 * `pick` chooses among alternatives (seeded by the caller).
 */
export function malformedFrom(ev: MachiningEvent, flavour: MalformedFlavour, pick: (n: number) => number): WireMessage {
  const base = JSON.parse(toWire({ ...ev, eventId: `bad-${ev.eventId}` }).value) as Record<string, unknown>;
  switch (flavour) {
    case 'not_json': {
      // Any proper prefix of a JSON object's text is invalid JSON (the closing brace is missing).
      const text = JSON.stringify(base);
      return { key: ev.partId, value: text.slice(0, 1 + pick(text.length - 2)) };
    }
    case 'missing_field':
      delete base[DROPPABLE[pick(DROPPABLE.length)]];
      break;
    case 'bad_cycle_time':
      Object.assign(base, { kind: 'exit', cycleTimeMs: 'abc' });
      break;
    case 'bad_at':
      base.at = 'yesterday';
      break;
  }
  return { key: ev.partId, value: JSON.stringify(base) };
}
