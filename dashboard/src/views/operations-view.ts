import { graphql } from '../gql/gql.ts';
import { createPanel, el, table } from '../panel.ts';
import { layerLag, type StatusDoc } from '../status-doc.ts';
import { bindReport, type MountView } from '../view-kit.ts';

const DeadLettersQuery = graphql(`
  query DashboardDeadLetters {
    deadLetters(first: 25) {
      edges {
        node {
          connector
          source
          position
          reason
          raw
          createdAt
        }
      }
    }
  }
`);

/** Operations: connectors (events, lag, dead letters, stalls) and the freshness of every layer, from /status. */
export const mountOperations: MountView = (ctx) => {
  const connectors = createPanel(ctx.root, 'connectors', 'Connectors', { wide: true });
  const layers = createPanel(ctx.root, 'layers', 'Freshness of every layer');
  const letters = createPanel(ctx.root, 'dead-letters', 'Dead letters (newest first)', { wide: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let left = false;
  ctx.onLeave(() => {
    left = true;
    clearTimeout(timer);
  });

  async function readStatus() {
    clearTimeout(timer);
    try {
      const s = (await ctx.api.getJson('/status')) as StatusDoc;
      if (left) return;
      const now = Date.now();
      connectors.ready();
      connectors.root.querySelector('.freshness')!.textContent = `/status read ${new Date(now).toLocaleTimeString()}`;
      if (!s.connectors?.length) connectors.empty('This process runs no connectors (gateway or subgraph alone).');
      else {
        connectors.body.replaceChildren(
          table(
            ['connector', 'kind', 'events', 'lag', 'dead letters', 'last checkpoint', 'state'],
            s.connectors.map((c) => [
              c.name,
              c.kind,
              c.events,
              c.lag,
              c.deadLetters,
              c.lastCheckpointAt ? `${Math.round((now - c.lastCheckpointAt) / 1000)} s ago` : 'never',
              c.lastError ? `error: ${c.lastError}` : 'ok',
            ]),
            'connectors',
          ),
        );
      }
      layers.ready();
      const rows = layerLag(s);
      const batchAt = s.batch?.refreshedAt ? `${Math.round((now - s.batch.refreshedAt) / 1000)} s ago` : '—';
      const batchEvent = s.batch?.maxEventTime ? new Date(s.batch.maxEventTime).toISOString().slice(0, 19) : '—';
      layers.body.replaceChildren(
        rows.length
          ? table(
              ['layer', 'offset (all partitions)', 'behind the log'],
              rows.map((r) => [r.layer, r.offsets, r.behind]),
              'layers',
            )
          : el('div', 'empty', 'No log in this process.'),
        el('div', 'sub', `batch refreshed ${batchAt}; batch watermark (latest event folded) ${batchEvent}`),
        el(
          'div',
          'sub',
          `modules: ${
            Object.entries(s.modules ?? {})
              .map(([m, ok]) => `${m} ${ok ? '✓' : '…'}`)
              .join(' · ') || '—'
          }`,
        ),
      );
    } catch (err) {
      if (left) return;
      connectors.error(err);
      layers.error(err);
    }
    if (!left) timer = setTimeout(() => void readStatus(), 5000);
  }
  void readStatus();

  const refreshLetters = bindReport(
    ctx,
    letters,
    DeadLettersQuery,
    () => ({}),
    (d) => {
      if (!d.deadLetters.edges.length) return false;
      letters.body.replaceChildren(
        table(
          ['when', 'connector', 'position', 'reason', 'raw'],
          d.deadLetters.edges.map(({ node: l }) => [
            l.createdAt.slice(0, 19),
            l.connector,
            l.position,
            l.reason,
            (l.raw ?? '(personal: needs pii:read)').slice(0, 80),
          ]),
          'dead-letters',
        ),
      );
      return undefined;
    },
    5000,
  );

  return {
    refresh() {
      void readStatus();
      refreshLetters();
    },
  };
};
