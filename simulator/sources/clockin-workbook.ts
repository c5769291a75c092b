import { rename } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { CLOCKIN_HEADERS, type Layout, type SheetRow } from './clockin-day.ts';

export const CLOCKIN_SHEET = 'Clock-in';

/** Cell values of one row, keyed by the canonical header, as the clerk would type them. */
function cells(r: SheetRow): Record<string, ExcelJS.CellValue> {
  const time = (t: number | null) => (t === null ? null : new Date(t));
  const v: Record<string, ExcelJS.CellValue> = {
    Date: r.date,
    Shift: r.shift,
    Department: r.department,
    'Employee ID': r.employeeId,
    Name: r.name,
    'Clock In': time(r.clockIn),
    'Clock Out': time(r.clockOut),
    'Absence Reason': r.absenceReason,
    Notes: r.note || null,
  };
  // Garbled the way hand-kept sheets are: a placeholder for a time, a clock-out typed with the day
  // before's date (so it is before the clock-in), a typo'd shift. (An empty Clock Out is an open row.)
  if (r.malformed === 'clock-in-na') Object.assign(v, { 'Clock In': 'n/a', 'Absence Reason': null });
  if (r.malformed === 'clock-out-wrong-day')
    Object.assign(v, {
      'Clock Out': r.clockOut === null ? null : new Date(r.clockOut - 86_400_000),
      'Absence Reason': null,
    });
  if (r.malformed === 'unknown-shift') v.Shift = 'D';
  return v;
}

/**
 * Write one version of a day's clock-in workbook: the whole sheet every time (3× a day), beside
 * the target and renamed over it, so a reader sees either the old or the new version, never half.
 */
export async function writeClockinWorkbook(path: string, rows: readonly SheetRow[], layout: Layout): Promise<void> {
  const wb = new ExcelJS.Workbook();
  // Fixed metadata: the same rows always give the same workbook content.
  wb.created = new Date(0);
  wb.modified = new Date(0);
  const ws = wb.addWorksheet(CLOCKIN_SHEET);
  const canonical: string[] = [...CLOCKIN_HEADERS];
  if (layout.notes) canonical.splice(canonical.indexOf('Name') + 1, 0, 'Notes');
  const renamed = new Map(layout.renamed);
  ws.columns = canonical.map((h) => ({
    header: renamed.get(h) ?? h,
    key: h,
    width: h === 'Clock In' || h === 'Clock Out' ? 18 : 14,
    style: h === 'Clock In' || h === 'Clock Out' ? { numFmt: 'yyyy-mm-dd hh:mm' } : {},
  }));
  for (const r of rows) ws.addRow(cells(r));
  const tmp = `${path}.tmp`;
  await wb.xlsx.writeFile(tmp);
  await rename(tmp, path);
}
