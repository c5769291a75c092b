/**
 * The one codec of speed-layer keys. A state key is `bucket␟dim1␟dim2…` (the reducer's map key,
 * the delta's identity); a cell field is the state key plus `␟cellIndex` (one Redis hash field or
 * memory-store entry per cell). Connectors strip the separator from dimension values.
 */
export const SEP = '\u001f';

/** `bucket␟dims…`: the key a reducer folds one state into. */
export function stateKey(bucket: number, dims: readonly string[]): string {
  return dims.length === 0 ? String(bucket) : `${bucket}${SEP}${dims.join(SEP)}`;
}

/** Split a state key into its bucket (epoch ms) and dimension values, in definition order. */
export function parseStateKey(key: string): { bucket: number; dims: string[] } {
  const parts = key.split(SEP);
  return { bucket: Number(parts[0]), dims: parts.slice(1) };
}

/** One cell of a state: `bucket␟dims…␟cell`. */
export function cellField(key: string, cell: number): string {
  return `${key}${SEP}${cell}`;
}

/** Split a cell field into bucket, dimension values and cell index. */
export function parseCellField(field: string): { bucket: number; dims: string[]; cell: number } {
  const parts = field.split(SEP);
  return { bucket: Number(parts[0]), dims: parts.slice(1, -1), cell: Number(parts[parts.length - 1]) };
}

/**
 * A test for cell fields whose dimension values equal `dims` where given (by definition order;
 * null = any value). Exact: a value cannot contain the separator, so part i is dimension i.
 */
export function cellFieldMatcher(dims: ReadonlyArray<string | null>): (field: string) => boolean {
  const wanted = dims.flatMap((v, i) => (v === null ? [] : [[i + 1, v] as const]));
  if (wanted.length === 0) return () => true;
  return (field) => {
    const parts = field.split(SEP);
    return wanted.every(([i, v]) => parts[i] === v);
  };
}

/**
 * The same test as a Lua pattern (Redis matches it in C): `^bucket␟d1␟…␟cell$` with each given
 * value literal (Lua's magic characters escaped) and every other part `[^␟]*`. Null when no
 * dimension is given (every field matches).
 */
export function cellFieldLuaPattern(dims: ReadonlyArray<string | null>): string | null {
  if (dims.every((v) => v === null)) return null;
  const any = `[^${SEP}]*`;
  const parts = dims.map((v) => (v === null ? any : v.replace(/[\^$()%.[\]*+\-?]/g, '%$&')));
  return `^${any}${SEP}${parts.join(SEP)}${SEP}${any}$`;
}

/**
 * A Redis glob (HSCAN MATCH) that every cell field of `dims` matches: `*␟d1␟…␟*` with each given
 * value literal (glob's `*?[]\` escaped) and `*` elsewhere. It can let a few more fields through
 * only if a `*` could span a separator, which a field's fixed count of separators rules out; the
 * store still applies `cellFieldLuaPattern` to what it returns. Null when no dimension is given.
 */
export function cellFieldGlob(dims: ReadonlyArray<string | null>): string | null {
  if (dims.every((v) => v === null)) return null;
  const parts = dims.map((v) => (v === null ? '*' : v.replace(/[*?[\]\\]/g, '\\$&')));
  return `*${SEP}${parts.join(SEP)}${SEP}*`;
}
