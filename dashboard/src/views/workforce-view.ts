import { graphql } from '../gql/gql.ts';
import { createPanel, el, pct, stat, table } from '../panel.ts';
import { ApiFailure, type ApiClient } from '../api-client.ts';
import { bindLive, bindReport, type MountView } from '../view-kit.ts';

const AttendanceQuery = graphql(`
  query DashboardAttendance($from: DateTime!, $to: DateTime!) {
    attendance(from: $from, to: $to, grain: DAY, groupBy: [DEPARTMENT, SHIFT]) {
      rows {
        department {
          id
        }
        shift {
          id
        }
        figures {
          present
          absent
          attendanceRate
          hoursWorked
        }
      }
      total {
        present
        absent
        attendanceRate
        hoursWorked
      }
      freshness {
        asOf
        batchWatermark
        speedLagEvents
        speedAppliedAt
      }
    }
    absences(from: $from, to: $to) {
      rows {
        reason
        count
      }
      total
    }
  }
`);

// Utilisation per worker; the worker (id and name from the clock-in sheet) needs pii:read, the
// figures do not: `$pii` false leaves the worker out (the gateway then asks no scope for it).
const WorkersQuery = graphql(`
  query DashboardWorkers($from: DateTime!, $to: DateTime!, $pii: Boolean!) {
    workers(from: $from, to: $to, orderBy: { field: UTILISATION }, first: 20) {
      totalCount
      edges {
        node {
          worker @include(if: $pii) {
            id
            name
          }
          department {
            id
          }
          shift {
            id
          }
          hoursWorked
          taskHours
          utilisation
        }
      }
    }
  }
`);

/** Every error of the answer is a refused pii:read (the token lacks the scope; the rest would be served). */
const refusedPii = (err: unknown) =>
  err instanceof ApiFailure &&
  err.errors.length > 0 &&
  err.errors.every((e) => e.code === 'FORBIDDEN' && e.message.includes('pii:read'));

const AttendanceLive = graphql(`
  subscription DashboardAttendanceLive {
    attendanceUpdates {
      kind
      items {
        department
        shift
        present
        absent
      }
    }
  }
`);

/** Report 2, workforce: attendance by department and shift, absence reasons, utilisation per worker. */
export const mountWorkforce: MountView = (ctx) => {
  const attendance = createPanel(ctx.root, 'attendance', 'Attendance by department and shift', { wide: true });
  const absences = createPanel(ctx.root, 'absences', 'Absence reasons');
  const workers = createPanel(ctx.root, 'workers', 'Utilisation per worker');
  const live = createPanel(ctx.root, 'attendance-live', 'Live attendance today (attendanceUpdates)');
  const vars = () => ({ from: ctx.win().from, to: ctx.win().to });

  const refreshAttendance = bindReport(ctx, [attendance, absences], AttendanceQuery, vars, (d) => {
    const a = d.attendance;
    attendance.freshness(a.freshness);
    absences.freshness(a.freshness);
    if (!a.rows.length && !d.absences.rows.length) return false;
    const s = el('div', 'stats');
    s.append(
      stat('present', a.total.present, '', 'attendance.present'),
      stat('absent', a.total.absent, '', 'attendance.absent'),
      stat(
        'attendance %',
        a.total.attendanceRate === null ? null : a.total.attendanceRate * 100,
        '',
        'attendance.rate',
      ),
      stat('hours worked', a.total.hoursWorked, '', 'attendance.hours'),
    );
    attendance.body.replaceChildren(
      s,
      table(
        ['department', 'shift', 'present', 'absent', 'rate', 'hours'],
        a.rows.map((r) => [
          r.department?.id ?? '—',
          r.shift?.id ?? '—',
          r.figures.present,
          r.figures.absent,
          pct(r.figures.attendanceRate),
          r.figures.hoursWorked,
        ]),
        'attendance',
      ),
    );
    absences.body.replaceChildren(
      d.absences.rows.length
        ? table(
            ['reason', 'count'],
            d.absences.rows.map((r) => [r.reason, r.count]),
            'absences',
          )
        : el('div', 'empty', 'No absences in this range.'),
    );
    return undefined;
  });

  // The worker is asked for until the gateway refuses pii:read once; a new sign-in mounts the view again.
  let pii = true;
  const piiApi: ApiClient = {
    ...ctx.api,
    async query(doc, variables) {
      if (pii) {
        try {
          return await ctx.api.query(doc, variables);
        } catch (err) {
          if (!refusedPii(err)) throw err;
          pii = false;
        }
      }
      // The same query, the worker left out (this client serves only WorkersQuery).
      return ctx.api.query(doc, { ...(variables as object), pii: false } as never);
    },
  };
  const refreshWorkers = bindReport(
    { ...ctx, api: piiApi },
    workers,
    WorkersQuery,
    () => ({ ...vars(), pii: true }),
    (d) => {
      if (!d.workers.edges.length) return false;
      const named = d.workers.edges.some(({ node: w }) => w.worker !== undefined);
      workers.body.replaceChildren(
        el(
          'div',
          'sub',
          `${d.workers.totalCount} workers; highest utilisation first${named ? '' : ' (ids and names need pii:read)'}`,
        ),
        table(
          [...(named ? ['worker', 'name'] : []), 'department', 'shift', 'hours', 'task h', 'utilisation'],
          d.workers.edges.map(({ node: w }) => [
            ...(named ? [w.worker?.id ?? '—', w.worker?.name ?? '—'] : []),
            w.department?.id ?? '—',
            w.shift?.id ?? '—',
            w.hoursWorked,
            w.taskHours,
            pct(w.utilisation),
          ]),
          'workers',
        ),
      );
      return undefined;
    },
    5000,
  );

  // Today's attendance from the SNAPSHOT plus every DELTA (a rewritten sheet's corrections are negative).
  const today = { present: 0, absent: 0 };
  bindLive(
    ctx,
    AttendanceLive,
    {},
    ({ attendanceUpdates: u }) => {
      if (u.kind === 'SNAPSHOT') Object.assign(today, { present: 0, absent: 0 });
      for (const i of u.items) {
        today.present += i.present;
        today.absent += i.absent;
      }
      live.ready();
      const s = el('div', 'stats');
      s.append(
        stat('present today', today.present, '', 'live.present'),
        stat('absent today', today.absent, '', 'live.absent'),
      );
      live.body.replaceChildren(s);
      if (u.kind === 'DELTA' && ctx.win().live) refreshAttendance();
    },
    (err) => live.error(err),
  );

  return {
    refresh() {
      refreshAttendance();
      refreshWorkers();
    },
  };
};
