import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createLoop } from './loop.ts';

/** A promise and its resolver, to step a loop pass by pass without timers. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('createLoop', () => {
  it('runs again at once while a pass reports more, then pauses until kicked', async () => {
    const results = [true, true, false, false];
    let passes = 0;
    let paused = gate();
    const loop = createLoop({
      intervalMs: 3_600_000,
      tick: async () => {
        const more = results[passes++] ?? false;
        if (!more) paused.open();
        return more;
      },
    });
    loop.start();
    await paused.opened;
    assert.equal(passes, 3, 'two passes with more, then one that caught up');
    paused = gate();
    loop.kick();
    await paused.opened;
    assert.equal(passes, 4, 'a kick ends the pause (an hour long here)');
    assert.equal(loop.running, true);
    await loop.stop();
    assert.equal(loop.running, false);
  });

  it('reports a failed pass and keeps going', async () => {
    const errors: unknown[] = [];
    let passes = 0;
    const done = gate();
    const loop = createLoop({
      intervalMs: 3_600_000,
      backoff: { minMs: 1, maxMs: 2 },
      onError: (err) => errors.push(err),
      tick: async () => {
        passes++;
        if (passes <= 3) throw new Error(`pass ${passes}`);
        done.open();
        return false;
      },
    });
    loop.start();
    await done.opened; // with back-off (1-2 ms) instead of the hour-long interval after each failure
    await loop.stop();
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['pass 1', 'pass 2', 'pass 3'],
    );
  });

  it('stop() waits for the pass under way and no pass starts after it', async () => {
    const inPass = gate();
    const release = gate();
    let passes = 0;
    const loop = createLoop({
      intervalMs: 0,
      tick: async () => {
        passes++;
        inPass.open();
        await release.opened;
        return true;
      },
    });
    loop.start();
    loop.start(); // idempotent
    await inPass.opened;
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await Promise.resolve();
    assert.equal(stopped, false, 'still in the pass');
    release.open();
    await stopping;
    assert.equal(passes, 1);
  });
});
