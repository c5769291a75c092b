import { GRAIN_MS, type Grain } from '../serving/types.ts';

/** One piece of a range, read at one grain. */
export interface RangeSegment {
  grain: Grain;
  from: number;
  to: number;
}

/**
 * Split [from, to) (rounded outward to minutes, as the serving layer rounds) into at most five
 * aligned segments: minutes up to the first hour, hours up to the first day, whole days, then
 * hours and minutes after the last day. The sum over the segments equals the minute-grain sum,
 * but a week costs ~7 day buckets + < 48 hour + < 120 minute buckets instead of 10 080 minutes.
 */
export function coverRange(from: number, to: number): RangeSegment[] {
  const m = GRAIN_MS.minute;
  return split(Math.floor(from / m) * m, Math.ceil(to / m) * m, ['day', 'hour', 'minute']);
}

function split(from: number, to: number, grains: Grain[]): RangeSegment[] {
  if (from >= to) return [];
  const [grain, ...finer] = grains;
  if (finer.length === 0) return [{ grain, from, to }];
  const g = GRAIN_MS[grain];
  const start = Math.ceil(from / g) * g;
  const end = Math.floor(to / g) * g;
  if (start >= end) return split(from, to, finer);
  return [...split(from, start, finer), { grain, from: start, to: end }, ...split(end, to, finer)];
}

/** Number of buckets a segment reads. */
export function bucketsOf(s: RangeSegment): number {
  return (s.to - s.from) / GRAIN_MS[s.grain];
}
