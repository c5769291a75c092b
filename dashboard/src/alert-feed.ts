import type { ApiClient, ApiFailure } from './api-client.ts';
import { graphql } from './gql/gql.ts';
import type { DashboardAlertsSubscription } from './gql/graphql.ts';

const Alerts = graphql(`
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
`);

/** The latest message of the `alerts` subscription (every message carries the whole firing set). */
export type AlertState = DashboardAlertsSubscription['alerts'];

/** What the shell shows: the server's latest evaluation, or why the subscription failed. */
export type AlertFeedState = { ok: true; latest: AlertState } | { ok: false; error: ApiFailure };

/**
 * The `alerts` subscription: the server evaluates the rules (MILLRACE_ALERT_* thresholds) and
 * sends a SNAPSHOT, then a CHANGE whenever an alert is raised or cleared. graphql-ws resubscribes
 * by itself after a gateway restart (a new SNAPSHOT); `restart()` is for new credentials.
 */
export function createAlertFeed(api: ApiClient, onChange: (s: AlertFeedState) => void) {
  let stop: (() => void) | null = null;
  const start = () => {
    stop?.();
    stop = api.subscribe(
      Alerts,
      {},
      {
        next: (d) => onChange({ ok: true, latest: d.alerts }),
        error: (error) => onChange({ ok: false, error }),
      },
    );
  };
  return {
    start,
    /** Subscribe again (after a sign-in: the old socket is gone). */
    restart: start,
    stop() {
      stop?.();
      stop = null;
    },
  };
}
