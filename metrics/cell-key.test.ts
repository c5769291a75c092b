import { test } from 'vitest';
import assert from 'node:assert/strict';
import { cellField, parseCellField, parseStateKey, stateKey } from './cell-key.ts';

test('the cell-key codec round-trips buckets, dimensions (empty ones too) and cell indexes', () => {
  for (const dims of [[], ['DIE'], ['DIE', ''], ['', 'E12', 'x y']]) {
    const key = stateKey(1_764_000_000_000, dims);
    assert.deepEqual(parseStateKey(key), { bucket: 1_764_000_000_000, dims });
    assert.deepEqual(parseCellField(cellField(key, 7)), { bucket: 1_764_000_000_000, dims, cell: 7 });
  }
  // A state key without dimensions is the bucket alone (what the speed layer has always stored).
  assert.equal(stateKey(60_000, []), '60000');
});
