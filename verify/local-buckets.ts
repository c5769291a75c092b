/**
 * Verify's own calendar: local days and shifts of a time zone as epoch-ms intervals, written
 * independently of serving/calendar.ts (verify must not share the code it checks). Offsets come
 * from Intl; a wall time is turned into an instant by two passes of "wall − offset", which is exact
 * outside a daylight-saving gap (day and shift starts of real factories never fall in one).
 */
export interface LocalBucket {
  start: number;
  end: number;
}

const MIN = 60_000;
const DAY = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function parts(zone: string, t: number): { y: number; m: number; d: number; wall: number } {
  let f = formats.get(zone);
  if (!f) formats.set(zone, (f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })));
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const [y, m, d] = [Number(p.year), Number(p.month), Number(p.day)];
  return { y, m, d, wall: Date.UTC(y, m - 1, d, Number(p.hour), Number(p.minute), Number(p.second)) };
}

/** Local wall time minus UTC at instant `t`, ms. */
export const offsetAt = (zone: string, t: number): number => parts(zone, t).wall - Math.floor(t / 1000) * 1000;

/** The instant of local wall time `minute` (minutes after midnight) on local date y-m-d. */
export function instantOf(zone: string, y: number, m: number, d: number, minute: number): number {
  const wall = Date.UTC(y, m - 1, d) + minute * MIN;
  const guess = wall - offsetAt(zone, wall);
  return wall - offsetAt(zone, guess);
}

/** Parses `A=06:00,B=14:00,C=22:00` (the MILLRACE_SHIFTS format) into starts sorted by time. */
export function parseShiftSpec(spec: string): Array<{ id: string; minute: number }> {
  return spec.split(',').map((s) => {
    const m = /^\s*([^=\s]+)\s*=\s*(\d{1,2}):(\d\d)\s*$/.exec(s);
    if (!m) throw new Error(`verify: shift ${JSON.stringify(s)} is not NAME=HH:MM`);
    return { id: m[1], minute: Number(m[2]) * 60 + Number(m[3]) };
  }).sort((a, b) => a.minute - b.minute);
}

/**
 * The local DAY or SHIFT buckets of `zone` that overlap [from, to), in order (a shift runs from
 * its start to the next shift's start, the last one into the next local day).
 */
export function localBuckets(zone: string, grain: 'DAY' | 'SHIFT', shifts: ReadonlyArray<{ minute: number }>, from: number, to: number): LocalBucket[] {
  const first = parts(zone, from);
  const starts = grain === 'DAY' ? [0] : shifts.map((s) => s.minute);
  const out: LocalBucket[] = [];
  // From the local day before `from` (its last shift may still run), to past `to`.
  for (let day = Date.UTC(first.y, first.m - 1, first.d) - DAY; ; day += DAY) {
    const date = new Date(day);
    const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const next = new Date(day + DAY);
    const tomorrow = instantOf(zone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), starts[0]);
    for (let i = 0; i < starts.length; i++) {
      const start = instantOf(zone, y, m, d, starts[i]);
      const end = i + 1 < starts.length ? instantOf(zone, y, m, d, starts[i + 1]) : tomorrow;
      if (start >= to) return out;
      if (end > from) out.push({ start, end });
    }
  }
}
