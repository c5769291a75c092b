/**
 * What every SQL source client (PostgreSQL, MariaDB in sql-source-client.ts; Oracle in
 * sql-source-oracle.ts) implements: reading a table by watermark.
 */

/** What one poll reads: identifiers come from validated config, values are always parameters. */
export interface PollSpec {
  table: string;
  columns: readonly string[];
  watermarkColumn: string;
  keyColumn: string;
  lagWindowMs: number;
  batch: number;
}

/**
 * Position after the last row read: the watermark as the database's own text at full precision
 * (a rounded watermark would re-read, or loop on, rows of the same millisecond) and the key as text.
 */
export interface Cursor {
  wm: string;
  key: string;
}

export interface PolledRow {
  cursor: Cursor;
  /** Selected columns, lower-case names. */
  row: Record<string, unknown>;
}

/** One dialect's reading of a table by watermark (Kysely-style: one small interface per role). */
export interface SqlSourceClient {
  /** Up to `batch` rows after `cursor`, older than the lag window, ordered by (watermark, key). */
  poll(spec: PollSpec, cursor: Cursor | null): Promise<PolledRow[]>;
  /** Rows after `cursor`, lag window included (the connector's lag). */
  pending(spec: PollSpec, cursor: Cursor | null): Promise<number>;
  close(): Promise<void>;
}

export type SqlPollingDialect = 'postgres' | 'mariadb' | 'oracle';

/** A row's selected columns under lower-case names, whatever case the driver returned them in. */
export const lowerKeys = (r: Record<string, unknown>, columns: readonly string[]) =>
  Object.fromEntries(columns.map((c) => [c.toLowerCase(), r[c] ?? r[c.toLowerCase()] ?? r[c.toUpperCase()] ?? null]));
