import { parse } from 'csv-parse/sync';

/**
 * The records of a whole-file snapshot: a CSV file's rows as objects keyed by its header, or the
 * array found in a JSON document (at `recordsPath`, dot-separated, when the array is nested).
 * Returns the reason when the file as a whole cannot be read.
 */
export function parseRecords(format: 'json' | 'csv', text: string, recordsPath?: string): unknown[] | string {
  if (format === 'csv') {
    try {
      // Short rows are kept (their missing fields are simply absent): one bad row is a dead letter, not a lost file.
      return parse(text, {
        columns: true,
        skip_empty_lines: true,
        trim: true,
        bom: true,
        relax_column_count: true,
      }) as unknown[];
    } catch (err) {
      return `unparsable CSV: ${(err as Error).message}`;
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return `unparsable JSON: ${(err as Error).message}`;
  }
  for (const part of recordsPath ? recordsPath.split('.') : []) {
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      return `no object at ${JSON.stringify(part)} of recordsPath ${recordsPath}`;
    doc = (doc as Record<string, unknown>)[part];
  }
  return Array.isArray(doc)
    ? doc
    : `expected an array of records${recordsPath ? ` at ${recordsPath}` : ''}, got ${doc === null ? 'null' : typeof doc}`;
}

/** A record's key: a non-empty string or a finite number in `keyField`; null when it has none. */
export function recordKey(record: unknown, keyField: string): string | null {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return null;
  const v = (record as Record<string, unknown>)[keyField];
  if (typeof v === 'string') return v.length > 0 ? v : null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}
