import type { CellText } from '../connectors/excel-sheet.ts';

/**
 * The clock-in sheet's row (MYCPU.md "Worker clock-in sheet"; docs/sources.md row 6) → the
 * fields of a `clockin.row` event, and the `worker` entity (id → name, department) it states. Names
 * are personal data: they leave the sheet only in `worker` entities (served behind `pii:read`).
 */

/** Canonical column → accepted headers: the sheet's own and the renames clerks make. */
export const CLOCKIN_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  date: ['Date'],
  shift: ['Shift'],
  department: ['Department', 'Dept'],
  employeeId: ['Employee ID', 'Emp ID', 'EmployeeID', 'Employee'],
  name: ['Name', 'Employee Name'],
  clockIn: ['Clock In', 'Clock-In', 'In'],
  clockOut: ['Clock Out', 'Clock-Out', 'Out'],
  absenceReason: ['Absence Reason', 'Reason', 'Absence'],
};
export const CLOCKIN_REQUIRED = [
  'date',
  'shift',
  'department',
  'employeeId',
  'clockIn',
  'clockOut',
  'absenceReason',
] as const;
export const CLOCKIN_KEY = ['date', 'employeeId', 'shift'] as const;

const SHIFT_START_H: Readonly<Record<string, number>> = { A: 6, B: 14, C: 22 };
const H = 3_600_000;

export interface ClockinRow {
  key: string;
  /** The shift's start, epoch ms: the minute every figure of the row is counted at. */
  eventTime: number;
  payload: {
    date: string;
    shift: string;
    department: string;
    employeeId: string;
    present: 'yes' | 'no';
    absenceReason: string | null;
    /** Clock-out − clock-in; null for an absence and for an open row (clocked in, no clock-out yet). */
    minutesWorked: number | null;
  };
}

/** Spreadsheet serial dates count days from 1899-12-30 (a number cell without a date format reads as one). */
const SERIAL_EPOCH = Date.UTC(1899, 11, 30);
const DAY = 24 * H;
/** Serials from 1950 to 2150: a bare number outside is not taken for a date. */
const isSerial = (text: string) => /^\d+(\.\d+)?$/.test(text) && Number(text) > 18_264 && Number(text) < 91_311;
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * A clock time: an Excel date-time (read as ISO), a serial date-time, a day fraction (`0.9166…`
 * = 22:00), or `HH:MM[:SS]` on the shift's day (C's morning hours: the next day).
 */
function timeOf(text: string, shiftStart: number, shift: string): number | null {
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text)) return Date.parse(text);
  if (isSerial(text)) return SERIAL_EPOCH + Math.round((Number(text) * DAY) / 1000) * 1000;
  if (/^0?\.\d+$/.test(text)) text = clock(Math.round((Number(text) * DAY) / 1000) * 1000);
  const m = /^(\d{1,2}):(\d\d)(?::(\d\d))?$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) return null;
  const day = shiftStart - SHIFT_START_H[shift] * H;
  const t = day + Number(m[1]) * H + Number(m[2]) * 60_000 + Number(m[3] ?? 0) * 1000;
  return shift === 'C' && Number(m[1]) < 12 ? t + 24 * H : t;
}

/** The row's day: an ISO date or date-time (a date cell reads as midnight), or a serial date. */
function dayOf(text: string | null): string | null {
  if (text === null) return null;
  if (isSerial(text)) return new Date(SERIAL_EPOCH + Math.floor(Number(text)) * DAY).toISOString().slice(0, 10);
  return text.slice(0, 10);
}

/** Canonical cells → the row's event fields, or why the row is malformed. */
export function clockinRow(c: Readonly<Record<string, CellText>>): ClockinRow | string {
  const date = dayOf(c.date ?? null);
  if (!date || !/^\d{4}-\d\d-\d\d$/.test(date) || Number.isNaN(Date.parse(date)))
    return `Date ${JSON.stringify(c.date)} is not a date`;
  const shift = c.shift?.toUpperCase() ?? '';
  if (!(shift in SHIFT_START_H)) return `Shift ${JSON.stringify(c.shift)} is not A, B or C`;
  if (!c.department) return 'Department is empty';
  if (!c.employeeId) return 'Employee ID is empty';
  // Ids and names become keys and dimension values: a cell of 32 000 characters is bad input.
  if (c.employeeId.length > 64) return `Employee ID is ${c.employeeId.length} characters long (at most 64)`;
  if (c.department.length > 200) return `Department is ${c.department.length} characters long (at most 200)`;
  const start = Date.parse(`${date}T00:00:00Z`) + SHIFT_START_H[shift] * H;
  const base = { key: c.employeeId, eventTime: start };
  const fields = { date, shift, department: c.department.replace(/\u001f/g, ' '), employeeId: c.employeeId };
  if (c.absenceReason) {
    if (c.clockIn || c.clockOut) return `absence reason ${JSON.stringify(c.absenceReason)} given with clock times`;
    return { ...base, payload: { ...fields, present: 'no', absenceReason: c.absenceReason, minutesWorked: null } };
  }
  if (!c.clockIn) return 'Clock In is empty and no absence reason is given';
  const tin = timeOf(c.clockIn, start, shift);
  if (tin === null) return `Clock In ${JSON.stringify(c.clockIn)} is not a time`;
  // Clocked in, not (yet) out: the worker is on shift. Present, minutes unknown until the clock-out.
  if (!c.clockOut) return { ...base, payload: { ...fields, present: 'yes', absenceReason: null, minutesWorked: null } };
  let tout = timeOf(c.clockOut, start, shift);
  if (tout === null) return `Clock Out ${JSON.stringify(c.clockOut)} is not a time`;
  // A clock time alone (HH:MM, a day fraction) before the clock-in is past midnight.
  if (tout <= tin && (/^\d{1,2}:\d\d(:\d\d)?$/.test(c.clockOut) || /^0?\.\d+$/.test(c.clockOut))) tout += 24 * H;
  const minutes = Math.round((tout - tin) / 60_000);
  if (minutes <= 0 || minutes > 16 * 60) return `Clock Out − Clock In is ${minutes} min (expected 1 … 960)`;
  return { ...base, payload: { ...fields, present: 'yes', absenceReason: null, minutesWorked: minutes } };
}

/** A worker as the clock-in sheet names them: the `data` of a `worker` entity. */
export interface ClockinWorker {
  key: string;
  data: { name: string; department: string };
}

/**
 * The `worker` entity a well-formed row states, or why its name is malformed (the reason never
 * quotes the name: dead letters hold no personal data). Call only on rows `clockinRow` accepted.
 */
export function clockinWorker(c: Readonly<Record<string, CellText>>): ClockinWorker | string {
  const name = c.name ?? null;
  if (!name) return 'Name is empty';
  if (name.length > 200) return `Name is ${name.length} characters long (at most 200)`;
  if (name.includes('\uFFFD')) return 'Name is not valid UTF-8 (the source wrote bytes in another encoding)';
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(name)) return 'Name contains a control character';
  return { key: c.employeeId!, data: { name, department: c.department!.replace(/\u001f/g, ' ') } };
}
