import { graphql } from '../gql/gql.ts';
import { createPanel, el, pct, stat, table } from '../panel.ts';
import { bindLive, bindReport, type MountView } from '../view-kit.ts';

const QualityQuery = graphql(`
  query DashboardQuality($from: DateTime!, $to: DateTime!) {
    byStation: quality(from: $from, to: $to, groupBy: [STATION]) {
      rows {
        station {
          id
        }
        figures {
          inspected
          passed
          failed
          yield
        }
      }
      total {
        inspected
        passed
        failed
        yield
      }
      line {
        firstPassYield
        reworkDone
        reworkPending
      }
      freshness {
        asOf
        batchWatermark
        speedLagEvents
        speedAppliedAt
      }
    }
    byDepartment: quality(from: $from, to: $to, groupBy: [DEPARTMENT]) {
      rows {
        department {
          id
        }
        figures {
          inspected
          failed
          yield
        }
      }
    }
  }
`);

const RepairsQuery = graphql(`
  query DashboardRepairs($from: DateTime!, $to: DateTime!) {
    mttr(from: $from, to: $to, bySeverity: true) {
      rows {
        severity
        repairsCompleted
        mttrMinutes
      }
      repairsCompleted
      mttrMinutes
      freshness {
        asOf
        batchWatermark
        speedLagEvents
        speedAppliedAt
      }
    }
    orders(open: true, kinds: [REPAIR], first: 20) {
      totalCount
      edges {
        node {
          id
          severity
          status
          subject
          requestedAt
        }
      }
    }
  }
`);

const ToolsQuery = graphql(`
  query DashboardTools {
    tools(first: 15, orderBy: { field: LIFE_USED }) {
      totalCount
      edges {
        node {
          id
          type
          ratedLifeHours
          usedHours
          lifeUsed
          checkedOut
        }
      }
    }
  }
`);

const QualityLive = graphql(`
  subscription DashboardQualityLive {
    qualityUpdates {
      kind
      items {
        station
        inspected
        failed
      }
    }
  }
`);

/** Report 4, quality: pass/fail and first-pass yield, rework, failures by station/department, MTTR, tools, open repairs. */
export const mountQuality: MountView = (ctx) => {
  const summary = createPanel(ctx.root, 'quality-summary', 'Pass / fail and first-pass yield');
  const stations = createPanel(ctx.root, 'quality-stations', 'Failures by station and department');
  const repairs = createPanel(ctx.root, 'repairs', 'MTTR and open repair orders');
  const tools = createPanel(ctx.root, 'tools', 'Tool life: actual vs rated');
  const live = createPanel(ctx.root, 'quality-live', 'Live inspections today (qualityUpdates)');
  const vars = () => ({ from: ctx.win().from, to: ctx.win().to });

  const refreshQuality = bindReport(ctx, [summary, stations], QualityQuery, vars, (d) => {
    const q = d.byStation;
    summary.freshness(q.freshness);
    stations.freshness(q.freshness);
    if (!q.total.inspected) return false;
    const s = el('div', 'stats');
    s.append(
      stat('inspected', q.total.inspected, '', 'quality.inspected'),
      stat('passed', q.total.passed, '', 'quality.passed'),
      stat('failed', q.total.failed, '', 'quality.failed'),
      stat('yield %', q.total.yield === null ? null : q.total.yield * 100, '', 'quality.yield'),
      stat(
        'first-pass yield %',
        q.line.firstPassYield === null ? null : q.line.firstPassYield * 100,
        '',
        'quality.fpy',
      ),
      stat('rework done', q.line.reworkDone, '', 'quality.reworkDone'),
      stat('rework pending', q.line.reworkPending, '', 'quality.reworkPending'),
    );
    summary.body.replaceChildren(s);
    stations.body.replaceChildren(
      table(
        ['station', 'inspected', 'failed', 'yield'],
        [...q.rows]
          .sort((a, b) => b.figures.failed - a.figures.failed)
          .map((r) => [r.station?.id ?? '—', r.figures.inspected, r.figures.failed, pct(r.figures.yield)]),
        'quality-stations',
      ),
      table(
        ['department', 'inspected', 'failed', 'yield'],
        d.byDepartment.rows.map((r) => [
          r.department?.id ?? '—',
          r.figures.inspected,
          r.figures.failed,
          pct(r.figures.yield),
        ]),
        'quality-departments',
      ),
    );
    return undefined;
  });

  const refreshRepairs = bindReport(
    ctx,
    repairs,
    RepairsQuery,
    vars,
    (d) => {
      repairs.freshness(d.mttr.freshness);
      const s = el('div', 'stats');
      s.append(
        stat('repairs completed', d.mttr.repairsCompleted, '', 'mttr.completed'),
        stat('MTTR min', d.mttr.mttrMinutes, '', 'mttr.minutes'),
        stat('open repairs', d.orders.totalCount, '', 'repairs.open'),
      );
      repairs.body.replaceChildren(
        s,
        table(
          ['severity', 'completed', 'MTTR min'],
          d.mttr.rows.map((r) => [r.severity === null ? '—' : String(r.severity), r.repairsCompleted, r.mttrMinutes]),
        ),
        d.orders.edges.length
          ? table(
              ['open order', 'severity', 'status', 'subject', 'requested'],
              d.orders.edges.map(({ node: o }) => [
                o.id,
                o.severity === null ? '—' : String(o.severity),
                o.status,
                o.subject,
                o.requestedAt.slice(0, 16),
              ]),
              'open-repairs',
            )
          : el('div', 'empty', 'No open repair orders.'),
      );
      return undefined;
    },
    5000,
  );

  const refreshTools = bindReport(
    ctx,
    tools,
    ToolsQuery,
    () => ({}),
    (d) => {
      if (!d.tools.edges.length) return false;
      tools.body.replaceChildren(
        table(
          ['tool', 'type', 'used h', 'rated h', 'life used', 'out'],
          d.tools.edges.map(({ node: t }) => [
            t.id,
            t.type ?? '—',
            t.usedHours,
            t.ratedLifeHours ?? null,
            pct(t.lifeUsed),
            t.checkedOut ? 'yes' : 'no',
          ]),
          'tools',
        ),
      );
      return undefined;
    },
    10_000,
  );

  const today = { inspected: 0, failed: 0 };
  bindLive(
    ctx,
    QualityLive,
    {},
    ({ qualityUpdates: u }) => {
      if (u.kind === 'SNAPSHOT') Object.assign(today, { inspected: 0, failed: 0 });
      for (const i of u.items) {
        today.inspected += i.inspected;
        today.failed += i.failed;
      }
      live.ready();
      const s = el('div', 'stats');
      s.append(
        stat('inspected today', today.inspected, '', 'live.inspected'),
        stat('failed today', today.failed, '', 'live.failed'),
      );
      live.body.replaceChildren(s);
      if (u.kind === 'DELTA' && ctx.win().live) refreshQuality();
    },
    (err) => live.error(err),
  );

  return {
    refresh() {
      refreshQuality();
      refreshRepairs();
      refreshTools();
    },
  };
};
