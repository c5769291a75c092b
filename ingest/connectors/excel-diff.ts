import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DeadLetter } from '../checkpoints.ts';
import type { Envelope } from '../envelope.ts';
import type { CellText, SheetRow } from './excel-sheet.ts';

/** What a row contributed, kept so that its retraction can repeat it exactly. */
const rowEventSchema = z.object({ key: z.string(), eventTime: z.number(), payload: z.record(z.string(), z.unknown()) });
type RowEvent = z.infer<typeof rowEventSchema>;

/**
 * A workbook's snapshot in the connector state: its version, and per row key the row's change
 * counter `v` with what it last asserted (null once retracted). The counter never goes back, so a
 * row that changes A → B → A, or vanishes and comes back, gets a new id every time.
 */
export const fileStateSchema = z.object({
  ino: z.number(),
  mtimeMs: z.number(),
  size: z.number(),
  sha256: z.string(),
  rows: z.record(z.string(), z.object({ v: z.number().int().nonnegative(), row: rowEventSchema.nullable() })),
  /** Per entity key, the entity's change counter and the data it last upserted (sorted JSON). */
  entities: z.record(z.string(), z.object({ v: z.number().int().positive(), data: z.string() })).optional(),
});
export type FileState = z.infer<typeof fileStateSchema>;

export interface DiffOptions {
  key: readonly string[];
  private: readonly string[];
  type: string;
  parse: (cells: Readonly<Record<string, CellText>>) => RowEvent | string;
  /**
   * The current-state entity a well-formed row states (`entity.upsert`, kind `name`), or why the
   * part of the row it reads is malformed (a dead letter; the row's event is still published).
   */
  entity?: {
    name: string;
    of: (cells: Readonly<Record<string, CellText>>) => { key: string; data: Record<string, unknown> } | string;
  };
}

/** Payload with sorted keys: the state's JSON goes through jsonb, which reorders keys. */
const sorted = (p: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(p).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const same = (a: RowEvent, b: RowEvent) =>
  a.key === b.key &&
  a.eventTime === b.eventTime &&
  JSON.stringify(sorted(a.payload)) === JSON.stringify(sorted(b.payload));

/**
 * One workbook version against the previous snapshot → the signed events to publish, the dead
 * letters (malformed rows, duplicate keys: treated as absent) and the next snapshot. Pure: the
 * same version against the same snapshot always gives the same ids.
 */
export function diffWorkbook(
  file: string,
  prev: FileState['rows'],
  sheet: readonly SheetRow[],
  opts: DiffOptions,
  prevEntities: NonNullable<FileState['entities']> = {},
): { events: Envelope[]; dead: DeadLetter[]; rows: FileState['rows']; entities: NonNullable<FileState['entities']> } {
  const source = `excel:${file}`;
  const events: Envelope[] = [];
  const dead: DeadLetter[] = [];
  const rows: FileState['rows'] = structuredClone(prev);
  const emit = (rowKey: string, v: number, r: RowEvent, sign: 1 | -1) =>
    events.push({
      id: `${source}:${rowKey}:${v}:${sign > 0 ? '+' : '-'}`,
      source,
      type: opts.type,
      key: r.key,
      eventTime: r.eventTime,
      payload: { sign, ...sorted(r.payload) },
    });
  const seen = new Set<string>();
  // Per entity key, what its latest row (by event time; the later row on a tie) states.
  const stated = new Map<string, { eventTime: number; data: Record<string, unknown> }>();
  for (const { n, cells } of sheet) {
    const raw = JSON.stringify(Object.fromEntries(Object.entries(cells).filter(([c]) => !opts.private.includes(c))));
    // The content hash is in the position: the same bad row in a later version is the same dead letter.
    const position = `${file}#row${n}@${createHash('sha256').update(raw).digest('hex').slice(0, 8)}`;
    const keyCells = opts.key.map((c) => cells[c]);
    if (keyCells.some((k) => k === null)) {
      dead.push({ position, raw, reason: `row key ${opts.key.join(', ')} incomplete` });
      continue;
    }
    const rowKey = keyCells.join('|');
    const r = opts.parse(cells);
    if (typeof r === 'string') dead.push({ position, raw, reason: r });
    else if (seen.has(rowKey)) dead.push({ position, raw, reason: `duplicate row key ${rowKey}` });
    else {
      seen.add(rowKey);
      const ent = opts.entity?.of(cells);
      if (typeof ent === 'string') dead.push({ position: `${position}:${opts.entity!.name}`, raw, reason: ent });
      else if (ent && (stated.get(ent.key)?.eventTime ?? -Infinity) <= r.eventTime)
        stated.set(ent.key, { eventTime: r.eventTime, data: sorted(ent.data) });
      const old = rows[rowKey];
      if (old?.row && same(old.row, r)) continue;
      if (old?.row) emit(rowKey, old.v, old.row, -1);
      const v = (old?.v ?? 0) + 1;
      emit(rowKey, v, r, 1);
      rows[rowKey] = { v, row: r };
    }
  }
  for (const [rowKey, old] of Object.entries(rows)) {
    if (seen.has(rowKey) || !old.row) continue;
    emit(rowKey, old.v, old.row, -1);
    rows[rowKey] = { v: old.v, row: null };
  }
  // Entities: an upsert when the data changed since this workbook last stated it. The version is the
  // row's event time, then the counter: a later day wins, and so does a correction of the same row.
  const entities = { ...prevEntities };
  for (const [key, { eventTime, data }] of [...stated].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const json = JSON.stringify(data);
    if (entities[key]?.data === json) continue;
    const v = (entities[key]?.v ?? 0) + 1;
    const entity = opts.entity!.name;
    events.push({
      id: `${source}:${entity}:${key}:${v}`,
      source,
      type: 'entity.upsert',
      key: `${entity}:${key}`,
      eventTime,
      payload: { entity, key, version: `${eventTime}:${String(v).padStart(6, '0')}`, data },
    });
    entities[key] = { v, data: json };
  }
  return { events, dead, rows, entities };
}
