import './style.css';
import { createApiClient, type ConnectionState } from './api-client.ts';
import { createAlertFeed, type AlertFeedState } from './alert-feed.ts';
import { el } from './panel.ts';
import { formatRoute, parseRoute, PRESETS, VIEWS, windowOf, type Preset, type Route, type View } from './route.ts';
import { createSignIn } from './sign-in.ts';
import type { MountView, ViewContext, ViewHandle } from './view-kit.ts';
import { mountProduction } from './views/production-view.ts';
import { mountWorkforce } from './views/workforce-view.ts';
import { mountEnergy } from './views/energy-view.ts';
import { mountQuality } from './views/quality-view.ts';
import { mountOperations } from './views/operations-view.ts';
import { mountAlerts } from './views/alerts-view.ts';

const TITLES: Record<View, string> = {
  production: 'Production',
  workforce: 'Workforce',
  energy: 'Energy',
  quality: 'Quality',
  operations: 'Operations',
  alerts: 'Alerts',
};

/**
 * The shell: header (views, range picker, live indicator, alerts, sign-in) and the current view.
 * Everything the URL does not say is state of this page only; the URL alone reproduces a view.
 */
function start(app: HTMLElement) {
  const signIn = createSignIn();
  const live = el('span', 'conn', 'connecting…');
  live.dataset.conn = 'connecting';
  const api = createApiClient({
    token: signIn.token,
    onConnection: (state: ConnectionState) => {
      const shown = state === 'reconnected' ? 'connected' : state;
      live.dataset.conn = shown;
      live.textContent = {
        connected: '● live',
        reconnecting: '○ reconnecting…',
        connecting: '○ connecting…',
        idle: '○ idle',
      }[shown];
      // Back after a gateway restart: every panel re-reads (subscriptions resume by themselves).
      if (state === 'reconnected') current?.handle.refresh();
    },
  });

  const nav = el('nav');
  const range = el('select');
  range.setAttribute('aria-label', 'range');
  for (const p of Object.keys(PRESETS)) range.append(new Option(`last ${p}`, p));
  range.append(new Option('custom (from URL)', 'custom'));
  const badge = el('a', 'badge', '0');
  badge.href = '#/alerts';
  badge.title = 'alerts firing';
  const header = el('header', 'top');
  header.append(el('h1', '', 'millrace'), nav, range, live, badge, signIn.root);
  const main = el('main', 'grid');
  app.replaceChildren(header, main);

  let latest: AlertFeedState | null = null;
  const listeners = new Set<(s: AlertFeedState) => void>();
  // The rules are evaluated on the server; the page only listens (the `alerts` subscription).
  const alerts = createAlertFeed(api, (s) => {
    latest = s;
    const n = s.ok ? String(s.latest.alerts.length) : '?';
    badge.textContent = n;
    badge.dataset.count = n;
    badge.title = s.ok ? 'alerts firing' : `alerts unavailable: ${s.error.message}`;
    for (const fn of listeners) fn(s);
  });
  alerts.start();

  let current: { route: Route; leave: (() => void)[]; handle: ViewHandle } | null = null;
  const mounts: Record<Exclude<View, 'alerts'>, MountView> = {
    production: mountProduction,
    workforce: mountWorkforce,
    energy: mountEnergy,
    quality: mountQuality,
    operations: mountOperations,
  };

  function show() {
    const route = parseRoute(location.hash);
    if (location.hash !== formatRoute(route)) history.replaceState(null, '', formatRoute(route));
    for (const fn of current?.leave ?? []) fn();
    main.replaceChildren();
    main.dataset.view = route.view;
    document.title = `${TITLES[route.view]} · millrace`;
    nav.replaceChildren(
      ...VIEWS.map((v) => {
        const a = el('a', v === route.view ? 'active' : '', TITLES[v]);
        a.href = formatRoute({ ...route, view: v });
        return a;
      }),
    );
    range.value = route.preset ?? 'custom';
    const leave: (() => void)[] = [];
    const ctx: ViewContext = {
      api,
      route,
      win: () => windowOf(route),
      root: main,
      onLeave: (fn) => void leave.push(fn),
    };
    const handle =
      route.view === 'alerts'
        ? mountAlerts(
            ctx,
            () => latest,
            (fn) => (listeners.add(fn), () => void listeners.delete(fn)),
          )
        : mounts[route.view](ctx);
    current = { route, leave, handle };
  }

  range.addEventListener('change', () => {
    if (range.value === 'custom') return;
    location.hash = formatRoute({
      view: parseRoute(location.hash).view,
      preset: range.value as Preset,
      from: null,
      to: null,
    });
  });
  window.addEventListener('hashchange', show);
  signIn.onChange(() => {
    // New credentials: new socket, every view and rule read again with them.
    api.reconnect();
    show();
    alerts.restart();
  });
  // Relative ranges follow the clock even when nothing is pushed (e.g. the speed layer is idle).
  setInterval(() => {
    if (current?.route.preset) current.handle.refresh();
  }, 30_000);
  show();
}

start(document.getElementById('app')!);
