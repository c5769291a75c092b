import type { ApiClient } from './api-client.ts';
import { graphql } from './gql/gql.ts';
import { DEFAULT_THRESHOLDS, type AlertThresholds, type StatusDoc } from './status-doc.ts';

const ZoneHeat = graphql(`
  query DashboardAlertZones($from: DateTime!, $to: DateTime!) {
    zoneTemperatures(from: $from, to: $to, groupBy: [ZONE]) {
      rows {
        zone {
          id
        }
        figures {
          maxC
        }
      }
    }
  }
`);
const StationExits = graphql(`
  query DashboardAlertExits($from: DateTime!, $to: DateTime!) {
    stations {
      id
      flowIndex
    }
    production(from: $from, to: $to, groupBy: [STATION]) {
      rows {
        station {
          id
        }
        figures {
          partsCompleted
        }
      }
    }
  }
`);
const SevereRepairs = graphql(`
  query DashboardAlertRepairs {
    orders(open: true, kinds: [REPAIR], severities: [1], first: 10) {
      totalCount
      edges {
        node {
          id
          subject
          requestedAt
        }
      }
    }
  }
`);

export type RuleId = 'zone-temperature' | 'station-no-exits' | 'severity-1-repair' | 'connector';

export interface Alert {
  rule: RuleId;
  /** What fires: a zone, a station, an order or a connector id. */
  subject: string;
  message: string;
  /** When this dashboard first saw it firing (epoch ms). */
  since: number;
}

export interface RuleState {
  rule: RuleId;
  description: string;
  /** 'ok', 'firing', or 'unavailable: CODE' when its figures could not be read. */
  state: string;
}

export interface AlertSnapshot {
  thresholds: AlertThresholds;
  alerts: Alert[];
  rules: RuleState[];
  evaluatedAt: number;
}

/**
 * Evaluates the alert rules on the served figures (the same GraphQL reports and /status the
 * views show) every `everyMs`, and tells listeners. Thresholds come from the gateway's
 * `/dashboard-config.json` (MILLRACE_ALERT_* settings). A rule whose report is not served yet
 * reports itself unavailable instead of hiding the others.
 */
export function createAlertEngine(api: ApiClient, opts: { everyMs?: number; onChange: (s: AlertSnapshot) => void }) {
  const everyMs = opts.everyMs ?? 10_000;
  let thresholds: AlertThresholds = DEFAULT_THRESHOLDS;
  const since = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  async function loadThresholds() {
    try {
      const cfg = (await (await fetch('/dashboard-config.json')).json()) as { alerts?: AlertThresholds };
      if (cfg.alerts) thresholds = { ...DEFAULT_THRESHOLDS, ...cfg.alerts };
    } catch {
      // An older gateway without the route: the defaults (shown on the Alerts view) apply.
    }
  }

  async function evaluate(): Promise<AlertSnapshot> {
    const now = Date.now();
    const iso = (t: number) => new Date(t).toISOString();
    const found: Omit<Alert, 'since'>[] = [];
    const rules: RuleState[] = [];
    const rule = async (id: RuleId, description: string, run: () => Promise<Omit<Alert, 'since' | 'rule'>[]>) => {
      try {
        const hits = await run();
        found.push(...hits.map((h) => ({ ...h, rule: id })));
        rules.push({ rule: id, description, state: hits.length ? 'firing' : 'ok' });
      } catch (err) {
        const code = (err as { errors?: { code: string }[] }).errors?.[0]?.code ?? 'ERROR';
        rules.push({ rule: id, description, state: `unavailable: ${code}` });
      }
    };
    const t = thresholds;
    await Promise.all([
      rule('zone-temperature', `a zone's hottest reading in the last 15 min above ${t.zoneMaxC} °C`, async () => {
        const d = await api.query(ZoneHeat, { from: iso(now - 15 * 60_000), to: iso(now) });
        return d.zoneTemperatures.rows
          .filter((r) => r.zone && r.figures.maxC !== null && r.figures.maxC > t.zoneMaxC)
          .map((r) => ({ subject: `zone ${r.zone!.id}`, message: `${r.figures.maxC} °C > ${t.zoneMaxC} °C` }));
      }),
      rule('station-no-exits', `a flow station with no exits for ${t.noExitMinutes} min`, async () => {
        const d = await api.query(StationExits, { from: iso(now - t.noExitMinutes * 60_000), to: iso(now) });
        const exits = new Map(d.production.rows.map((r) => [r.station?.id, r.figures.partsCompleted]));
        return d.stations
          .filter((s) => s.flowIndex !== null && !exits.get(s.id))
          .map((s) => ({ subject: `station ${s.id}`, message: `no exits in the last ${t.noExitMinutes} min` }));
      }),
      rule('severity-1-repair', 'a severity-1 repair order is open', async () => {
        const d = await api.query(SevereRepairs, {});
        return d.orders.edges.map(({ node: o }) => ({
          subject: `order ${o.id}`,
          message: `severity 1 on ${o.subject}, open since ${o.requestedAt.slice(0, 16)}`,
        }));
      }),
      rule(
        'connector',
        `a connector lagging by more than ${t.connectorLag}, stalled for ${t.stallSeconds} s, or failing`,
        async () => {
          const s = (await api.getJson('/status')) as StatusDoc;
          return (s.connectors ?? []).flatMap((c) => {
            const out: Omit<Alert, 'since' | 'rule'>[] = [];
            if (c.lag !== null && c.lag > t.connectorLag)
              out.push({ subject: `connector ${c.name}`, message: `lag ${c.lag} > ${t.connectorLag}` });
            if (c.lastCheckpointAt !== null && now - c.lastCheckpointAt > t.stallSeconds * 1000)
              out.push({
                subject: `connector ${c.name}`,
                message: `no checkpoint for ${Math.round((now - c.lastCheckpointAt) / 1000)} s`,
              });
            if (c.lastError) out.push({ subject: `connector ${c.name}`, message: `failing: ${c.lastError}` });
            return out;
          });
        },
      ),
    ]);
    const alerts = found.map((a) => {
      const key = `${a.rule}|${a.subject}|${a.message.split(' ')[0]}`;
      if (!since.has(key)) since.set(key, now);
      return { ...a, since: since.get(key)! };
    });
    const firing = new Set(found.map((a) => `${a.rule}|${a.subject}|${a.message.split(' ')[0]}`));
    for (const k of since.keys()) if (!firing.has(k)) since.delete(k);
    rules.sort((a, b) => a.rule.localeCompare(b.rule));
    return { thresholds, alerts, rules, evaluatedAt: now };
  }

  async function loop() {
    const snap = await evaluate();
    if (stopped) return;
    opts.onChange(snap);
    timer = setTimeout(() => void loop(), everyMs);
  }

  return {
    async start() {
      await loadThresholds();
      void loop();
    },
    /** Evaluate now (after a reconnect or a sign-in). */
    poke() {
      clearTimeout(timer);
      void loop();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
