/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** An alert rule (thresholds from the MILLRACE_ALERT_* settings). */
export type AlertRule =
  /** A connector lagging by more than MILLRACE_ALERT_CONNECTOR_LAG, without a checkpoint for MILLRACE_ALERT_STALL_SEC, or failing. */
  | 'CONNECTOR'
  /** A severity-1 repair order is open. */
  | 'SEVERITY_1_REPAIR'
  /** A flow station with no exits for MILLRACE_ALERT_NO_EXIT_MIN minutes. */
  | 'STATION_NO_EXITS'
  /** A zone's hottest reading of the last 15 minutes above MILLRACE_ALERT_ZONE_MAX_C. */
  | 'ZONE_TEMPERATURE';

/** A rule's state at the last evaluation. */
export type AlertRuleStatus =
  /** Evaluated; at least one alert fires. */
  | 'FIRING'
  /** Evaluated; nothing fires. */
  | 'OK'
  /** Its figures could not be read (see `error`); its alerts stay as they were. */
  | 'UNAVAILABLE';

/** What an `alerts` subscription message is. */
export type AlertUpdateKind =
  /** An evaluation raised or cleared alerts, or changed a rule's state. */
  | 'CHANGE'
  /** The first message: what fires when the subscription starts. */
  | 'SNAPSHOT';

/**
 * How an answer is cut in time. MINUTE and HOUR are absolute; SHIFT, DAY, WEEK (starting Monday) and
 * MONTH follow the query's `timeZone` (default: the factory's, `MILLRACE_TIME_ZONE`), daylight-saving
 * days included (a DAY can be 23 or 25 hours long). Shifts come from `MILLRACE_SHIFTS`.
 */
export type Grain =
  | 'DAY'
  | 'HOUR'
  | 'MINUTE'
  | 'MONTH'
  | 'SHIFT'
  | 'WEEK';

/** Where an order stands: requested, confirmed, then received/completed. */
export type RepairStatus =
  | 'COMPLETED'
  | 'CONFIRMED'
  | 'REQUESTED';

/** What a subscription message is: the current figures first, then increments. */
export type UpdateKind =
  | 'DELTA'
  | 'SNAPSHOT';

export type DashboardAlertsSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardAlertsSubscription = { alerts: { kind: AlertUpdateKind, evaluatedAt: string, alerts: Array<{ id: string, rule: AlertRule, subject: string, message: string, since: string }>, raised: Array<{ id: string }>, cleared: Array<{ id: string }>, rules: Array<{ rule: AlertRule, description: string, state: AlertRuleStatus, error: string | null }>, thresholds: { zoneMaxC: number, noExitMinutes: number, connectorLag: number, stallSeconds: number } } };

export type DashboardEnergyQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type DashboardEnergyQuery = { byDepartment: { rows: Array<{ department: { id: string } | null, figures: { kwh: number, partsCompleted: number | null, whPerPart: number | null } }>, total: { wh: number, kwh: number }, line: { kwh: number, partsCompleted: number, whPerPart: number | null }, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } }, byMachine: { rows: Array<{ machine: { id: string } | null, figures: { kwh: number, partsCompleted: number | null, whPerPart: number | null } }> } };

export type DashboardZoneHeatQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type DashboardZoneHeatQuery = { stations: Array<{ id: string, name: string, x: number, y: number, zone: { id: string }, machines: Array<{ id: string }> }>, stationEnergy: { rows: Array<{ station: { id: string } | null, figures: { wh: number } }> }, zoneTemperatures: { rows: Array<{ zone: { id: string } | null, figures: { readings: number, meanC: number | null, maxC: number | null } }>, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } } };

export type DashboardEnergyLiveSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardEnergyLiveSubscription = { energyUpdates: { kind: UpdateKind, items: Array<{ machine: string, wh: number }> } };

export type DashboardHeatLiveSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardHeatLiveSubscription = { zoneTemperatureUpdates: { kind: UpdateKind, items: Array<{ zone: string, bucket: string, readings: number, sumCentiC: number, maxC: number | null }> } };

export type DashboardDeadLettersQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardDeadLettersQuery = { deadLetters: { edges: Array<{ node: { connector: string, source: string, position: string, reason: string, raw: string | null, createdAt: string } }> } };

