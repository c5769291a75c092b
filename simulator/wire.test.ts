import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { createRng } from './prng.ts';
import { isoMs, toWire, type MachiningEvent } from './wire.ts';

/** The wire value as `JSON.stringify` of an object writes it: the contract `toWire` must keep byte for byte. */
const reference = (ev: MachiningEvent): string =>
  JSON.stringify({
    eventId: ev.eventId,
    kind: ev.kind,
    partId: ev.partId,
    station: ev.station,
    machine: ev.machine,
    operator: ev.operator,
    at: new Date(ev.at).toISOString(),
    nextStation: ev.nextStation,
    errorCode: ev.errorCode,
    cycleTimeMs: ev.cycleTimeMs,
  });

describe('machining wire format', () => {
  const rng = createRng(7);
  const text = () =>
    ['BND', 'E0042', 'a"quote', 'back\\slash', 'tab\there', 'ünï €', '\u0001ctl', '', 'line\nbreak'][rng.int(0, 8)];

  it('toWire writes exactly what JSON.stringify of the event object writes (random events, awkward strings, nulls)', () => {
    let t = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 20_000; i++) {
      t += rng.int(0, 5_000);
      const exit = rng.chance(0.5);
      const ev: MachiningEvent = {
        eventId: `m1.${i.toString(36)}${text()}`,
        kind: exit ? 'exit' : 'enter',
        partId: `P${text()}`,
        station: text(),
        machine: text(),
        operator: text(),
        at: rng.chance(0.05) ? t - rng.int(0, 300_000) : t,
        nextStation: exit && rng.chance(0.8) ? text() : null,
        errorCode: exit && rng.chance(0.1) ? text() : null,
        cycleTimeMs: exit ? rng.int(0, 400_000) : null,
      };
      const w = toWire(ev);
      assert.equal(w.value, reference(ev));
      assert.equal(w.key, ev.partId);
      assert.deepEqual(JSON.parse(w.value), JSON.parse(reference(ev)));
    }
  });

  it('isoMs equals Date#toISOString at the edges and on random times, in any order', () => {
    const edges = [
      0,
      1,
      59_999,
      60_000,
      60_001,
      999,
      1_000,
      9_999,
      10_000,
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10_000, 0, 1),
      -1,
      -60_001,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      0.5,
      1e15,
    ];
    for (const t of edges) assert.equal(isoMs(t), new Date(t).toISOString(), String(t));
    for (let i = 0; i < 50_000; i++) {
      // Jumps back and forth across minutes exercise the one-entry cache.
      const t = rng.chance(0.5) ? Date.UTC(2026, 0, 1) + rng.int(0, 3 * 60_000) : rng.int(0, Date.UTC(2100, 0, 1));
      assert.equal(isoMs(t), new Date(t).toISOString(), String(t));
    }
    assert.throws(() => isoMs(Number.NaN), RangeError);
  });
});
