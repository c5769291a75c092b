import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createConnectorHealth } from './connector-health.ts';

describe('connector health', () => {
  it('running → retrying on a failure → stalled once failing for stallAfterMs → running on a success', () => {
    let t = 1_000;
    const h = createConnectorHealth({ stallAfterMs: 500, now: () => t });
    assert.deepEqual(h.snapshot(), { state: 'running', lastError: null, failingSince: null });
    h.fail(new Error('fetch failed'));
    assert.deepEqual(h.snapshot(), { state: 'retrying', lastError: 'fetch failed', failingSince: 1_000 });
    t = 1_400;
    h.fail(new Error('fetch failed again'));
    assert.equal(h.snapshot().failingSince, 1_000, 'the stall clock starts at the first failure of a run');
    t = 1_500;
    assert.deepEqual(h.snapshot(), { state: 'stalled', lastError: 'fetch failed again', failingSince: 1_000 });
    h.ok();
    assert.deepEqual(h.snapshot(), { state: 'running', lastError: null, failingSince: null });
  });
});
