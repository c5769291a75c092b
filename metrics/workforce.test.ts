import { it } from 'vitest';
import assert from 'node:assert/strict';
import { compileReducer, SEP } from './compile-reducer.ts';
import { absences, absentByDepartment, attendance, minutesWorked, workerMinutes } from './workforce.ts';

// A row asserted, corrected (retract + assert), another absent then deleted: the signed metrics
// hold the sheet's final state.
const A6 = Date.UTC(2026, 2, 10, 6);
const row = (sign: 1 | -1, p: Record<string, unknown>) => ({
  type: 'clockin.row',
  eventTime: A6,
  payload: { sign, date: '2026-03-10', shift: 'A', department: 'Assembly', ...p },
});
const yes = (m: number) => ({ present: 'yes', absenceReason: null, minutesWorked: m });
const no = (r: string) => ({ present: 'no', absenceReason: r, minutesWorked: null });
const events = [
  row(1, { employeeId: 'E1', ...yes(480) }),
  row(-1, { employeeId: 'E1', ...yes(480) }),
  row(1, { employeeId: 'E1', ...yes(510) }),
  row(1, { employeeId: 'E2', ...yes(470) }),
  row(1, { employeeId: 'E3', ...no('Sick') }),
  row(-1, { employeeId: 'E3', ...no('Sick') }),
  row(1, { employeeId: 'E4', ...no('Vacation') }),
];

it('workforce metrics sum signed clock-in rows to the final sheet', () => {
  const run = (m: typeof attendance) => {
    const into = new Map<string, number[]>();
    const reduce = compileReducer(m, 60_000);
    for (const e of events) reduce(e, into);
    return Object.fromEntries([...into].map(([k, v]) => [k.split(SEP).slice(1).join('/'), v[0]]));
  };
  assert.deepEqual(run(attendance), { 'Assembly/A': 2 });
  assert.deepEqual(run(minutesWorked), { 'Assembly/A': 980 });
  assert.deepEqual(run(absences), { Sick: 0, Vacation: 1 });
  assert.deepEqual(run(absentByDepartment), { 'Assembly/A': 1 });
  assert.deepEqual(run(workerMinutes), { 'E1/Assembly/A': 510, 'E2/Assembly/A': 470 });
});
