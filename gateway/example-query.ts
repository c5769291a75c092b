/**
 * What GraphiQL opens with: the daily floor summary — today's production per station (factory
 * time zone), the line's figures and OEE, the top error codes, and how fresh the answer is.
 * Edit `from`/`to` to move the day; `grain: SHIFT` with `groupBy: [TIME]` gives the shifts.
 */
export function exampleQuery(now = Date.now()): string {
  const day = new Date(Math.floor(now / 86_400_000) * 86_400_000);
  const next = new Date(day.getTime() + 86_400_000);
  const from = day.toISOString();
  const to = next.toISOString();
  return `# The daily floor summary (report 1 of MyCPU). Every figure is exact at the watermark;
# \`freshness\` says how fresh. Ctrl-Space completes, the Docs pane documents every field.
query DailyFloorSummary {
  production(from: "${from}", to: "${to}", grain: DAY, groupBy: [STATION]) {
    rows {
      station { id name zone { id } }
      figures { partsStarted partsCompleted throughputPerHour errors errorRate wip cycleTime { p50 p95 } }
    }
    line { partsStarted partsCompleted throughputPerHour wip oee { availability performance quality oee } }
    freshness { batchWatermark speedLagEvents batchShare speedShare }
  }
  stationErrors(from: "${from}", to: "${to}", groupBy: [STATION, CODE], top: 5) {
    rows { station { id } code count }
  }
}
`;
}
