import type { ApiClient, ApiFailure } from './api-client.ts';
import type { Panel } from './panel.ts';
import type { Route, Window } from './route.ts';
import type { TypedDocumentString } from './gql/graphql.ts';

/** What a view gets from the shell. */
export interface ViewContext {
  api: ApiClient;
  route: Route;
  /** The route's window, recomputed on every refresh for relative ranges. */
  win(): Window;
  root: HTMLElement;
  /** Registers cleanup run when the view is left. */
  onLeave(fn: () => void): void;
}

export type MountView = (ctx: ViewContext) => ViewHandle;

export interface ViewHandle {
  /** Re-reads every panel (after a reconnect, a sign-in, or on the shell's tick). */
  refresh(): void;
}

/**
 * A panel backed by one GraphQL query: loads, renders, shows its error state, and refetches when
 * asked — throttled, so a burst of live deltas costs at most one read per `minGapMs`.
 */
export function bindReport<R, V>(
  ctx: ViewContext,
  panels: Panel | Panel[],
  doc: TypedDocumentString<R, V>,
  variables: () => V,
  render: (data: R) => boolean | void,
  minGapMs = 2000,
): () => void {
  const all = Array.isArray(panels) ? panels : [panels];
  let running = false;
  let again = false;
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let left = false;
  ctx.onLeave(() => {
    left = true;
    clearTimeout(timer);
  });
  async function run() {
    if (left) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    last = Date.now();
    for (const p of all) p.loading();
    try {
      const data = await ctx.api.query(doc, variables());
      if (left) return;
      for (const p of all) p.ready();
      // render returns false for "nothing in this range": the panels show their empty state.
      if (render(data) === false) for (const p of all) p.empty('No data in this range.');
    } catch (err) {
      if (!left) for (const p of all) p.error(err as ApiFailure);
    } finally {
      running = false;
      if (again && !left) {
        again = false;
        schedule();
      }
    }
  }
  function schedule() {
    if (left || timer) return;
    const wait = Math.max(0, last + minGapMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, wait);
  }
  void run();
  return schedule;
}

/**
 * A subscription that lives as long as the view. When it fails (an error, or the gateway closing
 * the socket in a way graphql-ws does not retry), the error is shown and it subscribes again after
 * a backoff (2 s … 30 s); a fresh subscription starts with a SNAPSHOT, so nothing is double counted.
 */
export function bindLive<R, V>(
  ctx: ViewContext,
  doc: TypedDocumentString<R, V>,
  variables: V,
  next: (data: R) => void,
  onError: (err: ApiFailure) => void,
): void {
  let stop: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let left = false;
  const open = () => {
    stop = ctx.api.subscribe(doc, variables, {
      next: (data) => {
        failures = 0;
        next(data);
      },
      error: (err) => {
        if (left) return;
        onError(err);
        stop = null;
        timer = setTimeout(open, Math.min(30_000, 2000 * 2 ** failures++));
      },
    });
  };
  open();
  ctx.onLeave(() => {
    left = true;
    clearTimeout(timer);
    stop?.();
  });
}
