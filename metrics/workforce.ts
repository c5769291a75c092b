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

export const workforceMetrics = [attendance, absences, minutesWorked] as const;
