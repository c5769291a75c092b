import { GraphQLError } from 'graphql';
import { GRAIN_MS, type Grain } from '../serving/types.ts';

/** A client mistake: `extensions.code` BAD_USER_INPUT, so the gateway passes it through unmasked. */
export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

// ISO-8601 with an explicit zone: a bare "2026-11-22T07:40" would be read in the server's local
// time zone, and the same query must mean the same instant on every machine.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of a DateTime argument, or BAD_USER_INPUT naming the argument. */
export function parseDateTime(name: string, value: string): number {
  const ms = ISO.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    throw badInput(
      `\`${name}\` must be an ISO-8601 date-time with a zone, e.g. 2026-11-22T07:40:00.000Z; got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/**
 * [from, to) as epoch ms, checked: from before to and, given a `limit`, at most `maxBuckets`
 * buckets of `grain` once rounded outward to the grain (as the serving layer rounds them).
 */
export function parseRange(
  args: { from: string; to: string },
  limit?: { grain: Grain; maxBuckets: number },
): { from: number; to: number } {
  const from = parseDateTime('from', args.from);
  const to = parseDateTime('to', args.to);
  if (from >= to) throw badInput(`\`from\` (${args.from}) must be before \`to\` (${args.to})`);
  if (!limit) return { from, to };
  const { grain, maxBuckets } = limit;
  const g = GRAIN_MS[grain];
  const buckets = (Math.ceil(to / g) * g - Math.floor(from / g) * g) / g;
  if (buckets > maxBuckets) {
    throw badInput(
      `the range spans ${buckets} ${grain} buckets; the limit is ${maxBuckets} (use a coarser grain or a shorter range)`,
    );
  }
  return { from, to };
}

/** An ISO string for an epoch-ms time, null kept null. */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
