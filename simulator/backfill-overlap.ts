import type pg from 'pg';
import { MillraceError } from '../lib/errors.ts';
import { ident } from './ledger-schema.ts';

/** A seal moved this recently means a writer (a live run) is still writing forward from it. */
export const LIVE_WRITER_WINDOW_MS = 5 * 60_000;

export interface WrittenSpan {
  /** Earliest minute any source has facts for (null: the ledger is empty). */
  first: number | null;
  /** Past every fact and every seal: a range from here on is unwritten (unless a live run goes on). */
  end: number | null;
  /** Some source's seal moved within LIVE_WRITER_WINDOW_MS. */
  live: boolean;
}

/** What the ledger says has been written already, by live runs and earlier back-fills. */
export async function writtenSpan(pool: pg.Pool, schema: string, now: number): Promise<WrittenSpan> {
  const s = ident(schema);
  const exists = await pool.query(`SELECT to_regclass($1) AS f, to_regclass($2) AS s, to_regclass($3) AS st`, [
    `${s}.facts`,
    `${s}.seals`,
    `${s}.state`,
  ]);
  if (!exists.rows[0].f || !exists.rows[0].s || !exists.rows[0].st) return { first: null, end: null, live: false };
  const r = await pool.query(
    // Per fact name through the primary key (fact, minute, …): a year's ledger has ~50 M fact rows,
    // and a plain min(minute) would read them all.
    `WITH RECURSIVE names AS (
       SELECT min(fact) AS fact FROM ${s}.facts
       UNION ALL SELECT (SELECT min(fact) FROM ${s}.facts WHERE fact > names.fact) FROM names WHERE names.fact IS NOT NULL),
     spans AS (SELECT (SELECT min(minute) FROM ${s}.facts f WHERE f.fact = names.fact) AS lo, (SELECT max(minute) FROM ${s}.facts f WHERE f.fact = names.fact) AS hi
               FROM names WHERE names.fact IS NOT NULL)
     SELECT (SELECT min(lo) FROM spans) AS first_fact, (SELECT max(hi) FROM spans) AS last_fact,
            (SELECT max(sealed_before) FROM ${s}.seals) AS seal, (SELECT max(extract(epoch FROM updated_at) * 1000) FROM ${s}.seals) AS seal_at,
            (SELECT sealed_before FROM ${s}.state) AS m_seal, (SELECT first_minute FROM ${s}.state) AS m_first,
            (SELECT extract(epoch FROM updated_at) * 1000 FROM ${s}.state) AS m_at`,
  );
  const x = r.rows[0];
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const firsts = [num(x.first_fact), num(x.m_first)].filter((v): v is number => v !== null);
  const ends = [num(x.last_fact) === null ? null : num(x.last_fact)! + 60_000, num(x.seal), num(x.m_seal)].filter(
    (v): v is number => v !== null,
  );
  const touched = [num(x.seal_at), num(x.m_at)].filter((v): v is number => v !== null);
  return {
    first: firsts.length ? Math.min(...firsts) : null,
    end: ends.length ? Math.max(...ends) : null,
    live: touched.some((t) => now - t < LIVE_WRITER_WINDOW_MS),
  };
}

/**
 * A back-fill never writes where a source has been written already: two writers of one minute
 * would both count it in the ledger while the pipeline keeps one reading per id (an energy line's
 * id is its interval and machine), and verify would disagree. The range is clipped to end where
 * history begins (`note` says so), or, after a finished run, to start where it ended; a range
 * with nothing unwritten left, or reaching into what a live run is still writing, is refused.
 */
export function clipToUnwritten(
  range: { from: number; to: number },
  w: WrittenSpan,
): { from: number; to: number; note: string | null } {
  const iso = (t: number) => new Date(t).toISOString();
  const { from, to } = range;
  if (w.first === null || w.end === null) return { from, to, note: null };
  if (to <= w.first) return { from, to, note: null };
  if (from < w.first) {
    return {
      from,
      to: w.first,
      note: `back-fill clipped to ${iso(from)} → ${iso(w.first)}: from ${iso(w.first)} on, the sources were written already (${w.live ? 'a live run is writing' : 'an earlier run'})`,
    };
  }
  if (!w.live && from >= w.end) return { from, to, note: null };
  if (!w.live && to > w.end) {
    return {
      from: w.end,
      to,
      note: `back-fill clipped to ${iso(w.end)} → ${iso(to)}: before ${iso(w.end)} the sources were written already`,
    };
  }
  throw new MillraceError(
    'CONFIG',
    `simulate: ${iso(from)} → ${iso(to)} overlaps history already written (${iso(w.first)} → ${iso(w.end)}${w.live ? ', and a live run is writing on: a seal moved in the last 5 min' : ''}); ` +
      `back-fill before ${iso(w.first)}${w.live ? '' : ` or after ${iso(w.end)}`}`,
  );
}
