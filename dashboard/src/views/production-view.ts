import { graphql } from '../gql/gql.ts';
import { createPanel, el, fmt, pct, stat, table } from '../panel.ts';
import { createFloorPlan, type FloorPlan } from '../floor-plan.ts';
import { createTimeChart } from '../time-chart.ts';
import { bindLive, bindReport, type MountView } from '../view-kit.ts';

const FloorQuery = graphql(`
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
`);

const TrendQuery = graphql(`
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
`);

const PeriodQuery = graphql(`
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
`);

const ErrorsQuery = graphql(`
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
`);

const LiveSubscription = graphql(`
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
`);

/**
 * Report 1, daily floor production: the floor plan coloured by WIP (the bottleneck heat map), line
 * and station totals, throughput and cycle time over time, totals per shift/day, errors by code,
 * and a live panel fed by `productionUpdates` (today's parts, moving as they happen).
 */
export const mountProduction: MountView = (ctx) => {
  const grid = ctx.root;
  const floorPanel = createPanel(grid, 'floor', 'Floor plan · work in progress (bottleneck heat map)', { wide: true });
  const totalsPanel = createPanel(grid, 'totals', 'Line and station totals');
  const livePanel = createPanel(grid, 'live', 'Live today (productionUpdates)');
  const trendPanel = createPanel(grid, 'trend', 'Throughput (parts/h) and cycle time (s)', { wide: true });
  const periodPanel = createPanel(grid, 'periods', 'Totals by shift / day');
  const errorsPanel = createPanel(grid, 'errors', 'Errors by code');
  const vars = () => {
    const w = ctx.win();
    return { from: w.from, to: w.to };
  };

  let plan: FloorPlan | null = null;
  let planKey = '';
  const wip = new Map<string, number>();
  let liveAt: number | null = null;
  let lastFreshness: Parameters<typeof floorPanel.freshness>[0] = null;

  const refreshFloor = bindReport(ctx, [floorPanel, totalsPanel], FloorQuery, vars, (d) => {
    if (!d.stations.length) return false;
    const key = d.stations.map((s) => `${s.id}@${s.x},${s.y}`).join();
    if (!plan || key !== planKey) {
      floorPanel.body.replaceChildren();
      plan = createFloorPlan(floorPanel.body, d.stations);
      planKey = key;
    }
    wip.clear();
    for (const r of d.production.rows) if (r.station) wip.set(r.station.id, r.figures.wip);
    plan.stations(wip);
    lastFreshness = d.production.freshness;
    floorPanel.freshness(lastFreshness, liveAt);
    const t = d.production.total;
    const l = d.production.line;
    totalsPanel.freshness(d.production.freshness, liveAt);
    const stats = el('div', 'stats');
    stats.append(
      stat('line parts started', l.partsStarted, '', 'line.partsStarted'),
      stat('line parts completed', l.partsCompleted, '', 'line.partsCompleted'),
      stat('line throughput / h', l.throughputPerHour, '', 'line.throughputPerHour'),
      stat('line WIP', l.wip, '', 'line.wip'),
      stat('OEE', l.oee.oee === null ? null : l.oee.oee * 100, ' %', 'line.oee'),
      stat('station exits', t.partsCompleted, '', 'total.partsCompleted'),
      stat('errors', t.errors, '', 'total.errors'),
      stat('mean cycle s', t.cycleTime.mean === null ? null : t.cycleTime.mean / 1000, '', 'total.cycleMean'),
    );
    const rows = [...d.production.rows].sort((a, b) => b.figures.wip - a.figures.wip);
    totalsPanel.body.replaceChildren(
      stats,
      table(
        ['station', 'started', 'completed', 'errors', 'WIP'],
        rows.map((r) => [
          r.station?.id ?? '—',
          r.figures.partsStarted,
          r.figures.partsCompleted,
          r.figures.errors,
          r.figures.wip,
        ]),
        'station-totals',
      ),
      el(
        'div',
        'sub',
        `availability ${pct(l.oee.availability)} · performance ${pct(l.oee.performance)} · quality ${pct(l.oee.quality)}`,
      ),
    );
    return undefined;
  });

  const chartBox = el('div', 'chart');
  let chart: ReturnType<typeof createTimeChart> | null = null;
  ctx.onLeave(() => chart?.destroy());
  const refreshTrend = bindReport(
    ctx,
    trendPanel,
    TrendQuery,
    () => ({ ...vars(), grain: ctx.win().grain }),
    (d) => {
      trendPanel.freshness(d.production.freshness, liveAt);
      if (!d.production.rows.some((r) => r.figures.partsCompleted)) return false;
      if (!chart) {
        trendPanel.body.replaceChildren(chartBox);
        chart = createTimeChart(chartBox, [
          { label: 'throughput parts/h', color: '#4fb3bf' },
          { label: 'mean cycle s', color: '#e8a33d', scale: 's' },
          { label: 'p95 cycle s', color: '#c0645a', scale: 's' },
        ]);
      } else if (!chartBox.isConnected) trendPanel.body.replaceChildren(chartBox);
      const rows = d.production.rows.filter((r) => r.bucket);
      chart.set(
        rows.map((r) => Date.parse(r.bucket!.start)),
        [
          rows.map((r) => r.figures.throughputPerHour),
          rows.map((r) => (r.figures.cycleTime.mean === null ? null : r.figures.cycleTime.mean / 1000)),
          rows.map((r) => (r.figures.cycleTime.p95 === null ? null : r.figures.cycleTime.p95 / 1000)),
        ],
      );
      return undefined;
    },
  );

  const refreshPeriods = bindReport(
    ctx,
    periodPanel,
    PeriodQuery,
    () => ({ ...vars(), grain: ctx.win().periodGrain }),
    (d) => {
      periodPanel.freshness(d.production.freshness, liveAt);
      const rows = d.production.rows.filter(
        (r) => r.figures.partsStarted || r.figures.partsCompleted || r.figures.errors,
      );
      if (!rows.length) return false;
      periodPanel.body.replaceChildren(
        table(
          ['period', 'started', 'completed', 'errors', 'error rate'],
          rows
            .slice(-60)
            .reverse()
            .map((r) => [
              r.bucket?.label ?? '—',
              r.figures.partsStarted,
              r.figures.partsCompleted,
              r.figures.errors,
              pct(r.figures.errorRate),
            ]),
          'periods',
        ),
      );
      return undefined;
    },
  );

  const refreshErrors = bindReport(ctx, errorsPanel, ErrorsQuery, vars, (d) => {
    errorsPanel.freshness(d.stationErrors.freshness, liveAt);
    if (!d.stationErrors.rows.length) return false;
    const max = Math.max(...d.stationErrors.rows.map((r) => r.count));
    const list = el('div', 'bars');
    list.dataset.total = String(d.stationErrors.total);
    for (const r of d.stationErrors.rows) {
      const row = el('div', 'bar-row');
      row.dataset.code = r.code ?? '';
      row.dataset.value = String(r.count);
      const bar = el('div', 'bar');
      bar.style.width = `${(100 * r.count) / max}%`;
      row.append(el('span', 'bar-label', r.code ?? '—'), el('span', 'bar-track'), el('span', 'num', fmt(r.count)));
      row.children[1].append(bar);
      list.append(row);
    }
    errorsPanel.body.replaceChildren(list);
    return undefined;
  });

  // Live: today's figures from the SNAPSHOT, then every DELTA added; stations pulse as parts move,
  // WIP moves at once, and the served reports are re-read (throttled) when the range follows the clock.
  const today = { started: 0, completed: 0, errors: 0, deltas: 0 };
  const liveStats = el('div', 'stats');
  const drawLive = () => {
    livePanel.ready();
    liveStats.replaceChildren(
      stat('parts started today', today.started, '', 'live.partsStarted'),
      stat('parts completed today', today.completed, '', 'live.partsCompleted'),
      stat('errors today', today.errors, '', 'live.errors'),
      stat('deltas received', today.deltas, '', 'live.deltas'),
    );
    if (!liveStats.isConnected) livePanel.body.replaceChildren(liveStats);
    livePanel.freshness(lastFreshness, liveAt);
  };
  bindLive(
    ctx,
    LiveSubscription,
    {},
    ({ productionUpdates: u }) => {
      liveAt = Date.now();
      if (u.kind === 'SNAPSHOT') Object.assign(today, { started: 0, completed: 0, errors: 0, deltas: 0 });
      else today.deltas++;
      for (const i of u.items) {
        today.started += i.partsStarted;
        today.completed += i.partsCompleted;
        today.errors += i.errors;
        if (u.kind === 'DELTA') {
          plan?.pulse(i.station);
          if (ctx.win().live) wip.set(i.station, (wip.get(i.station) ?? 0) + i.partsStarted - i.partsCompleted);
        }
      }
      drawLive();
      if (u.kind === 'DELTA' && ctx.win().live) {
        plan?.stations(wip);
        refreshFloor();
        refreshTrend();
        refreshPeriods();
        refreshErrors();
      }
    },
    (err) => livePanel.error(err),
  );

  return {
    refresh() {
      refreshFloor();
      refreshTrend();
      refreshPeriods();
      refreshErrors();
    },
  };
};
