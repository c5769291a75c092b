import cliProgress from 'cli-progress';
import { z } from 'zod';
import { MillraceError } from '../lib/errors.ts';
import { backfill, type BackfillOptions, type BackfillStats } from './backfill.ts';
import { floorMinute } from './ledger-facts.ts';
import { clipToUnwritten, writtenSpan } from './backfill-overlap.ts';

const DAY_MS = 86_400_000;

/** `millrace simulate` options: `--days N` (ending now), or `--from … --to …`, or `--from … --days N`. */
export const backfillArgs = z.object({
  /** Simulated days to write. */
  days: z.coerce.number().positive().max(3_660).optional(),
  /** Start: ISO-8601 date/time or epoch ms. */
  from: z.string().optional(),
  /** End (exclusive): ISO-8601 date/time or epoch ms. */
  to: z.string().optional(),
  /** PRNG seed. Default 42 (as MILLRACE_SIM_SEED). */
  seed: z.coerce.number().int().default(42),
});
export type BackfillArgs = z.input<typeof backfillArgs>;

export interface BackfillCliDeps extends Pick<
  BackfillOptions,
  'pool' | 'ledgerSchema' | 'openTopic' | 'machiningThread' | 'writers' | 'floor' | 'dataDir' | 'faultRate'
> {
  /** Machining source topic and partitions (MACHINING_TOPIC / MACHINING_PARTITIONS). */
  machiningTopic?: string;
  machiningPartitions?: number;
  /** Heat topic. Default `mycpu.heat`; `false` leaves the heat writer out (when `writers` already builds one). */
  heatTopic?: string | false;
  /** Wall clock, for `--days` ending now. Default `Date.now`. */
  now?: () => number;
  /** Where the progress bar goes. Default `process.stderr`. */
  stream?: NodeJS.WritableStream;
  log?: (line: string) => void;
}

function parseTime(name: string, v: string): number {
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t))
    throw new MillraceError(
      'CONFIG',
      `simulate: --${name} ${JSON.stringify(v)} is neither an ISO-8601 time nor epoch ms`,
    );
  return t;
}

/** The simulated range the arguments name, minute-aligned: [from, to). */
export function backfillRange(a: z.output<typeof backfillArgs>, now: number): { from: number; to: number } {
  const span = a.days === undefined ? null : Math.round(a.days * DAY_MS);
  let from: number;
  let to: number;
  if (a.from !== undefined && a.to !== undefined && span === null)
    [from, to] = [parseTime('from', a.from), parseTime('to', a.to)];
  else if (a.from !== undefined && a.to === undefined && span !== null)
    [from, to] = [parseTime('from', a.from), parseTime('from', a.from) + span];
  else if (a.from === undefined && a.to === undefined && span !== null)
    [from, to] = [floorMinute(now) - span, floorMinute(now)];
  else throw new MillraceError('CONFIG', 'simulate: give --days N, or --from and --to, or --from and --days');
  [from, to] = [floorMinute(from), floorMinute(to)];
  if (from >= to)
    throw new MillraceError(
      'CONFIG',
      `simulate: empty range ${new Date(from).toISOString()} → ${new Date(to).toISOString()}`,
    );
  return { from, to };
}

/**
 * `millrace simulate`: back-fill history with a progress bar (simulated days done, events/s, ETA).
 * Resolves with the final figures; rejects with a MillraceError('CONFIG') for bad arguments.
 */
export async function runBackfillCli(
  args: BackfillArgs,
  deps: BackfillCliDeps,
): Promise<BackfillStats & { from: number; to: number }> {
  const parsed = backfillArgs.safeParse(args);
  if (!parsed.success)
    throw new MillraceError(
      'CONFIG',
      `simulate: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const now = (deps.now ?? Date.now)();
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { from, to, note } = clipToUnwritten(
    backfillRange(parsed.data, now),
    await writtenSpan(deps.pool, deps.ledgerSchema, Date.now()),
  );
  if (note) log(note);
  const totalDays = (to - from) / DAY_MS;
  const bar = new cliProgress.SingleBar(
    {
      format:
        'back-fill |{bar}| {percentage}% | {days}/{totalDays} simulated days | {rate} events/s | ETA {eta_formatted}',
      stream: deps.stream ?? process.stderr,
      // Redirected to a file or CI log: a line every few seconds instead of nothing.
      noTTYOutput: true,
      notTTYSchedule: 5_000,
      etaBuffer: 50,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (done: number, s?: BackfillStats) => ({
    days: (done / DAY_MS).toFixed(2),
    totalDays: totalDays.toFixed(2),
    rate: s ? Math.round(s.eventsPerSec).toLocaleString('en') : '0',
  });
  bar.start(Math.round((to - from) / 60_000), 0, payload(0));
  let stats: BackfillStats;
  try {
    stats = await backfill({
      from,
      to,
      seed: parsed.data.seed,
      pool: deps.pool,
      ledgerSchema: deps.ledgerSchema,
      openTopic: deps.openTopic,
      machining: { topic: deps.machiningTopic, partitions: deps.machiningPartitions },
      machiningThread: deps.machiningThread,
      heat: deps.heatTopic === false ? false : { topic: deps.heatTopic },
      writers: deps.writers,
      floor: deps.floor,
      dataDir: deps.dataDir,
      faultRate: deps.faultRate,
      log,
      progress: (done, _total, s) => bar.update(Math.round(done / 60_000), payload(done, s)),
    });
  } finally {
    bar.stop();
  }
  // With when each writer finished: they go at their own pace, and the last one set the run's length.
  const per = Object.entries(stats.bySource)
    .map(
      ([name, s]) =>
        `${name} ${s.written.toLocaleString('en')}${s.doneMs === null ? '' : ` in ${(s.doneMs / 1000).toFixed(1)} s`}`,
    )
    .join(', ');
  log(
    `back-fill done: ${stats.events.toLocaleString('en')} events (${per}) in ${(stats.wallMs / 1000).toFixed(1)} s, ${Math.round(stats.eventsPerSec).toLocaleString('en')} events/s`,
  );
  return { ...stats, from, to };
}
