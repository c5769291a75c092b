import type { Serving } from '../serving/types.ts';
import type { FactoryCalendar } from '../serving/calendar.ts';

export type { FactoryCalendar };
import type { RequestLoaders } from './shared/loaders.ts';
import type { AlertFeed } from './alerts/alert-types.ts';

/** What every resolver receives: the serving layer, the calendar and this request's loaders. */
export interface ResolverContext {
  serving: Serving;
  calendar: FactoryCalendar;
  /** Connectors whose input is personal data (clock-in): their dead letters' raw input needs pii:read. */
  personalConnectors: ReadonlySet<string>;
  /** Per-request, batched reads (dataloader): the station directory, totals, entities. */
  loaders: RequestLoaders;
  /** The request's deadline (epoch ms) from the gateway's `x-millrace-deadline`; reads stop at it. Default none. */
  deadline?: number;
  /** The server's alert rules (one engine per subgraph server, shared by every request). */
  alerts: AlertFeed;
}
