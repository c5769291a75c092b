import { graphql } from '../gql/gql.ts';
import { createPanel, el, stat, table } from '../panel.ts';
import { createFloorPlan, type FloorPlan } from '../floor-plan.ts';
import { bindLive, bindReport, type MountView } from '../view-kit.ts';

const EnergyQuery = graphql(`
  query DashboardEnergy($from: DateTime!, $to: DateTime!) {
    byDepartment: energy(from: $from, to: $to, groupBy: [DEPARTMENT], orderBy: { field: KWH }) {
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
    byMachine: energy(from: $from, to: $to, groupBy: [MACHINE], orderBy: { field: KWH }, top: 12) {
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
`);

const HeatQuery = graphql(`
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
`);

const EnergyLive = graphql(`
  subscription DashboardEnergyLive {
    energyUpdates {
      kind
      items {
        machine
        wh
      }
    }
  }
`);
const HeatLive = graphql(`
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
`);

/** Report 3, energy: consumption by department and machine, energy per part, zone heat map. */
export const mountEnergy: MountView = (ctx) => {
  const heatPanel = createPanel(
    ctx.root,
    'zone-heat',
    'Floor heat map: kWh per station and zone temperatures (max °C) over the range, live',
    { wide: true },
  );
  const totalsPanel = createPanel(ctx.root, 'energy-totals', 'Energy by department');
  const machinesPanel = createPanel(ctx.root, 'energy-machines', 'Top machines by kWh');
  const livePanel = createPanel(ctx.root, 'energy-live', 'Live energy today (energyUpdates)');
  const vars = () => ({ from: ctx.win().from, to: ctx.win().to });
  let liveAt: number | null = null;

  const refreshEnergy = bindReport(ctx, [totalsPanel, machinesPanel], EnergyQuery, vars, (d) => {
    const e = d.byDepartment;
    totalsPanel.freshness(e.freshness, liveAt);
    machinesPanel.freshness(e.freshness, liveAt);
    if (!e.rows.length && !e.total.wh) return false;
    const stats = el('div', 'stats');
    stats.append(
      stat('total kWh', e.total.kwh, '', 'energy.kwh'),
      stat('line kWh', e.line.kwh, '', 'energy.line.kwh'),
      stat('line parts', e.line.partsCompleted, '', 'energy.line.parts'),
      stat('line Wh / part', e.line.whPerPart, '', 'energy.line.whPerPart'),
    );
    totalsPanel.body.replaceChildren(
      stats,
      table(
        ['department', 'kWh', 'parts', 'Wh/part'],
        e.rows.map((r) => [
          r.department?.id ?? '—',
          r.figures.kwh,
          r.figures.partsCompleted ?? null,
          r.figures.whPerPart ?? null,
        ]),
        'energy-departments',
      ),
    );
    machinesPanel.body.replaceChildren(
      table(
        ['machine', 'kWh', 'parts', 'Wh/part'],
        d.byMachine.rows.map((r) => [
          r.machine?.id ?? '—',
          r.figures.kwh,
          r.figures.partsCompleted ?? null,
          r.figures.whPerPart ?? null,
        ]),
        'energy-machines',
      ),
    );
    return undefined;
  });

  let plan: FloorPlan | null = null;
  const maxC = new Map<string, number>();
  // Wh per station over the range (exact integers; shown as kWh), and which station a meter is on.
  const stationWh = new Map<string, number>();
  const stationOf = new Map<string, string>();
  const drawStations = () =>
    plan?.stations(new Map([...stationWh].map(([id, wh]) => [id, wh / 1000])), '', (kwh) =>
      kwh >= 100 ? kwh.toFixed(0) : kwh >= 10 ? kwh.toFixed(1) : kwh.toFixed(2),
    );
  const refreshHeat = bindReport(ctx, heatPanel, HeatQuery, vars, (d) => {
    heatPanel.freshness(d.zoneTemperatures.freshness, liveAt);
    if (!d.stations.length) return false;
    if (!plan) {
      heatPanel.body.replaceChildren();
      plan = createFloorPlan(heatPanel.body, d.stations);
    }
    maxC.clear();
    for (const r of d.zoneTemperatures.rows) if (r.zone && r.figures.maxC !== null) maxC.set(r.zone.id, r.figures.maxC);
    plan.zones(maxC, ' °C');
    stationOf.clear();
    for (const s of d.stations) for (const m of s.machines) stationOf.set(m.id, s.id);
    stationWh.clear();
    for (const r of d.stationEnergy.rows) if (r.station) stationWh.set(r.station.id, r.figures.wh);
    drawStations();
    return undefined;
  });

  const liveWh = new Map<string, number>();
  const drawLive = () => {
    livePanel.ready();
    const total = [...liveWh.values()].reduce((a, b) => a + b, 0);
    livePanel.body.replaceChildren(el('div', 'stats'));
    livePanel.body.firstElementChild!.append(
      stat('kWh today', total / 1000, '', 'live.kwh'),
      stat('machines metered', liveWh.size, '', 'live.machines'),
    );
    livePanel.freshness(null);
    livePanel.root.querySelector('.freshness')!.textContent = liveAt
      ? `live ${new Date(liveAt).toLocaleTimeString()}`
      : '';
  };
  bindLive(
    ctx,
    EnergyLive,
    {},
    ({ energyUpdates: u }) => {
      liveAt = Date.now();
      if (u.kind === 'SNAPSHOT') liveWh.clear();
      for (const i of u.items) liveWh.set(i.machine, (liveWh.get(i.machine) ?? 0) + i.wh);
      drawLive();
      if (u.kind === 'DELTA' && ctx.win().live) {
        // The stations' kWh move at once; the served figures follow with the throttled re-reads.
        for (const i of u.items) {
          const station = stationOf.get(i.machine);
          if (station) stationWh.set(station, (stationWh.get(station) ?? 0) + i.wh);
        }
        drawStations();
        refreshEnergy();
        refreshHeat();
      }
    },
    (err) => livePanel.error(err),
  );
  bindLive(
    ctx,
    HeatLive,
    {},
    ({ zoneTemperatureUpdates: u }) => {
      liveAt = Date.now();
      if (u.kind !== 'DELTA' || !ctx.win().live) return;
      // The hottest reading moves at once; the served figures follow with the throttled re-read.
      for (const i of u.items)
        if (i.maxC !== null && i.maxC > (maxC.get(i.zone) ?? -Infinity)) maxC.set(i.zone, i.maxC);
      plan?.zones(maxC, ' °C');
      refreshHeat();
    },
    (err) => livePanel.error(err),
  );

  return {
    refresh() {
      refreshEnergy();
      refreshHeat();
    },
  };
};
