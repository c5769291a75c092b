import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { badInputSuite } from '../bad-input.testkit.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import { excelSource } from './excel.ts';
import { HEADERS, writeSheet } from './excel.testkit.ts';

// The excel connector against real workbooks: each good append is a new day's workbook, each bad
// input a workbook (or a file posing as one) of its own.
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

badInputSuite({
  name: 'excel (clock-in workbooks)',
  definition: excelSource as unknown as ConnectorDefinition<z.ZodType>,
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'excel-bad-'));
    let day = 0;
    let emp = 0;
    const nextFile = () => {
      const date = new Date(Date.UTC(2026, 0, 1 + day++)).toISOString().slice(0, 10);
      return { date, file: `clockin-${date}.xlsx` };
    };
    const row = (date: string, over: Record<number, unknown> = {}) => {
      const r: unknown[] = [
        date,
        'B',
        'Thermal',
        `E${String(++emp).padStart(4, '0')}`,
        `Worker ${emp}`,
        new Date(`${date}T13:55:00Z`),
        new Date(`${date}T22:05:00Z`),
        null,
      ];
      for (const [i, v] of Object.entries(over)) r[Number(i)] = v;
      return r;
    };
    const badRow = async (over: Record<number, unknown>) => {
      const { date, file } = nextFile();
      await writeSheet(join(dir, file), HEADERS, [row(date, over)]);
      return new RegExp(`^${esc(file)}#row2@[0-9a-f]{8}$`);
    };
    /** A whole file that is no workbook: one dead letter for the file's version. */
    const badFile = async (bytes: Buffer) => {
      const { file } = nextFile();
      await writeFile(join(dir, file), bytes);
      return `${file}@${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}`;
    };
    /** The bytes of a good workbook, written outside the watched directory. */
    const goodWorkbook = async () => {
      const scratch = await mkdtemp(join(tmpdir(), 'excel-bad-scratch-'));
      await writeSheet(join(scratch, 'w.xlsx'), HEADERS, [row('2026-01-01')]);
      const bytes = await readFile(join(scratch, 'w.xlsx'));
      await rm(scratch, { recursive: true, force: true });
      return bytes;
    };
    return {
      config: { directory: dir, pollMs: 50 },
      source: {
        async append(n) {
          const { date, file } = nextFile();
          const rows = Array.from({ length: n }, () => row(date));
          await writeSheet(join(dir, file), HEADERS, rows);
          // Each row's event, and the `worker` entity its name states.
          return rows.flatMap((r) => [`excel:${file}:${date}|${r[3]}|B:1:+`, `excel:${file}:worker:${r[3]}:1`]);
        },
        bad: [
          { class: 'malformed', what: 'a clock-in time that is text', write: () => badRow({ 5: 'n/a' }) },
          { class: 'malformed', what: 'a formula error in the date cell', write: () => badRow({ 0: '#REF!' }) },
          {
            class: 'truncated',
            what: 'a workbook cut in half (incomplete zip)',
            write: async () => {
              const b = await goodWorkbook();
              return badFile(b.subarray(0, b.length >> 1));
            },
          },
          {
            class: 'oversized',
            what: 'an employee id of 32 000 characters',
            write: () => badRow({ 3: 'E'.repeat(32_000) }),
          },
          {
            class: 'wrongly encoded',
            what: 'a CSV export saved as .xlsx',
            write: () => badFile(Buffer.from(`${HEADERS.join(',')}\n2026-01-01,B,Thermal,E1,Ann,13:55,22:05,\n`)),
          },
          {
            class: 'wrongly encoded',
            what: 'a UTF-16 text file saved as .xlsx',
            write: () => badFile(Buffer.from(`\ufeff${HEADERS.join('\t')}\n`, 'utf16le')),
          },
          {
            class: 'schema-drifted',
            what: '"Employee ID" renamed "Staff No"',
            write: async () => {
              const { date, file } = nextFile();
              await writeSheet(
                join(dir, file),
                HEADERS.map((h) => (h === 'Employee ID' ? 'Staff No' : h)),
                [row(date)],
              );
              return new RegExp(`^${esc(file)}@[0-9a-f]{8}$`);
            },
          },
        ],
        cleanup: () => rm(dir, { recursive: true, force: true }),
      },
    };
  },
});
