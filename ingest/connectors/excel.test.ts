import { describe, it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Topic } from '../../log/topic.ts';
import type { Envelope } from '../envelope.ts';
import { excelSource } from './excel.ts';
import { HEADERS, createHarness, writeSheet, type Harness } from './excel.testkit.ts';

const T = (hhmm: string, day = '2026-03-10') => new Date(`${day}T${hhmm}:00Z`);
const present = (emp: string, out = '14:00', name = 'Ana Berg') => [
  '2026-03-10',
  'A',
  'Assembly',
  emp,
  name,
  T('06:00'),
  T(out),
  null,
];
const absent = (emp: string, reason: string) => [
  '2026-03-10',
  'A',
  'Assembly',
  emp,
  'Ben Castillo',
  null,
  null,
  reason,
];
const A6 = Date.UTC(2026, 2, 10, 6);
const idsOf = (es: Envelope[]) => es.map((e) => e.id);

let h: Harness;
let n = 0;
/** A fresh connector name and workbook per test, so each test starts from nothing. */
const fresh = () => ({ name: `excel-t${++n}`, file: `clockin-t${n}.xlsx`, path: (f: string) => join(h.dir, f) });
before(async () => {
  h = await createHarness();
});
after(async () => h.cleanup());

describe('excel connector', () => {
  it('reads renamed and added columns through the declared aliases, without names in the payload', async () => {
    const { name, file, path } = fresh();
    await writeSheet(
      path(file),
      ['Date', 'Shift', 'Department', 'Emp ID', 'Name', 'Notes', 'Clock-In', 'Clock-Out', 'Reason'],
      [
        ['2026-03-10', 'A', 'Assembly', 'E0001', 'Ana Berg', 'swapped shift', T('05:50'), T('14:05'), null],
        ['2026-03-10', 'A', 'Test', 'E0002', 'Ben Castillo', null, null, null, 'Sick'],
      ],
    );
    await h.catchUp(name, { pattern: file });
    const es = (await h.envelopes('clockin.row')).filter((e) => e.source === `excel:${file}`);
    assert.deepEqual(
      es
        .map(({ id, type, key, eventTime, payload }) => ({ id, type, key, eventTime, payload }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      [
        {
          id: `excel:${file}:2026-03-10|E0001|A:1:+`,
          type: 'clockin.row',
          key: 'E0001',
          eventTime: A6,
          payload: {
            sign: 1,
            date: '2026-03-10',
            shift: 'A',
            department: 'Assembly',
            employeeId: 'E0001',
            present: 'yes',
            absenceReason: null,
            minutesWorked: 495,
          },
        },
        {
          id: `excel:${file}:2026-03-10|E0002|A:1:+`,
          type: 'clockin.row',
          key: 'E0002',
          eventTime: A6,
          payload: {
            sign: 1,
            date: '2026-03-10',
            shift: 'A',
            department: 'Test',
            employeeId: 'E0002',
            present: 'no',
            absenceReason: 'Sick',
            minutesWorked: null,
          },
        },
      ],
    );
    assert.ok(!JSON.stringify(es).includes('Berg'), 'no name leaves the sheet');
  });

  it('turns an update into retraction + assertion and a delete into a retraction; A→B→A never reuses an id', async () => {
    const { name, file, path } = fresh();
    const cfg = { pattern: file };
    await writeSheet(path(file), HEADERS, [present('E0001'), absent('E0002', 'Sick')]);
    await h.catchUp(name, cfg);
    await writeSheet(path(file), HEADERS, [present('E0001', '14:30', 'Ana Berg-Lind')]); // changed out time and name; E0002 gone
    await h.catchUp(name, cfg);
    await writeSheet(path(file), HEADERS, [present('E0001', '14:00')]); // back to A
    await h.catchUp(name, cfg);
    await writeSheet(path(file), HEADERS, [present('E0001', '14:00', 'Ana B.')]); // only the name: nothing to emit
    await h.catchUp(name, cfg);
    await writeSheet(path(file), HEADERS, [absent('E0002', 'Vacation')]); // E0001 deleted, E0002 back
    await h.catchUp(name, cfg);
    const es = (await h.envelopes('clockin.row')).filter((e) => e.source === `excel:${file}`);
    const k1 = `excel:${file}:2026-03-10|E0001|A`;
    const k2 = `excel:${file}:2026-03-10|E0002|A`;
    assert.deepEqual(
      idsOf(es).sort(),
      [
        `${k1}:1:+`,
        `${k1}:1:-`,
        `${k1}:2:+`,
        `${k1}:2:-`,
        `${k1}:3:+`,
        `${k1}:3:-`,
        `${k2}:1:+`,
        `${k2}:1:-`,
        `${k2}:2:+`,
      ].sort(),
    );
    assert.equal(new Set(idsOf(es)).size, es.length, 'every id distinct');
    const byId = new Map(es.map((e) => [e.id, e.payload]));
    assert.deepEqual(
      [byId.get(`${k1}:1:-`)?.sign, byId.get(`${k1}:1:-`)?.minutesWorked],
      [-1, 480],
      'the retraction repeats the old version',
    );
    assert.equal(byId.get(`${k1}:2:+`)?.minutesWorked, 510);
    // Signed sums equal the final sheet: E0002 absent (Vacation), nobody present.
    const sum = (f: (p: Record<string, unknown>) => number) =>
      es.reduce((s, e) => s + f(e.payload) * Number(e.payload.sign), 0);
    assert.equal(
      sum((p) => (p.present === 'yes' ? 1 : 0)),
      0,
    );
    assert.equal(
      sum((p) => (p.present === 'yes' ? Number(p.minutesWorked) : 0)),
      0,
    );
    assert.equal(
      sum((p) => (p.absenceReason === 'Vacation' ? 1 : 0)),
      1,
    );
    assert.equal(
      sum((p) => (p.absenceReason === 'Sick' ? 1 : 0)),
      0,
    );
  });

  it('re-publishes the same ids after a crash between publish and state save', async () => {
    const { name, file, path } = fresh();
    const cfg = { pattern: file };
    await writeSheet(path(file), HEADERS, [present('E0001'), present('E0002')]);
    await h.catchUp(name, cfg);
    await writeSheet(path(file), HEADERS, [present('E0001', '15:00'), present('E0003')]);
    let crashed = false;
    const crashing: Topic = {
      ...h.log,
      publish: async (records) => {
        await h.log.publish(records);
        crashed = true;
        throw new Error('simulated crash after the log acknowledged');
      },
    };
    const c = excelSource.create(
      excelSource.config.parse({ directory: h.dir, pollMs: 50, ...cfg }),
      h.ctx(name, crashing),
    );
    await c.start();
    const deadline = Date.now() + 10_000;
    while (!crashed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await c.stop();
    assert.ok(crashed);
    await h.catchUp(name, cfg);
    const ids = idsOf((await h.envelopes('clockin.row')).filter((e) => e.source === `excel:${file}`));
    const k = (e: string) => `excel:${file}:2026-03-10|${e}|A`;
    const second = [`${k('E0001')}:1:-`, `${k('E0001')}:2:+`, `${k('E0002')}:1:-`, `${k('E0003')}:1:+`];
    assert.deepEqual(
      [...new Set(ids)].sort(),
      [`${k('E0001')}:1:+`, `${k('E0002')}:1:+`, ...second].sort(),
      'no new ids after the crash',
    );
    for (const id of second)
      assert.ok(ids.filter((x) => x === id).length >= 2, `${id} published again with the same id`);
  });

  it('dead-letters a version missing a required column once, keeps its rows, and reads the next version', async () => {
    const { name, file, path } = fresh();
    const cfg = { pattern: file };
    await writeSheet(path(file), HEADERS, [present('E0001')]);
    await h.catchUp(name, cfg);
    await writeSheet(
      path(file),
      HEADERS.map((x) => (x === 'Employee ID' ? 'Worker No' : x)),
      [present('E0001', '15:00')],
    );
    await h.catchUp(name, cfg);
    await h.catchUp(name, cfg); // polled again: still one dead letter
    const dl = await h.deadLetters(name);
    assert.equal(dl.length, 1);
    assert.match(dl[0].position, new RegExp(`^${file.replace('.', '\\.')}@[0-9a-f]{8}$`));
    assert.match(dl[0].reason, /required column missing: employeeId .*"Emp ID".*"Worker No"/);
    assert.equal(
      (await h.envelopes('clockin.row')).filter((e) => e.source === `excel:${file}`).length,
      1,
      'no retraction for an unreadable version',
    );
    await writeSheet(path(file), HEADERS, [present('E0001', '15:00')]);
    await h.catchUp(name, cfg);
    const ids = idsOf((await h.envelopes('clockin.row')).filter((e) => e.source === `excel:${file}`));
    const k = `excel:${file}:2026-03-10|E0001|A`;
    assert.deepEqual(ids.sort(), [`${k}:1:+`, `${k}:1:-`, `${k}:2:+`]);
  });

  it('reads an open row (clocked in, no clock-out yet) as present without minutes; its clock-out retracts and re-asserts it', async () => {
    const { name, file, path } = fresh();
    const cfg = { pattern: file };
    const open = ['2026-03-10', 'A', 'Assembly', 'E0001', 'Ana Berg', T('05:52'), null, null];
    const bad = ['2026-03-10', 'A', 'Assembly', 'E0002', 'Ben Castillo', 'n/a', null, null];
    await writeSheet(path(file), HEADERS, [open, bad]);
    await h.catchUp(name, cfg);
    const payloads = async () =>
      (await h.envelopes('clockin.row'))
        .filter((e) => e.source === `excel:${file}`)
        .map((e) => [e.id, e.payload.sign, e.payload.present, e.payload.minutesWorked]);
    const k = `excel:${file}:2026-03-10|E0001|A`;
    assert.deepEqual(await payloads(), [[`${k}:1:+`, 1, 'yes', null]]);
    const dl = await h.deadLetters(name);
    assert.equal(dl.length, 1, 'an unreadable clock-in with no clock-out is still malformed');
    assert.match(dl[0].reason, /Clock In "n\/a" is not a time/);
    await writeSheet(path(file), HEADERS, [
      ['2026-03-10', 'A', 'Assembly', 'E0001', 'Ana Berg', T('05:52'), T('14:07'), null],
    ]);
    await h.catchUp(name, cfg);
    assert.deepEqual(await payloads(), [
      [`${k}:1:+`, 1, 'yes', null],
      [`${k}:1:-`, -1, 'yes', null],
      [`${k}:2:+`, 1, 'yes', 495],
    ]);
  });

  it('dead-letters a clock-out dated before the clock-in', async () => {
    const { name, file, path } = fresh();
    await writeSheet(path(file), HEADERS, [
      ['2026-03-10', 'A', 'Assembly', 'E0001', 'Ana Berg', T('05:52'), T('14:07', '2026-03-09'), null],
    ]);
    await h.catchUp(name, { pattern: file });
    assert.equal((await h.envelopes('clockin.row')).filter((e) => e.source === `excel:${file}`).length, 0);
    const dl = await h.deadLetters(name);
    assert.equal(dl.length, 1);
    assert.match(dl[0].reason, /Clock Out − Clock In is -945 min/);
  });

  it('dead-letters a malformed row at file#row@hash (without the name) and treats it as absent', async () => {
    const { name, file, path } = fresh();
    const cfg = { pattern: file };
    await writeSheet(path(file), HEADERS, [present('E0001'), present('E0002')]);
    await h.catchUp(name, cfg);
    const bad = ['2026-03-10', 'A', 'Assembly', 'E0002', 'Ana Berg', 'n/a', T('14:00'), null];
    await writeSheet(path(file), HEADERS, [
      present('E0001'),
      bad,
      ['2026-03-10', 'D', 'Assembly', 'E0003', 'X', T('06:00'), T('14:00'), null],
    ]);
    await h.catchUp(name, cfg);
    const dl = await h.deadLetters(name);
    assert.equal(dl.length, 2);
    assert.match(dl[0].position, new RegExp(`^${file.replace('.', '\\.')}#row3@[0-9a-f]{8}$`));
    assert.match(dl[0].reason, /Clock In "n\/a" is not a time/);
    assert.match(dl[1].reason, /Shift "D" is not A, B or C/);
    assert.ok(!dl[0].raw.includes('Berg') && dl[0].raw.includes('E0002'));
    const ids = idsOf((await h.envelopes('clockin.row')).filter((e) => e.source === `excel:${file}`));
    const k = (e: string) => `excel:${file}:2026-03-10|${e}|A`;
    assert.deepEqual(
      ids.sort(),
      [`${k('E0001')}:1:+`, `${k('E0002')}:1:+`, `${k('E0002')}:1:-`],
      'the malformed row retracts what it replaced',
    );
  });

  it('emits a `worker` entity per named employee: same row, same id; a changed name, a newer version', async () => {
    const { name, file, path } = fresh();
    const workers = async () =>
      (await h.envelopes('entity.upsert'))
        .filter((e) => e.source === `excel:${file}`)
        .map(({ id, key, eventTime, payload }) => ({ id, key, eventTime, payload }))
        .sort((a, b) => a.id.localeCompare(b.id));
    await writeSheet(path(file), HEADERS, [present('E0001'), absent('E0002', 'Sick')]);
    await h.catchUp(name, { pattern: file });
    const first = [
      {
        id: `excel:${file}:worker:E0001:1`,
        key: 'worker:E0001',
        eventTime: A6,
        payload: {
          entity: 'worker',
          key: 'E0001',
          version: `${A6}:000001`,
          data: { department: 'Assembly', name: 'Ana Berg' },
        },
      },
      {
        id: `excel:${file}:worker:E0002:1`,
        key: 'worker:E0002',
        eventTime: A6,
        payload: {
          entity: 'worker',
          key: 'E0002',
          version: `${A6}:000001`,
          data: { department: 'Assembly', name: 'Ben Castillo' },
        },
      },
    ];
    assert.deepEqual(await workers(), first);
    // A clock-out corrected, names unchanged: no new worker event. Then a name corrected: a newer version.
    await writeSheet(path(file), HEADERS, [present('E0001', '13:30'), absent('E0002', 'Sick')]);
    await h.catchUp(name, { pattern: file });
    assert.deepEqual(await workers(), first);
    await writeSheet(path(file), HEADERS, [present('E0001', '13:30', 'Ana Berg-Lund'), absent('E0002', 'Sick')]);
    await h.catchUp(name, { pattern: file });
    const all = await workers();
    assert.equal(all.length, 3);
    assert.deepEqual(all[1].payload, {
      entity: 'worker',
      key: 'E0001',
      version: `${A6}:000002`,
      data: { department: 'Assembly', name: 'Ana Berg-Lund' },
    });
    assert.equal(all[1].id, `excel:${file}:worker:E0001:2`);
  });

  it('dead-letters an empty, oversized or mis-encoded name (without it) and keeps the row', async () => {
    const { name, file, path } = fresh();
    const secret = 'Zoë Q\uFFFDuist';
    await writeSheet(path(file), HEADERS, [
      present('E0001', '14:00', 'Ana Berg'),
      present('E0002', '14:00', ''),
      present('E0003', '14:00', 'N'.repeat(5_000)),
      present('E0004', '14:00', secret),
    ]);
    await h.catchUp(name, { pattern: file });
    const mine = (es: Envelope[]) => es.filter((e) => e.source === `excel:${file}`);
    assert.deepEqual(
      mine(await h.envelopes('clockin.row'))
        .map((e) => e.key)
        .sort(),
      ['E0001', 'E0002', 'E0003', 'E0004'],
    );
    assert.deepEqual(
      mine(await h.envelopes('entity.upsert')).map((e) => e.payload.key),
      ['E0001'],
    );
    const dead = (await h.deadLetters(name)).sort((a, b) => a.position.localeCompare(b.position));
    assert.deepEqual(
      dead.map((d) => [d.position.replace(/@[0-9a-f]{8}/, '@h'), d.reason]),
      [
        [`${file}#row3@h:worker`, 'Name is empty'],
        [`${file}#row4@h:worker`, 'Name is 5000 characters long (at most 200)'],
        [`${file}#row5@h:worker`, 'Name is not valid UTF-8 (the source wrote bytes in another encoding)'],
      ],
    );
    for (const d of dead) assert.ok(!d.raw.includes('NNNN') && !d.raw.includes('uist'), 'no name in a dead letter');
  });

  it('emits no worker entity from a sheet without a Name column', async () => {
    const { name, file, path } = fresh();
    await writeSheet(
      path(file),
      HEADERS.filter((x) => x !== 'Name'),
      [present('E0001').filter((_, i) => i !== 4)],
    );
    await h.catchUp(name, { pattern: file });
    assert.equal((await h.envelopes('clockin.row')).filter((e) => e.source === `excel:${file}`).length, 1);
    assert.equal((await h.envelopes('entity.upsert')).filter((e) => e.source === `excel:${file}`).length, 0);
    assert.deepEqual(await h.deadLetters(name), []);
  });

  it('refuses a key or required column that is not declared', () => {
    assert.throws(
      () => excelSource.config.parse({ directory: '/x', key: ['Date', 'Badge'] }),
      /Badge.{0,4} is not a declared column or alias/,
    );
    assert.throws(
      () => excelSource.config.parse({ directory: '/x', required: ['payroll'] }),
      /payroll.{0,4} is not a declared column or alias/,
    );
    assert.deepEqual(excelSource.config.parse({ directory: '/x', key: ['Date', 'Emp ID', 'shift'] }).key, [
      'Date',
      'Emp ID',
      'shift',
    ]);
  });
});
