import { it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHarness, HEADERS, type Harness } from './excel.testkit.ts';

// A clock-in workbook written by a program nobody on the project wrote: Gnumeric's ssconvert
// (installed by scripts/services-up.sh) turns a CSV into .xlsx, storing `22:00` as a time-only
// cell (a day fraction: 1899-12-30T22:00), dates as date-only cells, and naming the only sheet
// after the file. Serial dates and day fractions typed as plain numbers come along too.
const exec = promisify(execFile);
let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => h.cleanup());

it('reads an ssconvert workbook: time-only and date-only cells, serial dates, the sheet by position', async () => {
  const csv = join(h.dir, 'clockin-2026-12-04.csv');
  const rows = [
    HEADERS.join(','),
    '2026-12-04,C,Assembly,E0001,Ann,22:00,06:00,', // overnight: 480 min, not −960
    '2026-12-04,B,Assembly,E0002,Bob,14:00,22:00,',
    '2026-12-04,A,Assembly,E0003,Cy,,,Sick',
    '46360,A,Assembly,E0004,Di,0.25,0.5833333333,', // serial date, day fractions: 06:00 → 14:00
    '2026-12-04,A,Assembly,E0005,Ed,06:00:30,14:00:30,',
  ];
  await writeFile(csv, `${rows.join('\r\n')}\r\n`);
  await exec('ssconvert', [csv, join(h.dir, 'clockin-2026-12-04.xlsx')], { timeout: 60_000 });
  await rm(csv);

  // By its default name the sheet is not found: a clear reason, one dead letter.
  await h.catchUp('named');
  const [dl] = await h.deadLetters('named');
  assert.match(
    dl.reason,
    /no sheet "Clock-in" \(sheets: "clockin-2026-12-04\.csv"; the connector's `sheet` option takes a name or a position\)/,
  );

  await h.catchUp('first-sheet', { sheet: 1 });
  assert.deepEqual(await h.deadLetters('first-sheet'), []);
  const got = (await h.envelopes('clockin.row')).map((e) => e.payload as Record<string, unknown>);
  const by = new Map(got.map((p) => [p.employeeId, p]));
  assert.equal(got.length, 5);
  assert.deepEqual([...by.keys()].sort(), ['E0001', 'E0002', 'E0003', 'E0004', 'E0005']);
  assert.equal(by.get('E0001')!.minutesWorked, 480);
  assert.equal(by.get('E0002')!.minutesWorked, 480);
  assert.equal(by.get('E0003')!.present, 'no');
  assert.equal(by.get('E0004')!.date, '2026-12-04');
  assert.equal(by.get('E0004')!.minutesWorked, 480);
  assert.equal(by.get('E0005')!.minutesWorked, 480);
  for (const p of got) assert.equal(p.date, '2026-12-04');
});
