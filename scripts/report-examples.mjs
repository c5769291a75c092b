#!/usr/bin/env node
// One query per report (README, "Answers from a live run"):
//   node scripts/report-examples.mjs [GRAPHQL_URL] FROM TO
// The token comes from MILLRACE_TOKEN, else the development token in MILLRACE_DATA_DIR/runtime.json.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const url = args.length > 2 ? args.shift() : 'http://127.0.0.1:4000/graphql';
const [from, to] = args;
if (!from || !to) {
  console.error('usage: node scripts/report-examples.mjs [GRAPHQL_URL] FROM TO   (ISO-8601 with a zone)');
  process.exit(2);
}
function token() {
  if (process.env.MILLRACE_TOKEN) return process.env.MILLRACE_TOKEN;
  const file = path.join(process.env.MILLRACE_DATA_DIR ?? '.millrace', 'runtime.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')).devToken ?? null;
  } catch {
    return null;
  }
}
const t = token();
const R = `from: "${from}", to: "${to}"`;
const reports = {
  production: `{ production(${R}, grain: DAY, groupBy: [STATION], top: 3, orderBy: { field: WIP }) {
      rows { station { id } figures { partsStarted partsCompleted throughputPerHour errors wip cycleTime { p50 p95 } } }
      line { partsStarted partsCompleted throughputPerHour wip oee { availability performance quality oee } }
      freshness { batchShare speedShare speedLagEvents } }
    stationErrors(${R}, groupBy: [CODE], top: 3) { rows { code count } total } }`,
  workforce: `{ attendance(${R}, grain: DAY, groupBy: [DEPARTMENT]) {
      rows { department { id } figures { present absent attendanceRate hoursWorked } } total { present absent hoursWorked } }
    workers(${R}, orderBy: { field: UTILISATION }, first: 2) {
      totalCount edges { node { department { id } shift { id } hoursWorked taskHours utilisation } } } }`,
  energy: `{ energy(${R}, groupBy: [DEPARTMENT], orderBy: { field: KWH }, top: 3) {
      rows { department { id } figures { kwh partsCompleted whPerPart } } line { kwh partsCompleted whPerPart } }
    zoneTemperatures(${R}, groupBy: [ZONE]) { rows { zone { id } figures { readings meanC maxC } } } }`,
  quality: `{ quality(${R}, groupBy: [STATION], orderBy: { field: FAILED }, top: 3) {
      rows { station { id } figures { inspected passed failed yield } } line { firstPassYield reworkDone reworkPending } }
    mttr(${R}, bySeverity: false) { repairsCompleted mttrMinutes }
    orders(open: true, first: 1) { totalCount }
    tools(checkedOut: true, first: 1) { totalCount } }`,
};
for (const [name, query] of Object.entries(reports)) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}) },
    body: JSON.stringify({ query }),
  });
  console.log(`## ${name}`);
  console.log(JSON.stringify(await res.json(), null, 1));
}
