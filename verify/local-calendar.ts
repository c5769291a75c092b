/**
 * Verify's own calendar: DAY and SHIFT buckets in a time zone, written independently of the
 * serving layer's (verify must not share the code it checks). It asks the runtime for the zone's
 * UTC offset by name (`longOffset`, e.g. GMT+02:00) and walks local dates, so a daylight-saving
 * day has 23 or 25 hours because the offsets at its two midnights differ.
 */
export interface LocalBucket {
  start: number;
  end: number;
  /** `2026-03-29` (DAY), `2026-03-28 C` (SHIFT: the local date the shift starts on) or `2026-03-29 03:00` (HOUR, local start). */
  label: string;
}

export interface LocalShift {
  id: string;
  /** Local start, minutes after midnight. */
  startMinute: number;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at instant t, ms. */
export function zoneOffset(zone: string, t: number): number {
  let f = offsetFormats.get(zone);
  if (!f)
    offsetFormats.set(zone, (f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, timeZoneName: 'longOffset' })));
  const name = f.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60_000;
}

/** The local date (y, m, d) at instant t. */
function localDate(zone: string, t: number): [number, number, number] {
  let f = dateFormats.get(zone);
  if (!f)
    dateFormats.set(
      zone,
      (f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })),
    );
  const [y, m, d] = f.format(new Date(t)).split('-').map(Number);
  return [y, m, d];
}

/** The instant of local wall time (date + minutes) in the zone; times a change skips or repeats are not asked for (shifts and midnights avoid them). */
function instant(zone: string, y: number, m: number, d: number, minute: number): number {
  const wall = Date.UTC(y, m - 1, d, 0, minute);
  const guess = wall - zoneOffset(zone, wall);
  return wall - zoneOffset(zone, guess);
}

const pad = (n: number) => String(n).padStart(2, '0');
const label = (y: number, m: number, d: number) => `${y}-${pad(m)}-${pad(d)}`;
const addDays = (y: number, m: number, d: number, n: number): [number, number, number] => {
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
};

/** Every HOUR, local DAY or SHIFT bucket that overlaps [from, to), in time order. */
export function localBuckets(
  zone: string,
  grain: 'HOUR' | 'DAY' | 'SHIFT',
  shifts: readonly LocalShift[],
  from: number,
  to: number,
): LocalBucket[] {
  const out: LocalBucket[] = [];
  if (grain === 'HOUR') {
    // Hours are absolute; only their label is local (the wall time they start at).
    for (let t = Math.floor(from / 3_600_000) * 3_600_000; t < to && out.length < 100_000; t += 3_600_000) {
      const w = new Date(t + zoneOffset(zone, t));
      out.push({
        start: t,
        end: t + 3_600_000,
        label: `${label(w.getUTCFullYear(), w.getUTCMonth() + 1, w.getUTCDate())} ${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}`,
      });
    }
    return out;
  }
  let [y, m, d] = addDays(...localDate(zone, from), -1);
  const starts: Array<{ t: number; label: string }> = [];
  for (let i = 0; i < 10_000; i++) {
    const dayStart = instant(zone, y, m, d, 0);
    if (dayStart >= to + 2 * 86_400_000) break;
    if (grain === 'DAY') starts.push({ t: dayStart, label: label(y, m, d) });
    else
      for (const s of [...shifts].sort((a, b) => a.startMinute - b.startMinute))
        starts.push({ t: instant(zone, y, m, d, s.startMinute), label: `${label(y, m, d)} ${s.id}` });
    [y, m, d] = addDays(y, m, d, 1);
  }
  for (let i = 0; i + 1 < starts.length; i++) {
    const b = { start: starts[i].t, end: starts[i + 1].t, label: starts[i].label };
    if (b.end > from && b.start < to) out.push(b);
  }
  return out;
}

/** Index of the bucket holding t (buckets sorted and contiguous), or -1. */
export function bucketOf(buckets: readonly LocalBucket[], t: number): number {
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t < buckets[mid].start) hi = mid - 1;
    else if (t >= buckets[mid].end) lo = mid + 1;
    else return mid;
  }
  return -1;
}
