import type { CellText } from '../connectors/excel-sheet.ts';

/**
 * The clock-in sheet's row (MYCPU.md "Worker clock-in sheet"; docs/sources.md row 6) → the
 * fields of a `clockin.row` event. Names are personal data: read as a column, never emitted.
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
export const CLOCKIN_REQUIRED = ['date', 'shift', 'department', 'employeeId', 'clockIn', 'clockOut', 'absenceReason'] as const;
export const CLOCKIN_KEY = ['date', 'employeeId', 'shift'] as const;

const SHIFT_START_H: Readonly<Record<string, number>> = { A: 6, B: 14, C: 22 };
const H = 3_600_000;

export interface ClockinRow {
  key: string;
  /** The shift's start, epoch ms: the minute every figure of the row is counted at. */
  eventTime: number;
  payload: {
    date: string; shift: string; department: string; employeeId: string;
    present: 'yes' | 'no'; absenceReason: string | null;
    /** Clock-out − clock-in; null for an absence and for an open row (clocked in, no clock-out yet). */
    minutesWorked: number | null;
  };
}

/** A clock time: an Excel date-time (read as ISO) or `HH:MM` on the shift's day (C's morning hours: the next day). */
function timeOf(text: string, shiftStart: number, shift: string): number | null {
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text)) return Date.parse(text);
  const m = /^(\d{1,2}):(\d\d)$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return null;
  const day = shiftStart - SHIFT_START_H[shift] * H;
  const t = day + Number(m[1]) * H + Number(m[2]) * 60_000;
  return shift === 'C' && Number(m[1]) < 12 ? t + 24 * H : t;
}

/** Canonical cells → the row's event fields, or why the row is malformed. */
export function clockinRow(c: Readonly<Record<string, CellText>>): ClockinRow | string {
  const date = c.date?.slice(0, 10) ?? null; // a date cell reads as an ISO date-time at midnight
  if (!date || !/^\d{4}-\d\d-\d\d$/.test(date) || Number.isNaN(Date.parse(date))) return `Date ${JSON.stringify(c.date)} is not a date`;
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
  if (tout <= tin && /^\d{1,2}:\d\d$/.test(c.clockOut)) tout += 24 * H; // HH:MM past midnight
  const minutes = Math.round((tout - tin) / 60_000);
  if (minutes <= 0 || minutes > 16 * 60) return `Clock Out − Clock In is ${minutes} min (expected 1 … 960)`;
  return { ...base, payload: { ...fields, present: 'yes', absenceReason: null, minutesWorked: minutes } };
}
