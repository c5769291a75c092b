import { it } from 'vitest';
import assert from 'node:assert/strict';
import { loadConfig } from './config.ts';

it('applies defaults with nothing configured', () => {
  const c = loadConfig({});
  assert.equal(c.PORT, 4000);
  assert.equal(c.DATABASE_URL, undefined);
  assert.equal(c.MILLRACE_PARTITIONS, 4);
});

it('rejects a bad value naming the variable', () => {
  assert.throws(() => loadConfig({ PORT: 'forty' }), /PORT="forty"/);
  assert.throws(() => loadConfig({ DATABASE_URL: 'not a url' }), /DATABASE_URL/);
  assert.throws(() => loadConfig({ MILLRACE_SCHEMA: 'Robert; DROP' }), /MILLRACE_SCHEMA/);
});

it('reads on/off switches as words or digits', () => {
  assert.equal(loadConfig({}).SIM_MACHINING_THREAD, true);
  assert.equal(loadConfig({ SIM_MACHINING_THREAD: '0' }).SIM_MACHINING_THREAD, false);
  assert.equal(loadConfig({ SIM_MACHINING_THREAD: 'off' }).SIM_MACHINING_THREAD, false);
  assert.throws(() => loadConfig({ SIM_MACHINING_THREAD: 'maybe' }), /SIM_MACHINING_THREAD="maybe"/);
});
