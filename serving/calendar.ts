import { MillraceError } from '../lib/errors.ts';

/**
 * Calendar grains. MINUTE and HOUR are absolute; SHIFT, DAY, WEEK (Monday) and MONTH follow a time
 * zone, daylight-saving days included (a local day can last 23 or 25 hours).
 */
export type CalendarGrain = 'minute' | 'hour' | 'shift' | 'day' | 'week' | 'month';

export const CALENDAR_GRAINS: readonly CalendarGrain[] = ['minute', 'hour', 'shift', 'day', 'week', 'month'];

/** A shift of the factory's calendar: a name and its local start, minutes after midnight. */
export interface ShiftDefinition {
  id: string;
  /** Local start, minutes after midnight (0 … 1439). */
  startMinute: number;
}

/** One bucket: [start, end) in epoch ms, named in the time zone. */
export interface CalendarBucket {
  start: number;
  end: number;
  /** 2026-03-29 (day), 2026-03-29 A (shift), 2026-W13 (week), 2026-03 (month), local start time otherwise. */
  label: string;
  /** The shift's id for shift buckets. */
  shift: string | null;
}

/** The factory's calendar: how answers are cut in time unless a query says otherwise. */
export interface FactoryCalendar {
  /** IANA time zone of SHIFT/DAY/WEEK/MONTH buckets (MILLRACE_TIME_ZONE). Default 'UTC'. */
  zone: string;
  /** Shifts in local time (MILLRACE_SHIFTS). Default A 06:00, B 14:00, C 22:00. */
  shifts: readonly ShiftDefinition[];
  /**
   * Where stock figures (work in progress, rework pending, tool life used) start counting events,
   * epoch ms (MILLRACE_HISTORY_START). Default 2000-01-01T00:00:00Z.
   */
  historyStart: number;
  /** Most buckets one answer may have. Default 5000. */
  maxBuckets: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Parses `A=06:00,B=14:00,C=22:00` (the MILLRACE_SHIFTS format), sorted by start. */
export function parseShifts(spec: string): ShiftDefinition[] {
  const shifts = spec.split(',').map((part) => {
    const m = /^\s*([A-Za-z0-9_-]+)\s*=\s*(\d{1,2}):(\d{2})\s*$/.exec(part);
    if (!m || Number(m[2]) > 23 || Number(m[3]) > 59)
      throw new Error(`shift ${JSON.stringify(part)} is not NAME=HH:MM`);
    return { id: m[1], startMinute: Number(m[2]) * 60 + Number(m[3]) };
  });
  if (shifts.length === 0) throw new Error('no shifts');
  const ids = new Set(shifts.map((s) => s.id));
  if (ids.size !== shifts.length) throw new Error('shift names must be unique');
  if (new Set(shifts.map((s) => s.startMinute)).size !== shifts.length)
    throw new Error('two shifts start at the same time');
  return shifts.sort((a, b) => a.startMinute - b.startMinute);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Throws BAD_USER_INPUT unless `zone` is an IANA time zone this runtime knows. */
export function checkTimeZone(zone: string): string {
  try {
    formatter(zone);
    return zone;
  } catch {
    throw new MillraceError(
      'BAD_USER_INPUT',
      `unknown time zone ${JSON.stringify(zone)}; use an IANA name such as Europe/Berlin or UTC`,
    );
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** The wall-clock time in `zone` at instant `t`. */
export function localParts(zone: string, t: number): LocalParts {
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(t)))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute };
}

/** Offset of `zone` from UTC at instant `t`, ms (local = utc + offset), to the minute. */
function offsetAt(zone: string, t: number): number {
  const p = localParts(zone, t);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(t / MINUTE) * MINUTE;
}

/**
 * The instant of a local wall-clock time. A time skipped by a spring-forward change resolves to
 * the gap's length later (as Temporal's 'compatible'); a repeated one (fall back) to its first occurrence.
 */
export function fromLocal(zone: string, year: number, month: number, day: number, minuteOfDay = 0): number {
  const wall = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  // The offsets in force half a day either side: a change lies between them, if any.
  const before = wall - offsetAt(zone, wall - 12 * HOUR);
  const after = wall - offsetAt(zone, wall + 12 * HOUR);
  const valid = [before, after].filter((c) => c + offsetAt(zone, c) === wall);
  return valid.length ? Math.min(...valid) : before;
}

/** Local calendar date arithmetic on (year, month, day), days may overflow. */
function dateOf(year: number, month: number, day: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO week-numbering year and week of a local date. */
function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  // The Thursday of the date's week decides its year.
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7));
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  return { year: d.getUTCFullYear(), week: Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7) };
}

