import type { AlertFeedState } from '../alert-feed.ts';
import { createPanel, el, table } from '../panel.ts';
import type { ViewContext } from '../view-kit.ts';

/**
 * Alerts: what fires now and every rule with its threshold and state, as the server's `alerts`
 * subscription says (the rules are evaluated on the server, not in the page).
 */
export function mountAlerts(
  ctx: ViewContext,
  latest: () => AlertFeedState | null,
  listen: (fn: (s: AlertFeedState) => void) => () => void,
) {
  const active = createPanel(ctx.root, 'alerts-active', 'Firing now', { wide: true });
  const rules = createPanel(ctx.root, 'alerts-rules', 'Rules (thresholds from MILLRACE_ALERT_* settings)', {
    wide: true,
  });
  const draw = (f: AlertFeedState) => {
    if (!f.ok) {
      active.error(f.error);
      rules.error(f.error);
      return;
    }
    const s = f.latest;
    const at = `evaluated on the server ${new Date(s.evaluatedAt).toLocaleTimeString()}`;
    active.root.querySelector('.freshness')!.textContent = at;
    rules.root.querySelector('.freshness')!.textContent = at;
    if (!s.alerts.length) active.empty('Nothing is firing.');
    else {
      active.ready();
      active.body.replaceChildren(
        table(
          ['rule', 'subject', 'what', 'since'],
          s.alerts.map((a) => [a.rule, a.subject, a.message, new Date(a.since).toLocaleTimeString()]),
          'alerts',
        ),
      );
    }
    rules.ready();
    rules.body.replaceChildren(
      table(
        ['rule', 'condition', 'state'],
        s.rules.map((r) => [r.rule, r.description, r.error ? `${r.state}: ${r.error}` : r.state]),
        'alert-rules',
      ),
      el('div', 'sub', 'Prometheus rules for the operational ones: ops/prometheus/millrace-alerts.yml'),
    );
  };
  const now = latest();
  if (now) draw(now);
  ctx.onLeave(listen(draw));
  return { refresh() {} };
}
