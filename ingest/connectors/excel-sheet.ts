import ExcelJS from 'exceljs';

/** A cell as text: dates as ISO strings, numbers and booleans as written, formulas as their result; empty → null. */
export type CellText = string | null;

export interface SheetRow {
  /** 1-based row number in the sheet (the header is row 1). */
  n: number;
  /** Canonical column → cell text; every mapped column is present. */
  cells: Record<string, CellText>;
}

/** Serial 0 of spreadsheet dates: a cell with only a time (`22:00`) holds a fraction of a day after it. */
const SERIAL_EPOCH = Date.UTC(1899, 11, 30);
const DAY = 86_400_000;

/**
 * A date cell as text. Time-only cells (Gnumeric, LibreOffice and Excel all store `22:00` as a day
 * fraction, which reads as 1899-12-30T22:00) become `HH:MM` (`HH:MM:SS` with seconds), for the row
 * schema to put on the row's own day; anything else is an ISO date-time (midnight for date-only cells).
 */
function dateText(d: Date): string {
  const t = d.getTime();
  if (t < SERIAL_EPOCH || t >= SERIAL_EPOCH + DAY) return d.toISOString();
  const hhmmss = d.toISOString().slice(11, 19);
  return hhmmss.endsWith(':00') ? hhmmss.slice(0, 5) : hhmmss;
}

function cellText(v: ExcelJS.CellValue): CellText {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : dateText(v);
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if ('richText' in v) return cellText(v.richText.map((t) => t.text).join(''));
  if ('error' in v) return String(v.error);
  if ('result' in v) return cellText((v.result ?? null) as ExcelJS.CellValue);
  if ('text' in v) return cellText(v.text);
  return null; // a formula without a cached result: nothing a reader can use
}

const norm = (h: string) => h.trim().replace(/\s+/g, ' ').toLowerCase();

/** The canonical column a header (or declared name) stands for, by the declared aliases; null when unknown. */
export function canonicalOf(columns: Readonly<Record<string, readonly string[]>>, header: string): string | null {
  const h = norm(header);
  for (const [canonical, aliases] of Object.entries(columns)) {
    if (norm(canonical) === h || aliases.some((a) => norm(a) === h)) return canonical;
  }
  return null;
}

/**
 * One sheet of a workbook as canonical rows: headers (row 1) are mapped through the declared
 * aliases (case and spacing ignored), unknown headers are ignored, empty rows skipped. Returns the
 * reason when the version as a whole cannot be read (not a workbook, no such sheet, a required
 * column missing) — the caller dead-letters that version once. `present`: the canonical columns
 * the sheet has a header for.
 */
export async function readSheet(
  buf: Buffer,
  opts: { sheet: string | number; columns: Readonly<Record<string, readonly string[]>>; required: readonly string[] },
): Promise<{ rows: SheetRow[]; present: string[] } | string> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(buf as unknown as ExcelJS.Buffer);
  } catch (err) {
    return `not a readable .xlsx workbook: ${(err as Error).message}`;
  }
  // A number is a position (1 = the first sheet): programs that convert from CSV name the sheet after the file.
  const ws = typeof opts.sheet === 'number' ? wb.worksheets[opts.sheet - 1] : wb.getWorksheet(opts.sheet);
  if (!ws) {
    const which = typeof opts.sheet === 'number' ? `sheet number ${opts.sheet}` : `sheet "${opts.sheet}"`;
    return `no ${which} (sheets: ${wb.worksheets.map((w) => `"${w.name}"`).join(', ') || 'none'}; the connector's \`sheet\` option takes a name or a position)`;
  }
  const at = new Map<string, number>(); // canonical → column number; the first matching header wins
  const headers: string[] = [];
  ws.getRow(1).eachCell((cell, col) => {
    const text = cellText(cell.value);
    if (text === null) return;
    headers.push(text);
    const c = canonicalOf(opts.columns, text);
    if (c !== null && !at.has(c)) at.set(c, col);
  });
  const missing = opts.required.filter((c) => !at.has(c));
  if (missing.length > 0) {
    const want = missing
      .map((c) => `${c} (${[...new Set([c, ...(opts.columns[c] ?? [])])].map((a) => `"${a}"`).join(' / ')})`)
      .join(', ');
    return `required column missing: ${want}; headers are ${headers.map((h) => `"${h}"`).join(', ')}`;
  }
  const rows: SheetRow[] = [];
  for (let n = 2; n <= ws.rowCount; n++) {
    const row = ws.getRow(n);
    const cells: Record<string, CellText> = {};
    let empty = true;
    for (const c of Object.keys(opts.columns)) {
      const col = at.get(c);
      cells[c] = col === undefined ? null : cellText(row.getCell(col).value);
      if (cells[c] !== null) empty = false;
    }
    if (!empty) rows.push({ n, cells });
  }
  return { rows, present: [...at.keys()] };
}
