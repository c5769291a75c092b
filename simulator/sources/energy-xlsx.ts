import { rename } from 'node:fs/promises';
import ExcelJS from 'exceljs';

/** A well-formed report line: ISO interval start, machine id, integer Wh. */
const LINE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z),([A-Za-z0-9_-]+),(\d+)$/;

/**
 * The day-end Excel copy of a day's energy report (MYCPU.md: "CSV (and Excel)"). Plants send it to
 * accounting; no connector reads it now. It holds each (interval, machine) once: the CSV's
 * malformed lines and re-appended duplicates are not in it.
 */
export async function writeEnergyWorkbook(path: string, lines: readonly string[]): Promise<number> {
  const seen = new Set<string>();
  // Written beside and renamed: a reader never sees half a workbook. Streamed: ~5× faster than
  // building the workbook in memory, which matters for a year-long back-fill (one workbook a day).
  const tmp = `${path}.tmp`;
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: tmp, useStyles: false, useSharedStrings: false });
  // Fixed dates so the same day always gives the same workbook metadata.
  wb.created = new Date(0);
  wb.modified = new Date(0);
  const ws = wb.addWorksheet('energy');
  ws.columns = [
    { header: 'interval_start', key: 'at', width: 24 },
    { header: 'machine_id', key: 'machine', width: 12 },
    { header: 'wh', key: 'wh', width: 10 },
  ];
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m || Number.isNaN(Date.parse(m[1])) || seen.has(`${m[1]},${m[2]}`)) continue;
    seen.add(`${m[1]},${m[2]}`);
    ws.addRow({ at: new Date(m[1]), machine: m[2], wh: Number(m[3]) }).commit();
  }
  ws.commit();
  await wb.commit();
  await rename(tmp, path);
  return seen.size;
}
