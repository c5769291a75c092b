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
