import type { Resolvers } from '../generated/production.ts';
import { iso } from '../validate-args.ts';
import type { AlertSnapshot, AlertUpdate, FiringAlert } from './alert-types.ts';

const toAlert = (a: FiringAlert) => ({ ...a, since: iso(a.since) });
const toReport = (s: AlertSnapshot) => ({
  alerts: s.alerts.map(toAlert),
  rules: s.rules,
  thresholds: s.thresholds,
  evaluatedAt: iso(s.evaluatedAt),
});
const toUpdate = (u: AlertUpdate) => ({
  ...toReport(u),
  kind: u.kind,
  raised: u.raised.map(toAlert),
  cleared: u.cleared.map(toAlert),
});

/** The `alerts` query and subscription over the server's alert engine (resolvers/alerts/create-alert-engine.ts). */
export function createAlertResolvers(): Pick<Resolvers, 'AlertRule' | 'AlertRuleStatus' | 'AlertUpdateKind'> & {
  Query: Pick<NonNullable<Resolvers['Query']>, 'alerts'>;
  Subscription: Pick<NonNullable<Resolvers['Subscription']>, 'alerts'>;
} {
  return {
    AlertRule: {
      ZONE_TEMPERATURE: 'zone-temperature',
      STATION_NO_EXITS: 'station-no-exits',
      SEVERITY_1_REPAIR: 'severity-1-repair',
      CONNECTOR: 'connector',
    },
    AlertRuleStatus: { OK: 'ok', FIRING: 'firing', UNAVAILABLE: 'unavailable' },
    AlertUpdateKind: { SNAPSHOT: 'snapshot', CHANGE: 'change' },
    Query: {
      alerts: async (_root, _args, ctx) => toReport(await ctx.alerts.current()),
    },
    Subscription: {
      alerts: {
        subscribe: (_root, _args, ctx) => ctx.alerts.watch(),
        resolve: (u: AlertUpdate) => toUpdate(u),
      },
    },
  };
}
