import { parse } from 'csv-parse/sync';
import type { Envelope } from '../envelope.ts';

/**
 * Row schemas of the CSV files `csv-tail` reads: a line's fields → an envelope, or the reason the
 * line is rejected. Ids come from the row's content, so a re-read file or a re-appended row gives
 * the same id and the loader keeps one.
 */
export interface CsvSchema {
  /** The header line; skipped when it is the file's first line. */
  header: string;
  toEnvelope(fields: string[], file: string): Envelope | string;
}

/**
 * One line → its fields. Parsed alone, so a stray quote cannot swallow the lines after it.
 *
 * Exactly csv-parse's reading of the line with `{ relax_column_count: true, trim: true }`, but
 * without making a parser per line (that, and its record-delimiter discovery, was most of the CSV
 * connector's CPU): a line with no quote and no CR/LF — every line a well-behaved writer produces —
 * is only split on commas and trimmed as csv-parse trims (before a field: CR, LF, FF, space, tab;
 * after it: `String.prototype.trimEnd`). Anything else (quotes, a CR that csv-parse would take for a
 * record delimiter, nothing but blanks, a malformed UTF-16 string) goes to csv-parse itself.
 * csv-schemas.test.ts compares the two on random lines.
 */
export function parseCsvLine(text: string): string[] | string {
  if (!NEEDS_CSV_PARSE.test(text)) {
    const fields = text.split(',');
    for (let i = 0; i < fields.length; i++) fields[i] = fields[i].replace(LEADING_BLANKS, '').trimEnd();
    // A line of blanks only is no record at all to csv-parse ("expected one record, got 0").
    if (fields.length > 1 || fields[0] !== '') return fields;
  }
  return parseCsvLineWithCsvParse(text);
}

/** A quote, CR or LF, or a lone surrogate (csv-parse reads the line as UTF-8 bytes: one becomes U+FFFD). */
const NEEDS_CSV_PARSE = /["\r\n]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What csv-parse's `ltrim` skips before a field (its `timchars`): CR, LF, FF, space, tab. */
const LEADING_BLANKS = /^[\r\n\f \t]+/;

/** The reference reading: one csv-parse parser for the line (record delimiter auto-discovered). */
export function parseCsvLineWithCsvParse(text: string): string[] | string {
  try {
    const rows = parse(text, { relax_column_count: true, trim: true }) as string[][];
    if (rows.length !== 1) return `expected one record, got ${rows.length}`;
    return rows[0];
  } catch (err) {
    return `unparsable CSV: ${(err as Error).message}`;
  }
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/;
// Bounded: an id is a dimension value and a log key; a runaway field (2 MiB of it) is bad input, not an id.
const MACHINE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Energy report (docs/sources.md, row 7): `interval_start,machine_id,wh`, integer Wh. */
const energy: CsvSchema = {
  header: 'interval_start,machine_id,wh',
  toEnvelope(fields, file) {
    if (fields.length !== 3) return `expected 3 columns (interval_start,machine_id,wh), got ${fields.length}`;
    const [at, machineId, whText] = fields;
    const intervalStart = ISO_UTC.test(at) ? Date.parse(at) : Number.NaN;
    // Date.parse rolls some invalid dates over (Feb 30 → Mar 2); the round trip catches them.
    if (Number.isNaN(intervalStart) || new Date(intervalStart).toISOString().slice(0, 10) !== at.slice(0, 10)) {
      return `interval_start ${JSON.stringify(at)} is not an ISO-8601 UTC time`;
    }
    if (!MACHINE.test(machineId))
      return `machine_id ${JSON.stringify(machineId.length > 80 ? `${machineId.slice(0, 80)}…` : machineId)}${machineId.length > 80 ? ` (${machineId.length} characters)` : ''} is not a machine id`;
    if (!/^\d{1,12}$/.test(whText)) return `wh ${JSON.stringify(whText)} is not a non-negative integer`;
    return {
      id: `energy:${machineId}:${intervalStart}`,
      source: `csv:${file}`,
      type: 'energy.reading',
      key: machineId,
      eventTime: intervalStart,
      payload: { machineId, wh: Number(whText) },
    };
  },
};

export const csvSchemas = { energy } as const satisfies Record<string, CsvSchema>;
export type CsvSchemaName = keyof typeof csvSchemas;
