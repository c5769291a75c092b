/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query DashboardAlertZones($from: DateTime!, $to: DateTime!) {\n    zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) { rows { zone { id } figures { maxC } } }\n  }\n": typeof types.DashboardAlertZonesDocument,
    "\n  query DashboardAlertExits($from: DateTime!, $to: DateTime!) {\n    stations { id flowIndex }\n    production(from: $from, to: $to, groupBy: [STATION]) { rows { station { id } figures { partsCompleted } } }\n  }\n": typeof types.DashboardAlertExitsDocument,
    "\n  query DashboardAlertRepairs {\n    orders(open: true, kinds: [REPAIR], severities: [1], first: 10) { totalCount edges { node { id subject requestedAt } } }\n  }\n": typeof types.DashboardAlertRepairsDocument,
    "\n  query DashboardEnergy($from: DateTime!, $to: DateTime!) {\n    byDepartment: energy(from: $from, to: $to, groupBy: [DEPARTMENT], orderBy: { field: KWH }) {\n      rows { department { id } figures { kwh partsCompleted whPerPart } }\n      total { wh kwh }\n      line { kwh partsCompleted whPerPart }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    byMachine: energy(from: $from, to: $to, groupBy: [MACHINE], orderBy: { field: KWH }, top: 12) {\n      rows { machine { id } figures { kwh partsCompleted whPerPart } }\n    }\n  }\n": typeof types.DashboardEnergyDocument,
    "\n  query DashboardZoneHeat($from: DateTime!, $to: DateTime!) {\n    stations { id name x y zone { id } }\n    zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) {\n      rows { zone { id } figures { readings meanC maxC } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": typeof types.DashboardZoneHeatDocument,
    "\n  subscription DashboardEnergyLive { energyUpdates { kind items { machine wh } } }\n": typeof types.DashboardEnergyLiveDocument,
    "\n  subscription DashboardHeatLive { zoneTemperatureUpdates { kind items { zone bucket readings sumCentiC maxC } } }\n": typeof types.DashboardHeatLiveDocument,
    "\n  query DashboardDeadLetters {\n    deadLetters(first: 25) { edges { node { connector source position reason raw createdAt } } }\n  }\n": typeof types.DashboardDeadLettersDocument,
    "\n  query DashboardProductionFloor($from: DateTime!, $to: DateTime!) {\n    stations { id name x y flowIndex zone { id } }\n    production(from: $from, to: $to, groupBy: [STATION]) {\n      rows { station { id } figures { partsStarted partsCompleted errors wip } }\n      total { partsStarted partsCompleted throughputPerHour errors errorRate wip cycleTime { mean p95 } }\n      line { partsStarted partsCompleted throughputPerHour wip oee { availability performance quality oee } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": typeof types.DashboardProductionFloorDocument,
    "\n  query DashboardProductionTrend($from: DateTime!, $to: DateTime!, $grain: Grain!) {\n    production(from: $from, to: $to, grain: $grain, groupBy: [TIME]) {\n      rows { bucket { start label } figures { partsCompleted throughputPerHour cycleTime { mean p95 } } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": typeof types.DashboardProductionTrendDocument,
    "\n  query DashboardProductionPeriods($from: DateTime!, $to: DateTime!, $grain: Grain!) {\n    production(from: $from, to: $to, grain: $grain, groupBy: [TIME]) {\n      rows { bucket { label shift } figures { partsStarted partsCompleted errors errorRate } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": typeof types.DashboardProductionPeriodsDocument,
    "\n  query DashboardProductionErrors($from: DateTime!, $to: DateTime!) {\n    stationErrors(from: $from, to: $to, groupBy: [CODE]) {\n      rows { code count }\n      total\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": typeof types.DashboardProductionErrorsDocument,
    "\n  subscription DashboardProductionLive {\n    productionUpdates { kind cursor items { station bucket partsStarted partsCompleted errors } }\n  }\n": typeof types.DashboardProductionLiveDocument,
    "\n  query DashboardQuality($from: DateTime!, $to: DateTime!) {\n    byStation: quality(from: $from, to: $to, groupBy: [STATION]) {\n      rows { station { id } figures { inspected passed failed yield } }\n      total { inspected passed failed yield }\n      line { firstPassYield reworkDone reworkPending }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    byDepartment: quality(from: $from, to: $to, groupBy: [DEPARTMENT]) {\n      rows { department { id } figures { inspected failed yield } }\n    }\n  }\n": typeof types.DashboardQualityDocument,
    "\n  query DashboardRepairs($from: DateTime!, $to: DateTime!) {\n    mttr(from: $from, to: $to, bySeverity: true) {\n      rows { severity repairsCompleted mttrMinutes }\n      repairsCompleted\n      mttrMinutes\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    orders(open: true, kinds: [REPAIR], first: 20) {\n      totalCount\n      edges { node { id severity status subject requestedAt } }\n    }\n  }\n": typeof types.DashboardRepairsDocument,
    "\n  query DashboardTools {\n    tools(first: 15, orderBy: { field: LIFE_USED }) {\n      totalCount\n      edges { node { id type ratedLifeHours usedHours lifeUsed checkedOut } }\n    }\n  }\n": typeof types.DashboardToolsDocument,
    "\n  subscription DashboardQualityLive { qualityUpdates { kind items { station inspected failed } } }\n": typeof types.DashboardQualityLiveDocument,
    "\n  query DashboardAttendance($from: DateTime!, $to: DateTime!) {\n    attendance(from: $from, to: $to, grain: DAY, groupBy: [DEPARTMENT, SHIFT]) {\n      rows { department { id } shift { id } figures { present absent attendanceRate hoursWorked } }\n      total { present absent attendanceRate hoursWorked }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    absences(from: $from, to: $to) {\n      rows { reason count }\n      total\n    }\n  }\n": typeof types.DashboardAttendanceDocument,
    "\n  query DashboardWorkers($from: DateTime!, $to: DateTime!) {\n    workers(from: $from, to: $to, orderBy: { field: UTILISATION }, first: 20) {\n      totalCount\n      edges { node { department { id } shift { id } hoursWorked taskHours utilisation } }\n    }\n  }\n": typeof types.DashboardWorkersDocument,
    "\n  subscription DashboardAttendanceLive { attendanceUpdates { kind items { department shift present absent } } }\n": typeof types.DashboardAttendanceLiveDocument,
};
const documents: Documents = {
    "\n  query DashboardAlertZones($from: DateTime!, $to: DateTime!) {\n    zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) { rows { zone { id } figures { maxC } } }\n  }\n": types.DashboardAlertZonesDocument,
    "\n  query DashboardAlertExits($from: DateTime!, $to: DateTime!) {\n    stations { id flowIndex }\n    production(from: $from, to: $to, groupBy: [STATION]) { rows { station { id } figures { partsCompleted } } }\n  }\n": types.DashboardAlertExitsDocument,
    "\n  query DashboardAlertRepairs {\n    orders(open: true, kinds: [REPAIR], severities: [1], first: 10) { totalCount edges { node { id subject requestedAt } } }\n  }\n": types.DashboardAlertRepairsDocument,
    "\n  query DashboardEnergy($from: DateTime!, $to: DateTime!) {\n    byDepartment: energy(from: $from, to: $to, groupBy: [DEPARTMENT], orderBy: { field: KWH }) {\n      rows { department { id } figures { kwh partsCompleted whPerPart } }\n      total { wh kwh }\n      line { kwh partsCompleted whPerPart }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    byMachine: energy(from: $from, to: $to, groupBy: [MACHINE], orderBy: { field: KWH }, top: 12) {\n      rows { machine { id } figures { kwh partsCompleted whPerPart } }\n    }\n  }\n": types.DashboardEnergyDocument,
    "\n  query DashboardZoneHeat($from: DateTime!, $to: DateTime!) {\n    stations { id name x y zone { id } }\n    zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) {\n      rows { zone { id } figures { readings meanC maxC } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": types.DashboardZoneHeatDocument,
    "\n  subscription DashboardEnergyLive { energyUpdates { kind items { machine wh } } }\n": types.DashboardEnergyLiveDocument,
    "\n  subscription DashboardHeatLive { zoneTemperatureUpdates { kind items { zone bucket readings sumCentiC maxC } } }\n": types.DashboardHeatLiveDocument,
    "\n  query DashboardDeadLetters {\n    deadLetters(first: 25) { edges { node { connector source position reason raw createdAt } } }\n  }\n": types.DashboardDeadLettersDocument,
    "\n  query DashboardProductionFloor($from: DateTime!, $to: DateTime!) {\n    stations { id name x y flowIndex zone { id } }\n    production(from: $from, to: $to, groupBy: [STATION]) {\n      rows { station { id } figures { partsStarted partsCompleted errors wip } }\n      total { partsStarted partsCompleted throughputPerHour errors errorRate wip cycleTime { mean p95 } }\n      line { partsStarted partsCompleted throughputPerHour wip oee { availability performance quality oee } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": types.DashboardProductionFloorDocument,
    "\n  query DashboardProductionTrend($from: DateTime!, $to: DateTime!, $grain: Grain!) {\n    production(from: $from, to: $to, grain: $grain, groupBy: [TIME]) {\n      rows { bucket { start label } figures { partsCompleted throughputPerHour cycleTime { mean p95 } } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": types.DashboardProductionTrendDocument,
    "\n  query DashboardProductionPeriods($from: DateTime!, $to: DateTime!, $grain: Grain!) {\n    production(from: $from, to: $to, grain: $grain, groupBy: [TIME]) {\n      rows { bucket { label shift } figures { partsStarted partsCompleted errors errorRate } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": types.DashboardProductionPeriodsDocument,
    "\n  query DashboardProductionErrors($from: DateTime!, $to: DateTime!) {\n    stationErrors(from: $from, to: $to, groupBy: [CODE]) {\n      rows { code count }\n      total\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n": types.DashboardProductionErrorsDocument,
    "\n  subscription DashboardProductionLive {\n    productionUpdates { kind cursor items { station bucket partsStarted partsCompleted errors } }\n  }\n": types.DashboardProductionLiveDocument,
    "\n  query DashboardQuality($from: DateTime!, $to: DateTime!) {\n    byStation: quality(from: $from, to: $to, groupBy: [STATION]) {\n      rows { station { id } figures { inspected passed failed yield } }\n      total { inspected passed failed yield }\n      line { firstPassYield reworkDone reworkPending }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    byDepartment: quality(from: $from, to: $to, groupBy: [DEPARTMENT]) {\n      rows { department { id } figures { inspected failed yield } }\n    }\n  }\n": types.DashboardQualityDocument,
    "\n  query DashboardRepairs($from: DateTime!, $to: DateTime!) {\n    mttr(from: $from, to: $to, bySeverity: true) {\n      rows { severity repairsCompleted mttrMinutes }\n      repairsCompleted\n      mttrMinutes\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    orders(open: true, kinds: [REPAIR], first: 20) {\n      totalCount\n      edges { node { id severity status subject requestedAt } }\n    }\n  }\n": types.DashboardRepairsDocument,
    "\n  query DashboardTools {\n    tools(first: 15, orderBy: { field: LIFE_USED }) {\n      totalCount\n      edges { node { id type ratedLifeHours usedHours lifeUsed checkedOut } }\n    }\n  }\n": types.DashboardToolsDocument,
    "\n  subscription DashboardQualityLive { qualityUpdates { kind items { station inspected failed } } }\n": types.DashboardQualityLiveDocument,
    "\n  query DashboardAttendance($from: DateTime!, $to: DateTime!) {\n    attendance(from: $from, to: $to, grain: DAY, groupBy: [DEPARTMENT, SHIFT]) {\n      rows { department { id } shift { id } figures { present absent attendanceRate hoursWorked } }\n      total { present absent attendanceRate hoursWorked }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    absences(from: $from, to: $to) {\n      rows { reason count }\n      total\n    }\n  }\n": types.DashboardAttendanceDocument,
    "\n  query DashboardWorkers($from: DateTime!, $to: DateTime!) {\n    workers(from: $from, to: $to, orderBy: { field: UTILISATION }, first: 20) {\n      totalCount\n      edges { node { department { id } shift { id } hoursWorked taskHours utilisation } }\n    }\n  }\n": types.DashboardWorkersDocument,
    "\n  subscription DashboardAttendanceLive { attendanceUpdates { kind items { department shift present absent } } }\n": types.DashboardAttendanceLiveDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardAlertZones($from: DateTime!, $to: DateTime!) {\n    zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) { rows { zone { id } figures { maxC } } }\n  }\n"): typeof import('./graphql').DashboardAlertZonesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardAlertExits($from: DateTime!, $to: DateTime!) {\n    stations { id flowIndex }\n    production(from: $from, to: $to, groupBy: [STATION]) { rows { station { id } figures { partsCompleted } } }\n  }\n"): typeof import('./graphql').DashboardAlertExitsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardAlertRepairs {\n    orders(open: true, kinds: [REPAIR], severities: [1], first: 10) { totalCount edges { node { id subject requestedAt } } }\n  }\n"): typeof import('./graphql').DashboardAlertRepairsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardEnergy($from: DateTime!, $to: DateTime!) {\n    byDepartment: energy(from: $from, to: $to, groupBy: [DEPARTMENT], orderBy: { field: KWH }) {\n      rows { department { id } figures { kwh partsCompleted whPerPart } }\n      total { wh kwh }\n      line { kwh partsCompleted whPerPart }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    byMachine: energy(from: $from, to: $to, groupBy: [MACHINE], orderBy: { field: KWH }, top: 12) {\n      rows { machine { id } figures { kwh partsCompleted whPerPart } }\n    }\n  }\n"): typeof import('./graphql').DashboardEnergyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardZoneHeat($from: DateTime!, $to: DateTime!) {\n    stations { id name x y zone { id } }\n    zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) {\n      rows { zone { id } figures { readings meanC maxC } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n"): typeof import('./graphql').DashboardZoneHeatDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardEnergyLive { energyUpdates { kind items { machine wh } } }\n"): typeof import('./graphql').DashboardEnergyLiveDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardHeatLive { zoneTemperatureUpdates { kind items { zone bucket readings sumCentiC maxC } } }\n"): typeof import('./graphql').DashboardHeatLiveDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardDeadLetters {\n    deadLetters(first: 25) { edges { node { connector source position reason raw createdAt } } }\n  }\n"): typeof import('./graphql').DashboardDeadLettersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProductionFloor($from: DateTime!, $to: DateTime!) {\n    stations { id name x y flowIndex zone { id } }\n    production(from: $from, to: $to, groupBy: [STATION]) {\n      rows { station { id } figures { partsStarted partsCompleted errors wip } }\n      total { partsStarted partsCompleted throughputPerHour errors errorRate wip cycleTime { mean p95 } }\n      line { partsStarted partsCompleted throughputPerHour wip oee { availability performance quality oee } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n"): typeof import('./graphql').DashboardProductionFloorDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProductionTrend($from: DateTime!, $to: DateTime!, $grain: Grain!) {\n    production(from: $from, to: $to, grain: $grain, groupBy: [TIME]) {\n      rows { bucket { start label } figures { partsCompleted throughputPerHour cycleTime { mean p95 } } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n"): typeof import('./graphql').DashboardProductionTrendDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProductionPeriods($from: DateTime!, $to: DateTime!, $grain: Grain!) {\n    production(from: $from, to: $to, grain: $grain, groupBy: [TIME]) {\n      rows { bucket { label shift } figures { partsStarted partsCompleted errors errorRate } }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n"): typeof import('./graphql').DashboardProductionPeriodsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardProductionErrors($from: DateTime!, $to: DateTime!) {\n    stationErrors(from: $from, to: $to, groupBy: [CODE]) {\n      rows { code count }\n      total\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n  }\n"): typeof import('./graphql').DashboardProductionErrorsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardProductionLive {\n    productionUpdates { kind cursor items { station bucket partsStarted partsCompleted errors } }\n  }\n"): typeof import('./graphql').DashboardProductionLiveDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardQuality($from: DateTime!, $to: DateTime!) {\n    byStation: quality(from: $from, to: $to, groupBy: [STATION]) {\n      rows { station { id } figures { inspected passed failed yield } }\n      total { inspected passed failed yield }\n      line { firstPassYield reworkDone reworkPending }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    byDepartment: quality(from: $from, to: $to, groupBy: [DEPARTMENT]) {\n      rows { department { id } figures { inspected failed yield } }\n    }\n  }\n"): typeof import('./graphql').DashboardQualityDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardRepairs($from: DateTime!, $to: DateTime!) {\n    mttr(from: $from, to: $to, bySeverity: true) {\n      rows { severity repairsCompleted mttrMinutes }\n      repairsCompleted\n      mttrMinutes\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    orders(open: true, kinds: [REPAIR], first: 20) {\n      totalCount\n      edges { node { id severity status subject requestedAt } }\n    }\n  }\n"): typeof import('./graphql').DashboardRepairsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardTools {\n    tools(first: 15, orderBy: { field: LIFE_USED }) {\n      totalCount\n      edges { node { id type ratedLifeHours usedHours lifeUsed checkedOut } }\n    }\n  }\n"): typeof import('./graphql').DashboardToolsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardQualityLive { qualityUpdates { kind items { station inspected failed } } }\n"): typeof import('./graphql').DashboardQualityLiveDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardAttendance($from: DateTime!, $to: DateTime!) {\n    attendance(from: $from, to: $to, grain: DAY, groupBy: [DEPARTMENT, SHIFT]) {\n      rows { department { id } shift { id } figures { present absent attendanceRate hoursWorked } }\n      total { present absent attendanceRate hoursWorked }\n      freshness { asOf batchWatermark speedLagEvents speedAppliedAt }\n    }\n    absences(from: $from, to: $to) {\n      rows { reason count }\n      total\n    }\n  }\n"): typeof import('./graphql').DashboardAttendanceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardWorkers($from: DateTime!, $to: DateTime!) {\n    workers(from: $from, to: $to, orderBy: { field: UTILISATION }, first: 20) {\n      totalCount\n      edges { node { department { id } shift { id } hoursWorked taskHours utilisation } }\n    }\n  }\n"): typeof import('./graphql').DashboardWorkersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardAttendanceLive { attendanceUpdates { kind items { department shift present absent } } }\n"): typeof import('./graphql').DashboardAttendanceLiveDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
