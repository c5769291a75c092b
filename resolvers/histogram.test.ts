import { test } from 'vitest';
import assert from 'node:assert/strict';
import { histogramFromCells, percentileBound } from './histogram.ts';

const BOUNDS = [10, 20, 30];

test('bounds, counts, count, sum and mean come from the cells', () => {
  const h = histogramFromCells(BOUNDS, [6, 90, 1, 2, 3, 0]);
  assert.deepEqual(h, { bounds: BOUNDS, counts: [1, 2, 3, 0], count: 6, sum: 90, mean: 15, p50: 20, p95: 30, p99: 30 });
});

test('a percentile is the upper bound of the bucket holding its nearest rank', () => {
  const counts = [1, 1, 1, 1];
  assert.equal(percentileBound(BOUNDS, counts, 0.25), 10); // rank 1
  assert.equal(percentileBound(BOUNDS, counts, 0.5), 20); // rank 2
  assert.equal(percentileBound(BOUNDS, counts, 0.51), 30); // rank 3
  assert.equal(percentileBound(BOUNDS, counts, 0.99), null); // rank 4: the open bucket above 30
  assert.equal(percentileBound(BOUNDS, [0, 0, 5, 0], 0.01), 30, 'empty buckets are skipped');
});

test('empty histograms have no mean and no percentiles', () => {
  const h = histogramFromCells(BOUNDS, [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([h.mean, h.p50, h.p95, h.p99], [null, null, null, null]);
});
