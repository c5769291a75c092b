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

export function toWire(ev: MachiningEvent): WireMessage {
  return {
    key: ev.partId,
    value: JSON.stringify({
      eventId: ev.eventId,
      kind: ev.kind,
      partId: ev.partId,
      station: ev.station,
      machine: ev.machine,
      operator: ev.operator,
      at: new Date(ev.at).toISOString(),
      nextStation: ev.nextStation,
      errorCode: ev.errorCode,
      cycleTimeMs: ev.cycleTimeMs,
    }),
  };
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
