import { badInput } from '../validate-args.ts';

/** Opaque Relay cursors: base64url of a JSON value, so clients cannot depend on their shape. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The value of a cursor this API issued, or BAD_USER_INPUT. */
export function decodeCursor<T>(cursor: string, check: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput(`\`after\` is not a cursor this API issued: ${JSON.stringify(cursor.slice(0, 40))}`);
  }
  if (!check(value))
    throw badInput(`\`after\` is not a cursor this API issued: ${JSON.stringify(cursor.slice(0, 40))}`);
  return value;
}

/** Checks `first` (1 … max). */
export function checkFirst(first: number | null | undefined, max = 1000): number {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 1 || n > max) throw badInput(`\`first\` must be between 1 and ${max}`);
  return n;
}

/**
 * A Relay connection over an already ordered list: the page after the item whose cursor key is
 * `after` (keys are unique within the list). An `after` not in the list is BAD_USER_INPUT.
 */
export function connectionOf<T>(
  items: readonly T[],
  keyOf: (item: T) => string | number,
  args: { first?: number | null; after?: string | null },
) {
  const first = checkFirst(args.first);
  let start = 0;
  if (args.after != null) {
    const key = decodeCursor(args.after, (v): v is string | number => typeof v === 'string' || typeof v === 'number');
    const i = items.findIndex((item) => keyOf(item) === key);
    if (i < 0) throw badInput('`after` names an item that is no longer in this list; start again without `after`');
    start = i + 1;
  }
  const page = items.slice(start, start + first);
  const edges = page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: start + first < items.length, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: items.length,
  };
}