/** Start of the bucket of `grain` holding instant `t`, and the bucket after it. */
function bucketAt(t: number, grain: CalendarGrain, zone: string, shifts: readonly ShiftDefinition[]): CalendarBucket {
  if (grain === 'minute' || grain === 'hour') {
    const g = grain === 'minute' ? MINUTE : HOUR;
    const start = Math.floor(t / g) * g;
    const p = localParts(zone, start);
    return {
      start,
      end: start + g,
      label: `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`,
      shift: null,
    };
  }
  const p = localParts(zone, t);
  if (grain === 'day') {
    const next = dateOf(p.year, p.month, p.day + 1);
    return {
      start: fromLocal(zone, p.year, p.month, p.day),
      end: fromLocal(zone, next.year, next.month, next.day),
      label: `${p.year}-${pad(p.month)}-${pad(p.day)}`,
      shift: null,
    };
  }
  if (grain === 'week') {
    const dow = (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 6) % 7;
    const mon = dateOf(p.year, p.month, p.day - dow);
    const next = dateOf(mon.year, mon.month, mon.day + 7);
    const w = isoWeek(mon.year, mon.month, mon.day);
    return {
      start: fromLocal(zone, mon.year, mon.month, mon.day),
      end: fromLocal(zone, next.year, next.month, next.day),
      label: `${w.year}-W${pad(w.week)}`,
      shift: null,
    };
  }
  if (grain === 'month') {
    const next = p.month === 12 ? { year: p.year + 1, month: 1 } : { year: p.year, month: p.month + 1 };
    return {
      start: fromLocal(zone, p.year, p.month, 1),
      end: fromLocal(zone, next.year, next.month, 1),
      label: `${p.year}-${pad(p.month)}`,
      shift: null,
    };
  }
  // Shift: the last shift start at or before t, on this local day or the day before.
  const minuteOfDay = p.hour * 60 + p.minute;
  let day = { year: p.year, month: p.month, day: p.day };
  let i = shifts.length - 1;
  while (i >= 0 && shifts[i].startMinute > minuteOfDay) i--;
  if (i < 0) {
    day = dateOf(p.year, p.month, p.day - 1);
    i = shifts.length - 1;
  }
  // The wall clock can repeat (fall back): make sure the bucket really holds t.
  let start = fromLocal(zone, day.year, day.month, day.day, shifts[i].startMinute);
  if (start > t) {
    if (i > 0) i--;
    else {
      day = dateOf(day.year, day.month, day.day - 1);
      i = shifts.length - 1;
    }
    start = fromLocal(zone, day.year, day.month, day.day, shifts[i].startMinute);
  }
  const nextDay = i === shifts.length - 1 ? dateOf(day.year, day.month, day.day + 1) : day;
  const end = fromLocal(zone, nextDay.year, nextDay.month, nextDay.day, shifts[(i + 1) % shifts.length].startMinute);
  return { start, end, label: `${day.year}-${pad(day.month)}-${pad(day.day)} ${shifts[i].id}`, shift: shifts[i].id };
}

/**
 * The buckets of `grain` that cover [from, to): the first holds `from`, the last holds `to - 1`.
 * Throws BAD_USER_INPUT past `maxBuckets`.
 */
export function calendarBuckets(opts: {
  from: number;
  to: number;
  grain: CalendarGrain;
  zone: string;
  shifts: readonly ShiftDefinition[];
  maxBuckets: number;
}): CalendarBucket[] {
  const { from, to, grain, zone, shifts, maxBuckets } = opts;
  if (!(to > from)) throw new MillraceError('BAD_USER_INPUT', '`from` must be before `to`');
  const fixed = grain === 'minute' ? MINUTE : grain === 'hour' ? HOUR : 0;
  if (fixed) {
    const n = Math.ceil(to / fixed) - Math.floor(from / fixed);
    if (n > maxBuckets) throw tooMany(n, grain, maxBuckets);
  }
  const out: CalendarBucket[] = [];
  let t = from;
  while (t < to) {
    const b = bucketAt(t, grain, zone, shifts);
    out.push(b);
    if (out.length > maxBuckets) throw tooMany(`more than ${maxBuckets}`, grain, maxBuckets);
    t = b.end;
  }
  return out;
}

function tooMany(n: number | string, grain: CalendarGrain, max: number): MillraceError {
  return new MillraceError(
    'BAD_USER_INPUT',
    `the range spans ${n} ${grain} buckets; the limit is ${max} (use a coarser grain or a shorter range)`,
  );
}
