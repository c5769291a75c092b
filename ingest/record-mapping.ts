import { z } from 'zod';

const FIELD = z.string().min(1);

/** How one payload field is read from the source record. */
const fieldSpec = z.union([
  FIELD,
  z.object({
    /** Source field (column, cell header's canonical name, JSON property). */
    from: FIELD,
    /**
     * What the value must be: `string`, `integer` (measures are integers in fixed-point units),
     * `number`, `time` (→ epoch ms, from epoch ms, a Date or ISO-8601 text), `boolean`, or `json` (as it is).
     * Default `json`.
     */
    as: z.enum(['string', 'integer', 'number', 'time', 'boolean', 'json']).default('json'),
    /** A missing or empty value makes the record a dead letter. Default true. */
    required: z.boolean().default(true),
  }),
]);

/**
 * A declarative mapping from one source record (a row, a sheet row, an API item) to an event:
 * how a plant points a connector kind at its own table, sheet or API without code.
 */
export const recordMappingSchema = z.object({
  /** Event type: fixed (`"press.cycle"`), or picked by a field's value (`{ "field": "action", "values": { "out": "tool.out", "in": "tool.in" } }`). */
  type: z.union([FIELD, z.object({ field: FIELD, values: z.record(z.string(), FIELD) })]),
  /** Field(s) whose values form the event key (joined with `:`): what keeps one thing's events in order in one log partition. */
  key: z.union([FIELD, z.array(FIELD).min(1)]),
  /** Field holding the event time: epoch ms, a Date, or ISO-8601 text (with an offset; a bare date-time is read as UTC). */
  eventTime: FIELD,
  /** Payload field → source field, or `{ from, as, required }`. */
  payload: z.record(z.string(), fieldSpec),
});

export type RecordMapping = z.infer<typeof recordMappingSchema>;

export interface MappedRecord {
  type: string;
  key: string;
  eventTime: number;
  payload: Record<string, unknown>;
}

/** Epoch ms from epoch ms, a Date or date-time text (no offset: UTC); null when it is none of them. */
export function toEpochMs(v: unknown): number | null {
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || v.trim() === '') return null;
  const s = v.trim();
  if (/^-?\d+$/.test(s)) return Number(s);
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) || !/\d[ T]\d/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
  return Number.isFinite(t) ? t : null;
}

const empty = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
// Dimension values may not contain the state-key separator.
const clean = (v: string) => v.replace(/\u001f/g, ' ');

function convert(
  v: unknown,
  as: 'string' | 'integer' | 'number' | 'time' | 'boolean' | 'json',
): { ok: true; value: unknown } | { ok: false } {
  switch (as) {
    case 'string':
      return { ok: true, value: clean(v instanceof Date ? v.toISOString() : String(v)) };
    case 'integer':
    case 'number': {
      const n =
        typeof v === 'number'
          ? v
          : typeof v === 'string' && v.trim() !== ''
            ? Number(v)
            : typeof v === 'bigint'
              ? Number(v)
              : NaN;
      return Number.isFinite(n) && (as === 'number' || Number.isInteger(n)) ? { ok: true, value: n } : { ok: false };
    }
    case 'time': {
      const t = toEpochMs(v);
      return t === null ? { ok: false } : { ok: true, value: t };
    }
    case 'boolean':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (['true', 'yes', '1', 1].includes(typeof v === 'string' ? v.toLowerCase() : (v as number)))
        return { ok: true, value: true };
      if (['false', 'no', '0', 0].includes(typeof v === 'string' ? v.toLowerCase() : (v as number)))
        return { ok: true, value: false };
      return { ok: false };
    default:
      return { ok: true, value: v instanceof Date ? v.getTime() : v };
  }
}

/**
 * Apply a mapping to one record: the event's type, key, time and payload, or the reason the
 * record cannot be one (it becomes a dead letter with that reason).
 */
export function mapRecord(m: RecordMapping, record: Readonly<Record<string, unknown>>): MappedRecord | string {
  let type: string;
  if (typeof m.type === 'string') type = m.type;
  else {
    const v = record[m.type.field];
    const t = empty(v) ? undefined : m.type.values[String(v)];
    if (!t)
      return `${m.type.field} ${JSON.stringify(v ?? null)} is not one of ${Object.keys(m.type.values).join(', ')}`;
    type = t;
  }
  const keyFields = typeof m.key === 'string' ? [m.key] : m.key;
  const parts: string[] = [];
  for (const f of keyFields) {
    if (empty(record[f])) return `${f} (key) is empty`;
    parts.push(clean(String(record[f])));
  }
  const eventTime = toEpochMs(record[m.eventTime]);
  if (eventTime === null) return `${m.eventTime} ${JSON.stringify(record[m.eventTime] ?? null)} is not a time`;
  const payload: Record<string, unknown> = {};
  for (const [out, spec] of Object.entries(m.payload)) {
    const { from, as, required } =
      typeof spec === 'string' ? { from: spec, as: 'json' as const, required: true } : spec;
    const v = record[from];
    if (empty(v)) {
      if (required) return `${from} is empty`;
      payload[out] = null;
      continue;
    }
    const c = convert(v, as);
    if (!c.ok) return `${from} ${JSON.stringify(v)} is not ${as === 'integer' ? 'an integer' : `a ${as}`}`;
    payload[out] = c.value;
  }
  return { type, key: parts.join(':'), eventTime, payload };
}
