import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFloorMap } from './floor.ts';

describe('floor map', () => {
  it('lists the MyCPU line in flow order, then the side rooms without machines', () => {
    const floor = loadFloorMap();
    assert.deepEqual(
      floor.stations.map((s) => s.id),
      ['RCV', 'INS', 'DIE', 'BND', 'ENC', 'CUR', 'BRN', 'TST', 'REW', 'MRK', 'PKG', 'SHP', 'TCR', 'MNT'],
    );
    const byId = new Map(floor.stations.map((s) => [s.id, s]));
    assert.deepEqual(byId.get('DIE')!.machines, ['DIE-1', 'DIE-2']);
    assert.deepEqual(byId.get('BND')!.machines, ['BND-1', 'BND-2']);
    assert.deepEqual(byId.get('MNT')!.machines, []);
    assert.equal(byId.get('BRN')!.department, 'Thermal');
    assert.ok(floor.stations.every((s) => Number.isFinite(s.x) && Number.isFinite(s.y) && s.zone.length > 0));
  });

  it('names the file and the field when the map is invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'floor-'));
    const bad = join(dir, 'floor.json');
    writeFileSync(
      bad,
      JSON.stringify({
        stations: [{ id: 'RCV', name: 'x', zone: 'Z1', department: 'L', x: 'left', y: 0, machines: [] }],
      }),
    );
    assert.throws(
      () => loadFloorMap(bad),
      (err: Error) => err.message.startsWith(`floor map ${bad}: stations.0.x:`),
    );
    writeFileSync(
      bad,
      JSON.stringify({
        stations: [{ id: 'RCV', name: 'x', zone: 'Z1', department: 'L', x: 0, y: 0, machines: ['M', 'M'] }],
      }),
    );
    assert.throws(() => loadFloorMap(bad), /duplicate station or machine id M/);
  });
});