export type DashboardProductionFloorQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type DashboardProductionFloorQuery = { stations: Array<{ id: string, name: string, x: number, y: number, flowIndex: number | null, zone: { id: string } }>, production: { rows: Array<{ station: { id: string } | null, figures: { partsStarted: number, partsCompleted: number, errors: number, wip: number } }>, total: { partsStarted: number, partsCompleted: number, throughputPerHour: number, errors: number, errorRate: number | null, wip: number, cycleTime: { mean: number | null, p95: number | null } }, line: { partsStarted: number, partsCompleted: number, throughputPerHour: number, wip: number, oee: { availability: number | null, performance: number | null, quality: number | null, oee: number | null } }, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } } };

export type DashboardProductionTrendQueryVariables = Exact<{
  from: string;
  to: string;
  grain: Grain;
}>;


export type DashboardProductionTrendQuery = { production: { rows: Array<{ bucket: { start: string, label: string } | null, figures: { partsCompleted: number, throughputPerHour: number, cycleTime: { mean: number | null, p95: number | null } } }>, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } } };

export type DashboardProductionPeriodsQueryVariables = Exact<{
  from: string;
  to: string;
  grain: Grain;
}>;


export type DashboardProductionPeriodsQuery = { production: { rows: Array<{ bucket: { label: string, shift: string | null } | null, figures: { partsStarted: number, partsCompleted: number, errors: number, errorRate: number | null } }>, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } } };

export type DashboardProductionErrorsQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type DashboardProductionErrorsQuery = { stationErrors: { total: number, rows: Array<{ code: string | null, count: number }>, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } } };

export type DashboardProductionLiveSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardProductionLiveSubscription = { productionUpdates: { kind: UpdateKind, cursor: string | null, items: Array<{ station: string, bucket: string, partsStarted: number, partsCompleted: number, errors: number }> } };

export type DashboardQualityQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type DashboardQualityQuery = { byStation: { rows: Array<{ station: { id: string } | null, figures: { inspected: number, passed: number, failed: number, yield: number | null } }>, total: { inspected: number, passed: number, failed: number, yield: number | null }, line: { firstPassYield: number | null, reworkDone: number, reworkPending: number }, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } }, byDepartment: { rows: Array<{ department: { id: string } | null, figures: { inspected: number, failed: number, yield: number | null } }> } };

export type DashboardRepairsQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type DashboardRepairsQuery = { mttr: { repairsCompleted: number, mttrMinutes: number | null, rows: Array<{ severity: number | null, repairsCompleted: number, mttrMinutes: number | null }>, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } }, orders: { totalCount: number, edges: Array<{ node: { id: string, severity: number | null, status: RepairStatus, subject: string, requestedAt: string } }> } };

export type DashboardToolsQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardToolsQuery = { tools: { totalCount: number, edges: Array<{ node: { id: string, type: string | null, ratedLifeHours: number | null, usedHours: number, lifeUsed: number | null, checkedOut: boolean } }> } };

export type DashboardQualityLiveSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardQualityLiveSubscription = { qualityUpdates: { kind: UpdateKind, items: Array<{ station: string, inspected: number, failed: number }> } };

export type DashboardAttendanceQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type DashboardAttendanceQuery = { attendance: { rows: Array<{ department: { id: string } | null, shift: { id: string } | null, figures: { present: number, absent: number, attendanceRate: number | null, hoursWorked: number } }>, total: { present: number, absent: number, attendanceRate: number | null, hoursWorked: number }, freshness: { asOf: string, batchWatermark: string | null, speedLagEvents: number, speedAppliedAt: string | null } }, absences: { total: number, rows: Array<{ reason: string, count: number }> } };

export type DashboardWorkersQueryVariables = Exact<{
  from: string;
  to: string;
  pii: boolean;
}>;


export type DashboardWorkersQuery = { workers: { totalCount: number, edges: Array<{ node: { hoursWorked: number, taskHours: number, utilisation: number | null, worker?: { id: string, name: string | null } | null, department: { id: string } | null, shift: { id: string } | null } }> } };

export type DashboardAttendanceLiveSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardAttendanceLiveSubscription = { attendanceUpdates: { kind: UpdateKind, items: Array<{ department: string, shift: string, present: number, absent: number }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const DashboardAlertsDocument = new TypedDocumentString(`
    subscription DashboardAlerts {
  alerts {
    kind
    alerts {
      id
      rule
      subject
      message
      since
    }
    raised {
      id
    }
    cleared {
      id
    }
    rules {
      rule
      description
      state
      error
    }
    thresholds {
      zoneMaxC
      noExitMinutes
      connectorLag
      stallSeconds
    }
    evaluatedAt
  }
}
    `) as unknown as TypedDocumentString<DashboardAlertsSubscription, DashboardAlertsSubscriptionVariables>;
export const DashboardEnergyDocument = new TypedDocumentString(`
    query DashboardEnergy($from: DateTime!, $to: DateTime!) {
  byDepartment: energy(
    from: $from
    to: $to
    groupBy: [DEPARTMENT]
    orderBy: {field: KWH}
  ) {
    rows {
      department {
        id
      }
      figures {
        kwh
        partsCompleted
        whPerPart
      }
    }
    total {
      wh
      kwh
    }
    line {
      kwh
      partsCompleted
      whPerPart
    }
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
  byMachine: energy(
    from: $from
    to: $to
    groupBy: [MACHINE]
    orderBy: {field: KWH}
    top: 12
  ) {
    rows {
      machine {
        id
      }
      figures {
        kwh
        partsCompleted
        whPerPart
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardEnergyQuery, DashboardEnergyQueryVariables>;
export const DashboardZoneHeatDocument = new TypedDocumentString(`
    query DashboardZoneHeat($from: DateTime!, $to: DateTime!) {
  stations {
    id
    name
    x
    y
    zone {
      id
    }
    machines {
      id
    }
  }
  stationEnergy: energy(from: $from, to: $to, groupBy: [STATION]) {
    rows {
      station {
        id
      }
      figures {
        wh
      }
    }
  }
  zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) {
    rows {
      zone {
        id
      }
      figures {
        readings
        meanC
        maxC
      }
    }
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardZoneHeatQuery, DashboardZoneHeatQueryVariables>;
export const DashboardEnergyLiveDocument = new TypedDocumentString(`
    subscription DashboardEnergyLive {
  energyUpdates {
    kind
    items {
      machine
      wh
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardEnergyLiveSubscription, DashboardEnergyLiveSubscriptionVariables>;
export const DashboardHeatLiveDocument = new TypedDocumentString(`
    subscription DashboardHeatLive {
  zoneTemperatureUpdates {
    kind
    items {
      zone
      bucket
      readings
      sumCentiC
      maxC
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardHeatLiveSubscription, DashboardHeatLiveSubscriptionVariables>;
export const DashboardDeadLettersDocument = new TypedDocumentString(`
    query DashboardDeadLetters {
  deadLetters(first: 25) {
    edges {
      node {
        connector
        source
        position
        reason
        raw
        createdAt
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardDeadLettersQuery, DashboardDeadLettersQueryVariables>;
export const DashboardProductionFloorDocument = new TypedDocumentString(`
    query DashboardProductionFloor($from: DateTime!, $to: DateTime!) {
  stations {
    id
    name
    x
    y
    flowIndex
    zone {
      id
    }
  }
  production(from: $from, to: $to, groupBy: [STATION]) {
    rows {
      station {
        id
      }
      figures {
        partsStarted
        partsCompleted
        errors
        wip
      }
    }
    total {
      partsStarted
      partsCompleted
      throughputPerHour
      errors
      errorRate
      wip
      cycleTime {
        mean
        p95
      }
    }
    line {
      partsStarted
      partsCompleted
      throughputPerHour
      wip
      oee {
        availability
        performance
        quality
        oee
      }
    }
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardProductionFloorQuery, DashboardProductionFloorQueryVariables>;
export const DashboardProductionTrendDocument = new TypedDocumentString(`
    query DashboardProductionTrend($from: DateTime!, $to: DateTime!, $grain: Grain!) {
  production(from: $from, to: $to, grain: $grain, groupBy: [TIME]) {
    rows {
      bucket {
        start
        label
      }
      figures {
        partsCompleted
        throughputPerHour
        cycleTime {
          mean
          p95
        }
      }
    }
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardProductionTrendQuery, DashboardProductionTrendQueryVariables>;
export const DashboardProductionPeriodsDocument = new TypedDocumentString(`
    query DashboardProductionPeriods($from: DateTime!, $to: DateTime!, $grain: Grain!) {
  production(from: $from, to: $to, grain: $grain, groupBy: [TIME]) {
    rows {
      bucket {
        label
        shift
      }
      figures {
        partsStarted
        partsCompleted
        errors
        errorRate
      }
    }
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardProductionPeriodsQuery, DashboardProductionPeriodsQueryVariables>;
export const DashboardProductionErrorsDocument = new TypedDocumentString(`
    query DashboardProductionErrors($from: DateTime!, $to: DateTime!) {
  stationErrors(from: $from, to: $to, groupBy: [CODE]) {
    rows {
      code
      count
    }
    total
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardProductionErrorsQuery, DashboardProductionErrorsQueryVariables>;
export const DashboardProductionLiveDocument = new TypedDocumentString(`
    subscription DashboardProductionLive {
  productionUpdates {
    kind
    cursor
    items {
      station
      bucket
      partsStarted
      partsCompleted
      errors
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardProductionLiveSubscription, DashboardProductionLiveSubscriptionVariables>;
export const DashboardQualityDocument = new TypedDocumentString(`
    query DashboardQuality($from: DateTime!, $to: DateTime!) {
  byStation: quality(from: $from, to: $to, groupBy: [STATION]) {
    rows {
      station {
        id
      }
      figures {
        inspected
        passed
        failed
        yield
      }
    }
    total {
      inspected
      passed
      failed
      yield
    }
    line {
      firstPassYield
      reworkDone
      reworkPending
    }
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
  byDepartment: quality(from: $from, to: $to, groupBy: [DEPARTMENT]) {
    rows {
      department {
        id
      }
      figures {
        inspected
        failed
        yield
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardQualityQuery, DashboardQualityQueryVariables>;
export const DashboardRepairsDocument = new TypedDocumentString(`
    query DashboardRepairs($from: DateTime!, $to: DateTime!) {
  mttr(from: $from, to: $to, bySeverity: true) {
    rows {
      severity
      repairsCompleted
      mttrMinutes
    }
    repairsCompleted
    mttrMinutes
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
  orders(open: true, kinds: [REPAIR], first: 20) {
    totalCount
    edges {
      node {
        id
        severity
        status
        subject
        requestedAt
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardRepairsQuery, DashboardRepairsQueryVariables>;
export const DashboardToolsDocument = new TypedDocumentString(`
    query DashboardTools {
  tools(first: 15, orderBy: {field: LIFE_USED}) {
    totalCount
    edges {
      node {
        id
        type
        ratedLifeHours
        usedHours
        lifeUsed
        checkedOut
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardToolsQuery, DashboardToolsQueryVariables>;
export const DashboardQualityLiveDocument = new TypedDocumentString(`
    subscription DashboardQualityLive {
  qualityUpdates {
    kind
    items {
      station
      inspected
      failed
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardQualityLiveSubscription, DashboardQualityLiveSubscriptionVariables>;
export const DashboardAttendanceDocument = new TypedDocumentString(`
    query DashboardAttendance($from: DateTime!, $to: DateTime!) {
  attendance(from: $from, to: $to, grain: DAY, groupBy: [DEPARTMENT, SHIFT]) {
    rows {
      department {
        id
      }
      shift {
        id
      }
      figures {
        present
        absent
        attendanceRate
        hoursWorked
      }
    }
    total {
      present
      absent
      attendanceRate
      hoursWorked
    }
    freshness {
      asOf
      batchWatermark
      speedLagEvents
      speedAppliedAt
    }
  }
  absences(from: $from, to: $to) {
    rows {
      reason
      count
    }
    total
  }
}
    `) as unknown as TypedDocumentString<DashboardAttendanceQuery, DashboardAttendanceQueryVariables>;
export const DashboardWorkersDocument = new TypedDocumentString(`
    query DashboardWorkers($from: DateTime!, $to: DateTime!, $pii: Boolean!) {
  workers(from: $from, to: $to, orderBy: {field: UTILISATION}, first: 20) {
    totalCount
    edges {
      node {
        worker @include(if: $pii) {
          id
          name
        }
        department {
          id
        }
        shift {
          id
        }
        hoursWorked
        taskHours
        utilisation
      }
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardWorkersQuery, DashboardWorkersQueryVariables>;
export const DashboardAttendanceLiveDocument = new TypedDocumentString(`
    subscription DashboardAttendanceLive {
  attendanceUpdates {
    kind
    items {
      department
      shift
      present
      absent
    }
  }
}
    `) as unknown as TypedDocumentString<DashboardAttendanceLiveSubscription, DashboardAttendanceLiveSubscriptionVariables>;