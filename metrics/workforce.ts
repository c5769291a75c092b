import { defineMetric } from './define-metric.ts';

/**
 * Workforce utilisation (MYCPU.md report 2) from the clock-in sheets' signed `clockin.row` events
 * (docs/sources.md row 6): a corrected row retracts its old version and asserts the new one, so
 * every figure is the sheet's final state. Bucketed at the shift start; hours = minutes / 60 and
 * attendance rates are computed at query time.
 */
export const attendance = defineMetric({
  name: 'attendance',
  domain: 'workforce',
  description: 'Employees present (clocked in; a row still open has no minutes yet), by department and shift.',
  eventTypes: ['clockin.row'],
  dimensions: { department: 'department', shift: 'shift' },
  where: { present: 'yes' },
  signField: 'sign',
  aggregate: { kind: 'count' },
});

export const absences = defineMetric({
  name: 'absences',
  domain: 'workforce',
  description: 'Absences by reason (Sick, Vacation, Training, Unexcused).',
  eventTypes: ['clockin.row'],
  dimensions: { reason: 'absenceReason' },
  where: { present: 'no' },
  signField: 'sign',
  aggregate: { kind: 'count' },
});

export const absentByDepartment = defineMetric({
  name: 'absent_by_department',
  domain: 'workforce',
  description: "Absences by department and shift (the attendance rate's other half; `absences` splits them by reason).",
  eventTypes: ['clockin.row'],
  dimensions: { department: 'department', shift: 'shift' },
  where: { present: 'no' },
  signField: 'sign',
  aggregate: { kind: 'count' },
});

export const minutesWorked = defineMetric({
  name: 'minutes_worked',
  domain: 'workforce',
  description: 'Minutes between clock-in and clock-out (rows with a clock-out), by department and shift.',
  eventTypes: ['clockin.row'],
  dimensions: { department: 'department', shift: 'shift' },
  signField: 'sign',
  aggregate: { kind: 'sum', field: 'minutesWorked' },
  unit: 'min',
});

/**
 * Hours worked per employee (utilisation's denominator): the same signed rows as `minutes_worked`,
 * by employee. The employee id is personal data: the API shows it only behind pii:read.
 */
export const workerMinutes = defineMetric({
  name: 'worker_minutes',
  domain: 'workforce',
  description:
    'Minutes between clock-in and clock-out per employee (rows with a clock-out), with their department and shift.',
  eventTypes: ['clockin.row'],
  dimensions: { employee: 'employeeId', department: 'department', shift: 'shift' },
  signField: 'sign',
  aggregate: { kind: 'sum', field: 'minutesWorked' },
  unit: 'min',
  personal: ['employee'],
});

/**
 * Task time per operator (utilisation's numerator, task hours and staffing per station): the cycle
 * time of every part an operator took through a machine, counted when it left. Machining operators
 * are the clock-in sheet's employee ids (simulator/sources/clockin-roster.ts), so personal data.
 */
export const operatorTaskMs = defineMetric({
  name: 'operator_task_ms',
  domain: 'workforce',
  description: 'Cycle time of the parts each operator completed, by operator and station, ms.',
  eventTypes: ['machining.exit'],
  dimensions: { operator: 'operator', station: 'station' },
  aggregate: { kind: 'sum', field: 'cycleTimeMs' },
  unit: 'ms',
  personal: ['operator'],
});

export const workforceMetrics = [
  attendance,
  absences,
  absentByDepartment,
  minutesWorked,
  workerMinutes,
  operatorTaskMs,
] as const;
