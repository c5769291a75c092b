import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { loadConfig } from './config.ts';
import { startTarget } from './modules.ts';

// A port nothing listens on: a target that got as far as connecting would fail differently.
const DATABASE_URL = 'postgres://nobody@127.0.0.1:1/none';

describe('startTarget of a split role', () => {
  // The gateway reads the speed offsets for its response cache (on by default).
  for (const target of ['speed', 'subgraph:production', 'gateway']) {
    it(`refuses ${target} without REDIS_URL (a memory speed store is seen by no other process)`, async () => {
      await assert.rejects(
        startTarget(loadConfig({ DATABASE_URL }), target, () => undefined),
        /--target .* reads or writes the speed layer.*set REDIS_URL/,
      );
    });
  }

  it('lets a gateway without the response cache start without REDIS_URL: it gets as far as its subgraphs', async () => {
    await assert.rejects(
      startTarget(loadConfig({ DATABASE_URL, MILLRACE_RESPONSE_CACHE: 'off' }), 'gateway', () => undefined),
      /the gateway needs subgraphs/,
    );
  });

  it('lets a loader start without REDIS_URL (it needs none): it gets as far as Postgres', async () => {
    await assert.rejects(
      startTarget(loadConfig({ DATABASE_URL }), 'loader', () => undefined),
      (err: Error) => {
        assert.doesNotMatch(err.message, /REDIS_URL/);
        return true;
      },
    );
  });
});
