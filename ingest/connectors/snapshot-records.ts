import { parse } from 'csv-parse/sync';

/** A CSV row that cannot be a record: why, and its fields as read. */
export class BadRow {
  constructor(
    readonly reason: string,
    readonly fields: unknown[],
  ) {}
}

/**
 * The records of a whole-file snapshot: a CSV file's rows as objects keyed by its header, or the
 * array found in a JSON document (at `recordsPath`, dot-separated, when the array is nested).
 * Returns the reason when the file as a whole cannot be read; a CSV row that cannot be a record is a {@link BadRow}.
 */
export function parseRecords(format: 'json' | 'csv', text: string, recordsPath?: string): unknown[] | string {
  if (format === 'csv') {
    try {
      // A row with more or fewer fields than the header (cut short, a stray separator) is a dead
      // letter of its own, not a lost file, and never an upsert that blanks the fields it lacks.
      const rows = parse(text, {
        columns: true,
        skip_empty_lines: true,
        trim: true,
        bom: true,
        relax_column_count: true,
        info: true,
      }) as Array<{ record: unknown; info: { columns: unknown[]; error?: { record?: unknown[] } } }>;
      return rows.map(({ record, info }) =>
        info.error
          ? new BadRow(
              `row has ${info.error.record?.length ?? '?'} fields, the header ${info.columns.length}`,
              info.error.record ?? [],
            )
          : record,
      );
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
