import { it, beforeAll as before, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadFloorMap } from '../../simulator/floor.ts';
import { ensureLedger } from '../../simulator/ledger.ts';
import { createClockinWriter } from '../../simulator/sources/clockin-excel.ts';
import { createRoster } from '../../simulator/sources/clockin-roster.ts';
import type { Envelope } from '../envelope.ts';
import { createHarness, type Harness } from './excel.testkit.ts';

// The simulator's clock-in writer read by the excel connector: after every rewrite, the signed
// events sum to exactly the writer's ledger (attendance, absences, minutes worked).
const H = 3_600_000;
const START = Date.UTC(2026, 2, 10, 6);
let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => h.cleanup());

/** What the workforce metrics would sum from the events, keyed like the ledger's facts. */
function fromEvents(es: Envelope[]): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, v: number) => out.set(k, (out.get(k) ?? 0) + v);
  for (const { eventTime: t, payload: p } of es) {
    const sign = Number(p.sign);
    if (p.present === 'yes') {
      add(`attendance|${t}|${p.department}|${p.shift}`, sign);
      if (p.minutesWorked !== null) {
        add(`minutes_worked|${t}|${p.department}|${p.shift}`, sign * Number(p.minutesWorked));
        add(`worker_minutes|${t}|${p.employeeId}|${p.department}`, sign * Number(p.minutesWorked));
      }
    } else if (p.present === 'no') {
      add(`absences|${t}|${p.absenceReason}|`, sign);
      add(`absent_by_department|${t}|${p.department}|${p.shift}`, sign);
    }
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

it('clock-in writer → excel connector: signed events equal the ledger after every rewrite', async () => {
  const ledgerSchema = `${h.schema}_ledger`;
  await ensureLedger(h.pool, ledgerSchema);
  try {
    const floor = loadFloorMap();
    const w = createClockinWriter({
      seed: 5,
      startTime: START,
      dataDir: h.dir,
      floor,
      pool: h.pool,
      ledgerSchema,
      faultRate: 3,
      log: () => undefined,
      openTopic: () => {
        throw new Error('no topic');
      },
    });
    const ledger = async () => {
      const r = await h.pool.query(
        `SELECT fact, minute::text, station, error_code, sum(value)::int AS v FROM ${ledgerSchema}.facts GROUP BY 1, 2, 3, 4 HAVING sum(value) <> 0`,
      );
      return new Map(r.rows.map((x) => [`${x.fact}|${x.minute}|${x.station}|${x.error_code}`, x.v]));
    };
    for (let t = START + 8 * H; t <= START + 3 * 24 * H; t += 8 * H) {
      await w.advanceTo(t);
      await h.catchUp('clockin', { directory: join(h.dir, 'clockin') });
      assert.deepEqual(fromEvents(await h.envelopes()), await ledger(), `at ${new Date(t).toISOString()}`);
    }
    const faults = w.stats().faults;
    assert.ok(
      faults.corrected > 0 && faults.deleted > 0 && faults.renamed_column > 0 && faults.malformed > 0,
      JSON.stringify(faults),
    );
    const dead = await h.deadLetters('clockin');
    assert.ok(
      dead.length >= 1 && dead.every((d) => /^clockin-\d{4}-\d\d-\d\d\.xlsx#row\d+@[0-9a-f]{8}$/.test(d.position)),
      JSON.stringify(dead.slice(0, 3)),
    );
    // Names leave the sheet only in `worker` entities, and those are the ledger's exactly.
    const events = await h.envelopes();
    const text = JSON.stringify(events.filter((e) => e.type !== 'entity.upsert')) + JSON.stringify(dead);
    for (const e of createRoster(floor, 5)) assert.ok(!text.includes(e.name), `${e.name} stays out of row events`);
    const served = new Map<string, unknown>();
    const versions = new Map<string, string>();
    for (const e of events.filter((x) => x.type === 'entity.upsert')) {
      assert.equal(e.payload.entity, 'worker');
      const key = String(e.payload.key);
      const version = String(e.payload.version);
      const [t, c] = version.split(':');
      const [pt, pc] = (versions.get(key) ?? '0:').split(':');
      if (Number(t) > Number(pt) || (t === pt && c > pc)) {
        versions.set(key, version);
        served.set(key, e.payload.data);
      }
    }
    const ledgerWorkers = await h.pool.query<{ key: string; data: unknown }>(
      `SELECT key, data FROM ${ledgerSchema}.entities WHERE entity = 'worker' ORDER BY key`,
    );
    assert.ok(ledgerWorkers.rows.length > 50, `workers in the ledger: ${ledgerWorkers.rows.length}`);
    assert.deepEqual(
      new Map([...served].sort(([a], [b]) => (a < b ? -1 : 1))),
      new Map(ledgerWorkers.rows.map((r) => [r.key, r.data])),
    );
  } finally {
    await h.pool.query(`DROP SCHEMA IF EXISTS ${ledgerSchema} CASCADE`);
  }
});

it('a live start mid-shift: the export with open rows, then the shift end, equal the ledger through the connector', async () => {
  const h2 = await createHarness();
  const ledgerSchema = `${h2.schema}_ledger`;
  await ensureLedger(h2.pool, ledgerSchema);
  try {
    const liveAt = Date.UTC(2026, 2, 10, 23, 41); // shift C of the 10th, with a day of history before it
    const w = createClockinWriter({
      seed: 7,
      startTime: liveAt - 24 * H,
      liveStart: liveAt,
      dataDir: h2.dir,
      floor: loadFloorMap(),
      pool: h2.pool,
      ledgerSchema,
      faultRate: 1,
      log: () => undefined,
      openTopic: () => {
        throw new Error('no topic');
      },
    });
    const ledger = async () => {
      const r = await h2.pool.query(
        `SELECT fact, minute::text, station, error_code, sum(value)::int AS v FROM ${ledgerSchema}.facts GROUP BY 1, 2, 3, 4 HAVING sum(value) <> 0`,
      );
      return new Map(r.rows.map((x) => [`${x.fact}|${x.minute}|${x.station}|${x.error_code}`, x.v]));
    };
    for (const t of [liveAt, Date.UTC(2026, 2, 11, 6), Date.UTC(2026, 2, 11, 14)]) {
      await w.advanceTo(t);
      await h2.catchUp('clockin', { directory: join(h2.dir, 'clockin') });
      const events = await h2.envelopes();
      assert.deepEqual(fromEvents(events), await ledger(), `at ${new Date(t).toISOString()}`);
      if (t === liveAt) {
        const open = events.filter(
          (e) => e.payload.shift === 'C' && e.payload.present === 'yes' && e.payload.minutesWorked === null,
        );
        assert.ok(open.length > 20, `shift C on the sheet at once, open: ${open.length}`);
        assert.ok((await h2.deadLetters('clockin')).length >= 1, 'the day before holds malformed rows');
      }
    }
  } finally {
    await h2.pool.query(`DROP SCHEMA IF EXISTS ${ledgerSchema} CASCADE`);
    await h2.cleanup();
  }
});
