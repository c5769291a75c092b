import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createFactory } from './factory.ts';
import type { SourceWriter } from './sources/source-writer.ts';

/** A writer that records every call and can be made slow or failing. */
function fakeWriter(name: string, opts: { delayMs?: number; failAt?: number } = {}) {
  const calls: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let closed = 0;
  let failAt = opts.failAt;
  const w: SourceWriter & { calls: number[]; readonly maxInFlight: number; readonly closed: number } = {
    name,
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    get closed() {
      return closed;
    },
    async advanceTo(t) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        if (failAt !== undefined && t >= failAt) {
          failAt = undefined;
          throw new Error(`${name} down`);
        }
        calls.push(t);
      } finally {
        inFlight--;
      }
    },
    stats: () => ({ written: calls.length, faults: {} }),
    async close() {
      closed++;
    },
  };
  return w;
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]);
const T0 = Date.UTC(2026, 0, 1);

describe('factory driver', () => {
  it('runUntil advances every writer monotonically to exactly t, in steps growing from a minute to an hour', async () => {
    const a = fakeWriter('a');
    const b = fakeWriter('b', { delayMs: 1 });
    const f = createFactory({ writers: [a, b], startTime: T0 });
    const seen: number[] = [];
    const END = T0 + 3 * 86_400_000;
    await f.runUntil(END, (c) => seen.push(c));
    for (const w of [a, b]) {
      assert.ok(increasing(w.calls) && new Set(w.calls).size === w.calls.length, `${w.name} strictly increasing`);
      assert.equal(w.calls.at(-1), END);
      assert.equal(w.calls[0], T0 + 60_000);
      const steps = w.calls.map((t, i) => t - (i === 0 ? T0 : w.calls[i - 1]));
      assert.ok(steps.slice(0, -1).every((s) => s >= 60_000 && s <= 3_600_000));
      assert.ok(steps.filter((s) => s === 3_600_000).length > 48, 'quick writers get hour steps');
      assert.equal(w.maxInFlight, 1);
    }
    // Progress is the slowest writer's clock: increasing, never ahead of any writer, ending at t.
    assert.ok(increasing(seen) && seen.at(-1) === END);
    assert.equal(f.clock, END);
    // Asking for the past moves nothing backwards.
    await f.runUntil(T0);
    assert.equal(a.calls.at(-1), END);
    assert.equal(f.clock, END);
  });

  it('a failing writer fails the step after every writer settled; the next run resumes', async () => {
    const ok = fakeWriter('ok', { delayMs: 5 });
    const bad = fakeWriter('bad', { failAt: T0 + 10 * 60_000 });
    const f = createFactory({ writers: [ok, bad], startTime: T0 });
    await assert.rejects(f.runUntil(T0 + 3_600_000), /bad down/);
    assert.equal(ok.maxInFlight, 1);
    assert.ok(f.clock! < T0 + 10 * 60_000, "the clock is the failed writer's");
    await f.runUntil(T0 + 3_600_000);
    assert.equal(ok.calls.at(-1), T0 + 3_600_000);
    assert.equal(bad.calls.at(-1), T0 + 3_600_000);
    assert.ok(increasing(bad.calls) && increasing(ok.calls));
  });

  it('live: every tick advances all writers to now(), never backwards, and stop closes them', async () => {
    const a = fakeWriter('a');
    const b = fakeWriter('b');
    let now = T0;
    const f = createFactory({ writers: [a, b], now: () => now, tickMs: 5 });
    f.start();
    const deadline = Date.now() + 5_000;
    for (const t of [T0 + 1_000, T0 + 500, T0 + 9_000]) {
      now = t;
      while (a.calls.at(-1) !== Math.max(...a.calls, t) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 2));
    }
    while ((a.calls.at(-1) ?? 0) < T0 + 9_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    await assert.rejects(f.runUntil(T0 + 20_000), /live loop/);
    await f.stop();
    assert.ok(increasing(a.calls) && increasing(b.calls));
    assert.equal(a.calls.at(-1), T0 + 9_000);
    assert.ok(!a.calls.includes(T0 + 500), 'the clock never moves back');
    assert.equal(a.closed, 1);
    assert.equal(b.closed, 1);
  });
});
