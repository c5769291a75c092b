import { Command } from 'commander';
import { loadConfig, configTable, type Config } from './config.ts';
import { runtimeInfo, waitForCatchUp, fetchStatus, gatewayUrl, authHeaders } from './client.ts';
import { formatStatusTable, type StatusTableInput } from './status-table.ts';

// The pipeline's modules load only for the commands that run them: `status` and `config` start in
// a fraction of the time without Postgres, Kafka, Apollo and the simulator in memory.
const modules = () => import('./modules.ts');

const program = new Command('millrace').description(
  'Exact, fresh answers about the MyCPU factory in one GraphQL query.',
);

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}

program
  .command('up')
  .description('Run millrace (default: everything in one process, embedded defaults when nothing is configured).')
  // Listed here rather than imported: the list of subgraphs lives with their resolvers, which `status` must not load.
  .option(
    '--target <target>',
    'role to run: all | ingest | loader | speed | batch | subgraph:<name> | gateway | simulator (an unknown one lists them)',
    'all',
  )
  .action(async (opts: { target: string }) => {
    const c = config();
    // A deployment runs in production mode unless told otherwise: graphql-js then skips its
    // development-time checks (its instanceOf guard cost ≈ 20 % of a small query's CPU), and no
    // library adds development-only detail to answers. Set before the modules load: graphql-js
    // reads it once, at import.
    process.env.NODE_ENV ??= 'production';
    let app: Awaited<ReturnType<Awaited<ReturnType<typeof modules>>['startTarget']>>;
    try {
      app = await (await modules()).startTarget(c, opts.target, log);
    } catch (err) {
      log(`millrace failed to start: ${(err as Error).message}`);
      process.exit(1);
    }
    const url = gatewayUrl(c);
    if (opts.target === 'all' || opts.target === 'gateway') {
      log(`millrace is up (${c.DATABASE_URL ? 'external services' : 'embedded defaults'})`);
      log(`  GraphiQL:  ${url}/graphql`);
      log(`  Health:    ${url}/healthz   Status: ${url}/status`);
    } else log(`millrace ${opts.target} is up`);
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: shutting down`);
      await app.stop();
      log('stopped');
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  });

program
  .command('status')
  .description("Connectors (events, dead letters, lag) and each layer's positions, from the running gateway.")
  .option('--json', 'print one JSON object (default: a table)')
  .action(async (opts: { json?: boolean }) => {
    const c = config();
    const status = await fetchStatus(c).catch((err: Error) => {
      process.stderr.write(`cannot reach millrace at ${gatewayUrl(c)}: ${err.message}\n`);
      process.exit(1);
    });
    process.stdout.write(
      opts.json ? `${JSON.stringify(status)}\n` : `${formatStatusTable(status as StatusTableInput)}\n`,
    );
  });

program
  .command('verify')
  .description(
    "Compare served answers with the simulator's ground-truth ledger over random ranges; exit 1 on any mismatch.",
  )
  .option('--json', 'print one JSON object')
  .option('--ranges <n>', 'random ranges per metric and grain', '20')
  .option('--seed <n>', 'seed for choosing ranges', String(Date.now() % 1_000_000))
  .option('--timeout <s>', 'seconds to wait for the pipeline to catch up', '120')
  .action(async (opts: { json?: boolean; ranges: string; seed: string; timeout: string }) => {
    const c = config();
    const { runVerify } = await import('../verify/verify.ts');
    const pg = (await import('pg')).default;
    const databaseUrl = c.DATABASE_URL ?? (await runtimeInfo(c)).databaseUrl;
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    try {
      const result = await runVerify({
        graphqlUrl: `${gatewayUrl(c)}/graphql`,
        headers: await authHeaders(c),
        pool,
        ledgerSchema: c.LEDGER_SCHEMA,
        ranges: Number(opts.ranges),
        seed: Number(opts.seed),
        waitForCatchUp: () => waitForCatchUp(c, Number(opts.timeout) * 1000),
        log: opts.json ? undefined : (l: string) => process.stderr.write(`${l}\n`),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        const per = Object.entries(result.bySource)
          .map(([k, v]) => `  ${k}: ${v.checked} checked, ${v.mismatches} mismatches`)
          .join('\n');
        process.stdout.write(`verify: ${result.checked} values checked, ${result.mismatches} mismatches\n${per}\n`);
      }
      process.exitCode = result.mismatches > 0 ? 1 : 0;
    } catch (err) {
      process.stderr.write(
        `verify failed [${(err as { code?: string }).code ?? 'ERROR'}]: ${(err as Error).message}\n`,
      );
      process.exitCode = 2;
    } finally {
      await pool.end();
    }
  });

program
  .command('simulate')
  .description(
    'Back-fill factory history fast into the same sources a live run writes (deterministic for a seed), with a progress bar.',
  )
  .option('--days <n>', 'simulated days (ending now, or from --from)')
  .option('--from <time>', 'start: ISO-8601 or epoch ms')
  .option('--to <time>', 'end (exclusive): ISO-8601 or epoch ms')
  .option('--seed <n>', 'PRNG seed', '42')
  .action(async (opts: { days?: string; from?: string; to?: string; seed: string }) => {
    const c = config();
    try {
      const r = await (await modules()).runSimulate(c, opts);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    } catch (err) {
      process.stderr.write(
        `simulate failed [${(err as { code?: string }).code ?? 'ERROR'}]: ${(err as Error).message}\n`,
      );
      process.exitCode = (err as { code?: string }).code === 'CONFIG' ? 2 : 1;
    }
  });

const deadLetters = program
  .command('dead-letters')
  .description('The dead-letter store: rejected input with its reason and source position.');

deadLetters
  .command('list')
  .description('Newest dead letters first.')
  .option('--connector <name>', 'only this connector')
  .option('--limit <n>', 'how many', '20')
  .option('--json', 'print JSON lines')
  .action(async (opts: { connector?: string; limit: string; json?: boolean }) => {
    const c = config();
    const admin = await (await modules()).openAdmin(c);
    try {
      const rows = await admin.listDeadLetters(opts.connector ?? null, Number(opts.limit));
      for (const r of rows) {
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(r)}\n`
            : `${r.created_at.toISOString()}  ${r.connector}  ${r.position}  ${r.reason}${r.replayed_at ? '  (replayed)' : ''}\n`,
        );
      }
    } finally {
      await admin.close();
    }
  });

