import { test } from 'vitest';
import assert from 'node:assert/strict';
import { undocumented } from './undocumented.ts';
import { SUBGRAPH_NAMES } from '../subgraphs/registry.ts';

// GraphiQL's Docs pane is the API's reference: every type and field of every subgraph says what it is.
for (const name of SUBGRAPH_NAMES) {
  test(`every type and field of the ${name} subgraph has a description`, () => {
    assert.deepEqual(undocumented(name), []);
  });
}
