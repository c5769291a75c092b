import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { FAULT_KINDS } from '../scripts/chaos/chaos-faults.ts';
import { runChaos } from '../scripts/chaos/run-chaos.ts';
import { ROOT } from './harness.ts';

// The short chaos run (`npm run chaos` is the long one): a split deployment on the real services,
// every fault kind injected once at a seeded random moment, then verify. Kafka is paused, not
// restarted, and Postgres sessions are terminated, not the server restarted: other deployments
// share both (`--kafka-restart` / `--pg-restart` of `npm run chaos` do the real thing).
describe('chaos (short): every role killed, stores wiped, paused and starved, nothing lost', () => {
  it('survives every fault kind and verifies at zero mismatches', { timeout: 1_800_000 }, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const r = await runChaos({
      root: ROOT,
      services: {
        databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        kafkaBrokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
        mariadbUrl: process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test',
      },
      seed,
      rate: 300,
      speed: 10,
      durationMs: 0,
      minGapMs: 1000,
      maxGapMs: 3000,
      quiesceMs: 10_000,
      verifyRanges: 6,
      slice: 200,
      outDir: path.join(tmpdir(), `millrace-chaos-${seed}`),
      fault: { holdMs: 3000, kafkaRestart: false, pgRestart: false },
    });
    const report = JSON.stringify(r.faults, null, 1);
    assert.deepEqual(
      new Set(r.faults.map((f) => f.kind)),
      new Set(FAULT_KINDS),
      `every kind injected (seed ${seed}): ${report}`,
    );
    for (const f of r.faults) {
      assert.equal(f.error, undefined, `${f.kind} could not be injected (seed ${seed}): ${f.error}`);
      assert.ok(f.evidence.length > 0, `${f.kind} left evidence that it bit`);
      assert.notEqual(
        f.recoveryMs,
        null,
        `${f.kind}: the pipeline never recovered (seed ${seed}; logs in ${r.reportFile})`,
      );
    }
    assert.equal(r.verify.mismatches, 0, `verify (seed ${seed}): ${JSON.stringify(r.verify)}`);
    assert.equal(r.verify.code, 0, r.verify.stderr);
    assert.ok(r.verify.checked > 0, 'verify compared something');
    assert.ok(r.verify.bySource.machining?.checked > 0, 'machining facts compared');
  });
});