deadLetters
  .command('replay')
  .description("Parse a connector's dead letters again with the current code; publish what parses now.")
  .requiredOption('--connector <name>', 'connector name (see `millrace status`)')
  .action(async (opts: { connector: string }) => {
    const c = config();
    const admin = await (await modules()).openAdmin(c);
    try {
      const r = await admin.replay(opts.connector);
      process.stdout.write(`${JSON.stringify(r)}\n`);
    } catch (err) {
      process.stderr.write(
        `replay failed [${(err as { code?: string }).code ?? 'ERROR'}]: ${(err as Error).message}\n`,
      );
      process.exitCode = 1;
    } finally {
      await admin.close();
    }
  });

const connectors = program.command('connectors').description('Operate the source connectors.');

connectors
  .command('skip')
  .description(
    'Move a connector past a position it cannot read (a poisoned batch, line or row); the skipped range is recorded as a dead letter.',
  )
  .requiredOption('--connector <name>', 'connector name (see `millrace status`)')
  .requiredOption(
    '--to <position>',
    'kafka: PARTITION:OFFSET to read next (OFFSET alone for one partition); csv-tail: FILE#LINE to read next; sql-polling: WATERMARK,KEY of the last row to skip; postgres-cdc (stopped): LSN to read on from',
  )
  .option('--note <text>', 'why, kept in the dead letter', 'millrace connectors skip')
  .action(async (opts: { connector: string; to: string; note: string }) => {
    const c = config();
    const admin = await (await modules()).openAdmin(c);
    try {
      const r = await admin.skip(opts.connector, opts.to, opts.note);
      process.stdout.write(
        `${opts.connector}: skipped ${r.skipped}, next read at ${r.next}; dead letter ${r.position}\n`,
      );
    } catch (err) {
      process.stderr.write(`skip failed [${(err as { code?: string }).code ?? 'ERROR'}]: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      await admin.close();
    }
  });

program
  .command('config')
  .description('The environment variables millrace reads, with defaults.')
  .action(() => {
    process.stdout.write(`${configTable()}\n`);
  });

await program.parseAsync(process.argv);
