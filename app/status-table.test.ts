import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { formatStatusTable } from './status-table.ts';

describe('status table', () => {
  it('shows modules, one row per connector and one per partition, aligned', () => {
    const now = Date.UTC(2026, 11, 5, 12);
    const text = formatStatusTable(
      {
        mode: { postgres: 'embedded', log: 'postgres-table', speed: 'memory' },
        modules: { store: true, ingest: true, gateway: false },
        connectors: [
          {
            name: 'machining',
            kind: 'kafka',
            events: 12345,
            deadLetters: 0,
            lag: 3,
            lastCheckpointAt: now - 1500,
            lastError: null,
            state: 'running',
          },
          {
            name: 'tools',
            kind: 'rest-poll',
            events: 7,
            deadLetters: 12,
            lag: null,
            lastCheckpointAt: null,
            lastError: 'fetch failed',
            state: 'stalled',
          },
        ],
        log: { endOffsets: [1201, 9] },
        loader: { offsets: [1200, 9] },
        speed: { offsets: [1200, null] },
        batch: { offsets: [1000, 0], refreshedAt: now - 900, maxEventTime: now - 60_000 },
      },
      now,
    );
    const lines = text.split('\n');
    assert.equal(lines[0], 'mode: postgres embedded, log postgres-table, speed memory');
    assert.equal(lines[1], 'modules: 2/3 ready (not ready: gateway)');
    const header = lines.find((l) => l.startsWith('connector'))!;
    const machining = lines.find((l) => l.startsWith('machining'))!;
    const tools = lines.find((l) => l.startsWith('tools'))!;
    // Numbers end in the same column as their header.
    const end = (l: string, word: string | number) => l.indexOf(String(word)) + String(word).length;
    assert.equal(end(machining, 12345), end(header, 'events'));
    assert.equal(end(tools, ' 7 '), end(machining, '12345 '));
    assert.match(machining, /1\.5 s ago/);
    assert.match(tools, /—\s+fetch failed$/);
    assert.match(tools, /^tools\s+rest-poll\s+stalled\s/);
    assert.match(machining, /^machining\s+kafka\s+running\s/);
    assert.ok(
      lines.some((l) => /^\s*1\s+9\s+9\s+—\s+0$/.test(l)),
      'partition 1: speed not started',
    );
    assert.match(text, /batch: refreshed 0\.9 s ago, newest event folded 2026-12-05T11:59:00.000Z/);
  });

  it('names the speed applier working each partition when the deployment has several', () => {
    const text = formatStatusTable({
      loader: { offsets: [10, 20, 30] },
      speed: { offsets: [10, 20, 30], appliers: { members: 2, holders: ['host-a', 'host-b', null] } },
    });
    const lines = text.split('\n').filter(Boolean);
    assert.match(lines[0], /speed applier$/);
    assert.match(lines[1], /^\s*0\s+—\s+10\s+10\s+—\s+host-a$/);
    assert.match(lines[2], /host-b$/);
    assert.match(lines[3], /—$/, 'a partition no applier holds');
  });

  it('prints what a partial document has (a gateway alone knows no connectors)', () => {
    assert.equal(formatStatusTable({ modules: { gateway: true } }), 'modules: 1/1 ready');
  });
});
