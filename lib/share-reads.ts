import { beforeDeadline } from './deadline.ts';

/** How many reads ran and how many questions were answered by a read another question started. */
export interface SharedReadStats {
  /** Reads run (each one store read of the batch and the speed layers). */
  reads: number;
  /** Questions answered by a read that another, identical question had started. */
  shared: number;
}

export interface SharedReads<Q, T> {
  /** The answer to `q` (whose identity is `key`), from a read that started after this call. */
  read(key: string, q: Q, deadline: number | undefined): Promise<T>;
  stats(): SharedReadStats;
}

interface Group<Q, T> {
  q: Q;
  /** The latest deadline of its members; undefined once one of them has none. */
  deadline: number | undefined;
  promise: Promise<T>;
  start: () => void;
}

/**
 * Identical questions asked at the same time share one read: a dashboard shown on many screens
 * asks the same questions at the same moments, and at each data version change every one of them
 * misses the gateway's response cache together.
 *
 * A question never joins the read that is already running when it arrives: that read may have
 * taken its snapshot before the question was asked, and could miss data committed in between (an
 * answer older than one the caller may already have seen). It waits for the NEXT read instead,
 * which starts when the running one ends and answers every question that arrived meanwhile. So
 * each answer is as fresh as a read of its own would be, and one question runs at most two reads
 * at a time, however many ask it. The cost is latency: a question that finds a read running waits
 * for the rest of it before its own starts.
 *
 * Each member keeps its own deadline (it stops waiting at it); the shared read runs until the
 * latest one. Libraries that coalesce promises (DataLoader, p-memoize and the like) join the read
 * already running, or only batch within one tick, which is why this is written here.
 */
export function createSharedReads<Q, T>(run: (q: Q, deadline: number | undefined) => Promise<T>): SharedReads<Q, T> {
  // A key is present while a read of it runs; `next` gathers the questions that arrived meanwhile.
  const flights = new Map<string, { next: Group<Q, T> | null }>();
  const stats: SharedReadStats = { reads: 0, shared: 0 };

  const launch = (key: string, flight: { next: Group<Q, T> | null }, q: Q, deadline: number | undefined) => {
    stats.reads++;
    const done = () => {
      const next = flight.next;
      if (next) {
        flight.next = null;
        next.start();
      } else flights.delete(key);
    };
    const p = run(q, deadline);
    p.then(done, done);
    return p;
  };

  return {
    read(key, q, deadline) {
      const flight = flights.get(key);
      if (!flight) {
        const f: { next: Group<Q, T> | null } = { next: null };
        flights.set(key, f);
        return launch(key, f, q, deadline);
      }
      let g = flight.next;
      if (!g) {
        let start!: () => void;
        const group: Group<Q, T> = {
          q,
          deadline,
          start: () => start(),
          promise: new Promise<T>((resolve, reject) => {
            start = () => launch(key, flight, group.q, group.deadline).then(resolve, reject);
          }),
        };
        // Members may all have given up (their deadlines) before it ends: nobody else awaits it.
        group.promise.catch(() => undefined);
        flight.next = g = group;
      } else {
        stats.shared++;
        if (g.deadline !== undefined) g.deadline = deadline === undefined ? undefined : Math.max(g.deadline, deadline);
      }
      const promise = g.promise;
      return beforeDeadline(() => promise, deadline);
    },
    stats: () => ({ ...stats }),
  };
}
