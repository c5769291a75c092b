import type { AlertSnapshot } from '../alert-engine.ts';
import { createPanel, el, table } from '../panel.ts';
import type { ViewContext } from '../view-kit.ts';

/**
 * Alerts: what fires now (evaluated live by the shell's alert engine on the served figures) and
 * every rule with its threshold and state.
 */
export function mountAlerts(
  ctx: ViewContext,
  latest: () => AlertSnapshot | null,
  listen: (fn: (s: AlertSnapshot) => void) => () => void,
) {
  const active = createPanel(ctx.root, 'alerts-active', 'Firing now', { wide: true });
  const rules = createPanel(ctx.root, 'alerts-rules', 'Rules (thresholds from MILLRACE_ALERT_* settings)', {
    wide: true,
  });
  const draw = (s: AlertSnapshot) => {
    const at = `evaluated ${new Date(s.evaluatedAt).toLocaleTimeString()}`;
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
        s.rules.map((r) => [r.rule, r.description, r.state]),
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
