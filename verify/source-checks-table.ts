import type { SourceCheck } from './source-checks.ts';

/**
 * Which ledger fact is served by which metric (docs/sources.md): names only — the contract
 * between the simulator's ledger and the API. A source whose ledger has no seal yet is skipped
 * with a log line.
 */
export const SOURCE_CHECKS: readonly SourceCheck[] = Object.freeze([
  { source: 'heat-sensors', fact: 'zone_temp_count', metric: 'zone_temp_count', cell: 0, dims: ['zone'] },
  { source: 'heat-sensors', fact: 'zone_temp_sum', metric: 'zone_temp_sum', cell: 0, dims: ['zone'] },
  { source: 'energy-csv', fact: 'energy_wh', metric: 'energy_wh', cell: 0, dims: ['machine'] },
  { source: 'clockin-excel', fact: 'attendance', metric: 'attendance', cell: 0, dims: ['department', 'shift'] },
  { source: 'clockin-excel', fact: 'absences', metric: 'absences', cell: 0, dims: ['reason'] },
  { source: 'clockin-excel', fact: 'minutes_worked', metric: 'minutes_worked', cell: 0, dims: ['department', 'shift'] },
  {
    source: 'clockin-excel',
    fact: 'absent_by_department',
    metric: 'absent_by_department',
    cell: 0,
    dims: ['department', 'shift'],
  },
  {
    source: 'clockin-excel',
    fact: 'worker_minutes',
    metric: 'worker_minutes',
    cell: 0,
    dims: ['employee', 'department'],
  },
  { source: 'machining', fact: 'operator_task_ms', metric: 'operator_task_ms', cell: 0, dims: ['station', 'operator'] },
  { source: 'tool-api', fact: 'tool_checkouts', metric: 'tool_checkouts', cell: 0, dims: ['tool'] },
  { source: 'tool-api', fact: 'tool_use_ms', metric: 'tool_use_ms', cell: 0, dims: ['tool'] },
  { source: 'orders-postgres', fact: 'orders_created', metric: 'orders_created', cell: 0, dims: ['kind', 'severity'] },
  { source: 'orders-postgres', fact: 'repairs_completed', metric: 'repairs_completed', cell: 0, dims: ['severity'] },
  { source: 'orders-postgres', fact: 'repair_duration_ms', metric: 'repair_duration_ms', cell: 0, dims: ['severity'] },
] satisfies SourceCheck[]);
