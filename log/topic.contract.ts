import { afterAll as after, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { partitionFor, type ConsumeOptions, type Topic, type TopicBatch, type TopicRecord } from './topic.ts';

/** Makes (not ensures) a topic; the suite calls `ensure()` and `close()`. */
export type MakeTopic = (topicName: string, partitions: number) => Promise<Topic>;

/** Polls `cond` until true; fails with `what` after `ms`. The readiness check of every test. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A consumer with its own offset store (the truth), as the loader and the connectors have. */
function collector(topic: Topic, group: string, opts: { from?: number[]; failFirst?: number; maxBatch?: number } = {}) {
  const store = [...(opts.from ?? new Array<number>(topic.partitions).fill(0))];
  const got: TopicRecord[] = [];
  const batches: TopicBatch[] = [];
  const rejected: TopicBatch[] = [];
  let failures = opts.failFirst ?? 0;
  const options: ConsumeOptions = {
    group,
    maxBatch: opts.maxBatch,
    startOffset: async (p) => store[p],
    onBatch: async (batch) => {
      if (failures > 0) {
        failures--;
        rejected.push(batch);
        throw new Error('injected failure');
      }
      batches.push(batch);
      got.push(...batch.records);
      store[batch.partition] = batch.records[batch.records.length - 1].offset + 1;
    },
  };
  return { store, got, batches, rejected, start: () => topic.consume(options) };
}

const byPartition = (rs: TopicRecord[], p: number) =>
  rs.filter((r) => r.partition === p).map((r) => `${r.offset}:${r.key}:${r.value}`);

/** The one contract every `Topic` implementation must pass. */
export function topicContract(name: string, makeTopic: MakeTopic): void {
  describe(`Topic contract: ${name}`, { timeout: 180_000 }, () => {
    const run = randomBytes(4).toString('hex');
    const open: Topic[] = [];
    let n = 0;
    async function fresh(partitions = 3): Promise<Topic> {
      const t = await makeTopic(`contract-${run}-${++n}`, partitions);
      open.push(t);
      await t.ensure();
      return t;
    }
    const records = (count: number, prefix = 'v') =>
      Array.from({ length: count }, (_, i) => ({ key: `machine-${i % 7}`, value: `${prefix}${i}` }));
    after(() => Promise.all(open.map((t) => t.close())));

    it('ensure is idempotent and refuses another partition count', async () => {
      const t = await fresh(3);
      await t.ensure();
      assert.deepEqual(await t.endOffsets(), [0, 0, 0]);
      const other = await makeTopic(t.name, 5);
      open.push(other);
      await assert.rejects(other.ensure(), /partitions/);
    });

    it('publish returns partitionFor partitions and contiguous offsets in input order', async () => {
      const t = await fresh(3);
      const first = records(20);
      const pos = [...(await t.publish(first)), ...(await t.publish(records(10, 'w')))];
      const keys = [...first, ...records(10)].map((r) => r.key);
      const seen = [0, 0, 0];
      pos.forEach((x, i) => {
        assert.equal(x.partition, partitionFor(keys[i], 3));
        assert.equal(x.offset, seen[x.partition]++);
      });
      assert.deepEqual(await t.endOffsets(), seen);
      assert.deepEqual(await t.publish([]), []);
    });

    it('consume from 0 delivers everything once, in per-partition order', async () => {
      const t = await fresh(3);
      const pos = await t.publish(records(50));
      const c = collector(t, `g-${run}-all`);
      const sub = await c.start();
      await waitFor('50 records', () => c.got.length >= 50);
      await sub.stop();
      for (let p = 0; p < 3; p++) {
        const want = records(50)
          .filter((_, i) => pos[i].partition === p)
          .map((r, i) => `${i}:${r.key}:${r.value}`);
        assert.deepEqual(byPartition(c.got, p), want);
      }
      const now = Date.now();
      for (const r of c.got) assert.ok(Math.abs(r.timestamp - now) < 120_000, `timestamp ${r.timestamp}`);
    });

    it('consume starts at startOffset(p), skipping earlier records', async () => {
      const t = await fresh(2);
      await t.publish(records(40));
      const ends = await t.endOffsets();
      const c = collector(t, `g-${run}-later`, { from: [2, 3] });
      const sub = await c.start();
      await waitFor('the records after startOffset', () => c.got.length >= ends[0] - 2 + ends[1] - 3);
      await sub.stop();
      assert.equal(c.got.length, ends[0] - 2 + ends[1] - 3);
      assert.equal(byPartition(c.got, 0)[0].split(':')[0], '2');
      assert.equal(byPartition(c.got, 1)[0].split(':')[0], '3');
    });

    it('a rejected batch is delivered again: no loss, no reordering', async () => {
      const t = await fresh(1);
      await t.publish(records(30));
      const c = collector(t, `g-${run}-fail`, { failFirst: 2, maxBatch: 10 });
      const sub = await c.start();
      await waitFor('30 records after 2 failures', () => c.got.length >= 30);
      await sub.stop();
      assert.equal(c.rejected.length, 2);
      assert.equal(c.rejected[0].records[0].offset, 0);
      assert.equal(c.batches[0].records[0].offset, 0, 'the failed records come again first');
      assert.deepEqual(
        c.got.map((r) => r.offset),
        Array.from({ length: 30 }, (_, i) => i),
      );
    });

    it('stop, then consume from what was processed: no gap, no overlap; the store beats the hint', async () => {
      const t = await fresh(2);
      const group = `g-${run}-resume`;
      await t.publish(records(20));
      const a = collector(t, group);
      const subA = await a.start();
      await waitFor('first 20', () => a.got.length >= 20);
      await subA.stop();
      await t.publish(records(15, 'late'));
      const b = collector(t, group, { from: a.store });
      const subB = await b.start();
      await waitFor('the 15 new ones', () => b.got.length >= 15);
      await subB.stop();
      assert.deepEqual(
        [...a.got, ...b.got].map((r) => r.value).sort(),
        [...records(20), ...records(15, 'late')].map((r) => r.value).sort(),
      );
      assert.deepEqual(b.store, await t.endOffsets());
      // Same group, store says 0: everything again, although the topic's hint says "done".
      const c = collector(t, group);
      const subC = await c.start();
      await waitFor('all 35 again', () => c.got.length >= 35);
      await subC.stop();
      assert.equal(c.got.length, 35);
    });

    it('two groups each see everything', async () => {
      const t = await fresh(3);
      await t.publish(records(30));
      const [x, y] = [collector(t, `g-${run}-x`), collector(t, `g-${run}-y`)];
      const subs = await Promise.all([x.start(), y.start()]);
      await waitFor('both groups at 30', () => x.got.length >= 30 && y.got.length >= 30);
      await Promise.all(subs.map((s) => s.stop()));
      for (let p = 0; p < 3; p++) assert.deepEqual(byPartition(x.got, p), byPartition(y.got, p));
      assert.equal(x.got.length, 30);
    });

    it('respects maxBatch, with consecutive batches', async () => {
      const t = await fresh(1);
      await t.publish(records(25));
      const c = collector(t, `g-${run}-max`, { maxBatch: 4 });
      const sub = await c.start();
      await waitFor('25 records', () => c.got.length >= 25);
      await sub.stop();
      let expect = 0;
      for (const b of c.batches) {
        assert.ok(b.records.length >= 1 && b.records.length <= 4, `batch of ${b.records.length}`);
        for (const r of b.records) assert.equal(r.offset, expect++);
      }
    });

    it('round-trips unicode, newlines and long values', async () => {
      const t = await fresh(2);
      const values = [
        'línea 1\nline 2\r\n\ttab',
        'Größe ✓ 🏭 — 漢字',
        '{"json":"with \\"quotes\\" and \\\\ slashes"}',
        'x'.repeat(100_000),
        '',
      ];
      const input = values.map((value, i) => ({ key: `ключ-${i}-🔑`, value }));
      await t.publish(input);
      const c = collector(t, `g-${run}-utf`);
      const sub = await c.start();
      await waitFor('5 records', () => c.got.length >= 5);
      await sub.stop();
      assert.deepEqual(c.got.map((r) => [r.key, r.value]).sort(), input.map((r) => [r.key, r.value]).sort());
    });
  });
}
