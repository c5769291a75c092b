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

/** One line → its fields. Parsed alone, so a stray quote cannot swallow the lines after it. */
export function parseCsvLine(text: string): string[] | string {
  try {
    const rows = parse(text, { relax_column_count: true, trim: true }) as string[][];
    if (rows.length !== 1) return `expected one record, got ${rows.length}`;
    return rows[0];
  } catch (err) {
    return `unparsable CSV: ${(err as Error).message}`;
  }
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/;
const MACHINE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

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
    if (!MACHINE.test(machineId)) return `machine_id ${JSON.stringify(machineId)} is not a machine id`;
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
