import { test } from 'vitest';
import assert from 'node:assert/strict';
import { MillraceError } from '../lib/errors.ts';
import { abortableDeltas } from './abortable-deltas.ts';
import { createFixtureServing } from '../serving/testing/fixture-serving.ts';

const item = (metric: string) => ({ metric, bucket: 0, dims: { station: 'CUT' }, cells: [1] });

test('return() ends an idle feed at once (no delta needed) and aborts the serving read', async () => {
  const serving = createFixtureServing([]);
  const it = abortableDeltas(serving, {});
  const pending = it.next();
  await serving.waitFor(() => serving.openFeeds === 1);
  await it.return!();
  assert.deepEqual(await pending, { done: true, value: undefined });
  await serving.waitFor(() => serving.openFeeds === 0);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

test('deltas after the cursor, shaped by `keep`', async () => {
  const serving = createFixtureServing([]);
  serving.push([item('parts_exited')]);
  serving.push([item('cycle_time'), item('parts_exited')]);
  const it = abortableDeltas(serving, {
    after: '1',
    keep: (d) => ({ ...d, items: d.items.filter((i) => i.metric === 'cycle_time') }),
  });
  const r = await it.next();
  if (r.done || !('delta' in r.value)) assert.fail(`expected a delta, got ${JSON.stringify(r)}`);
  const delta = r.value.delta;
  assert.equal(delta.cursor, '2');
  assert.deepEqual(
    delta.items.map((i) => i.metric),
    ['cycle_time'],
  );
  await it.return!();
});

test('a failing feed yields one { error } event, then ends', async () => {
  const serving = createFixtureServing([]);
  const it = abortableDeltas(serving, { after: 'unknown' });
  const { value } = await it.next();
  assert.ok(value && 'error' in value && value.error instanceof MillraceError);
  assert.equal((value.error as MillraceError).code, 'CURSOR_EXPIRED');
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});
