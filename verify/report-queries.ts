/**
 * The report queries verify sends (schema/production.graphql, schema/quality.graphql), over plain
 * `fetch` through the gateway: one cross-subgraph query per range (production, errors, quality).
 */
export const FLOOR_QUERY = `query VerifyFloor($from: DateTime!, $to: DateTime!) {
  stations { id flowIndex idealCycleSec }
  shifts { id start }
  production(from: $from, to: $to, grain: HOUR, groupBy: []) { timeZone }
}`;

export const REPORTS_QUERY = `query VerifyReports($from: DateTime!, $to: DateTime!, $grain: Grain!, $tz: String) {
  production(from: $from, to: $to, grain: $grain, timeZone: $tz, groupBy: [TIME, STATION]) {
    timeZone
    rows { bucket { start end label } station { id } figures { partsStarted partsCompleted errors errorRate cycleTime { count sum } wip } }
    line { partsStarted partsCompleted throughputPerHour wip oee { availability performance quality oee } }
  }
  stationErrors(from: $from, to: $to, grain: $grain, timeZone: $tz, groupBy: [TIME, STATION, CODE]) {
    rows { bucket { start } station { id } code count }
    total
  }
  quality(from: $from, to: $to, grain: $grain, timeZone: $tz, groupBy: [TIME, STATION]) {
    timeZone
    rows { bucket { start end label } station { id } figures { inspected passed failed yield } }
    line { firstPassYield reworkDone reworkPending }
  }
}`;

export const MTTR_QUERY = `query VerifyMttr($from: DateTime!, $to: DateTime!, $grain: Grain!, $tz: String) {
  mttr(from: $from, to: $to, grain: $grain, timeZone: $tz, bySeverity: true) {
    rows { bucket { start end label } severity repairsCompleted mttrMinutes }
    repairsCompleted
    mttrMinutes
  }
}`;

export interface ApiBucket {
  start: string;
  end: string;
  label: string;
}
export interface Floor {
  stations: Array<{ id: string; flowIndex: number | null; idealCycleSec: number | null }>;
  shifts: Array<{ id: string; start: string }>;
  production: { timeZone: string };
}
export interface Oee {
  availability: number | null;
  performance: number | null;
  quality: number | null;
  oee: number | null;
}
export interface Reports {
  production: {
    timeZone: string;
    rows: Array<{
      bucket: ApiBucket;
      station: { id: string };
      figures: {
        partsStarted: number;
        partsCompleted: number;
        errors: number;
        errorRate: number | null;
        cycleTime: { count: number; sum: number };
        wip: number;
      };
    }>;
    line: { partsStarted: number; partsCompleted: number; throughputPerHour: number; wip: number; oee: Oee };
  };
  stationErrors: {
    rows: Array<{ bucket: { start: string }; station: { id: string }; code: string; count: number }>;
    total: number;
  };
  quality: {
    timeZone: string;
    rows: Array<{
      bucket: ApiBucket;
      station: { id: string };
      figures: { inspected: number; passed: number; failed: number; yield: number | null };
    }>;
    line: { firstPassYield: number | null; reworkDone: number; reworkPending: number };
  };
}
export interface Mttr {
  mttr: {
    rows: Array<{ bucket: ApiBucket; severity: number | null; repairsCompleted: number; mttrMinutes: number | null }>;
    repairsCompleted: number;
    mttrMinutes: number | null;
  };
}

export { postQuery } from './graphql.ts';
