/**
 * Ingest connector throughput against the bare drivers reading the same data, on the real services.
 *
 *   npm run services:up && npx tsx bench/connectors.ts [--rows 100000] [--log postgres|kafka] [--cdc-tx-rows 500]
 *        [--cdc-single-rows 1000] [--excel-rows 20000] [--only cdc,cdc-single,poll-mariadb,poll-postgres,csv,excel]
 *
 * Per connector, the same N rows are written to a fresh source (an orders table with its publication
 * and one replication slot per reader, written in transactions of --cdc-tx-rows — the orders writer's
 * cap — and, smaller, one row per transaction; an archive table in MariaDB and in PostgreSQL; an
 * energy CSV file; a clock-in workbook), then read, each run timed from start until all are through:
 *   1. baseline: the bare driver (pgoutput via pg-logical-replication counting inserts; a mysql2 / pg
 *      keyset-paged SELECT loop with the connector's page size; csv-parse on a file stream; exceljs),
 *      run before and after the connector runs, the better of the two counted;
 *   2. millrace → sink: the connector publishing into an in-process Topic that only acks (its own cost:
 *      decoding, mapping, envelope JSON, checkpoints in Postgres);
 *   3. millrace → log: the connector publishing into a real log topic (Postgres table topic, or Kafka
 *      with --log kafka), fresh per run.
 * "Through" is a counter on the topic's publish (resolved once the topic acknowledged the N-th row; no
 * sleeps), checked afterwards against the topic's end offsets and the connector's saved totals.
 * Printed: rows/s of each, the ratios millrace / baseline, and peak RSS. Everything made (schemas,
 * tables, publications, slots, Kafka topics, temp files) is removed afterwards.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { parse as csvParse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { Kafka, logLevel } from 'kafkajs';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type { z } from 'zod';
import { migrate } from '../store/migrate.ts';
import { createPostgresTopic } from '../log/postgres-topic.ts';
import { createKafkaTopic } from '../log/kafka-topic.ts';
import { partitionFor, type Topic } from '../log/topic.ts';
import { stateTotals } from '../ingest/checkpoints.ts';
import type { ConnectorDefinition } from '../ingest/define-connector.ts';
import { postgresCdc } from '../ingest/connectors/postgres-cdc.ts';
import { sqlPolling } from '../ingest/connectors/sql-polling.ts';
import { csvTail } from '../ingest/connectors/csv-tail.ts';
import { excelSource } from '../ingest/connectors/excel.ts';
import { dropSlot } from '../ingest/connectors/postgres-cdc.testkit.ts';
import { HEADERS, writeSheet } from '../ingest/connectors/excel.testkit.ts';
import { ARCHIVE_COLUMNS, utcText } from '../simulator/sources/sql-engine-rows.ts';

const SCENARIOS = ['cdc', 'cdc-single', 'poll-mariadb', 'poll-postgres', 'csv', 'excel'] as const;
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    log: { type: 'string', default: 'postgres' },
    'cdc-tx-rows': { type: 'string', default: '500' },
    'cdc-single-rows': { type: 'string', default: '1000' },
    'excel-rows': { type: 'string', default: '20000' },
    only: { type: 'string', default: SCENARIOS.join(',') },
    'timeout-s': { type: 'string', default: '300' },
  },
});
const N = Number(args.rows);
const CDC_TX = Number(args['cdc-tx-rows']);
const CDC_SINGLE = Number(args['cdc-single-rows']);
const EXCEL_ROWS = Number(args['excel-rows']);
const TIMEOUT_MS = Number(args['timeout-s']) * 1000;
const logKind = args.log;
const only = new Set(args.only!.split(',').map((s) => s.trim()));
if (
  !(N > 0) ||
  !(CDC_TX > 0) ||
  !(CDC_SINGLE >= 0) ||
  !(EXCEL_ROWS >= 0) ||
  (logKind !== 'postgres' && logKind !== 'kafka') ||
  [...only].some((s) => !(SCENARIOS as readonly string[]).includes(s))
) {
  throw new Error(
    `usage: --rows N (> 0) --log postgres|kafka --cdc-tx-rows N --cdc-single-rows N --excel-rows N --only ${SCENARIOS.join(',')}`,
  );
}

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MARIADB_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomBytes(3).toString('hex');
/** millrace's own tables (connector state, dead letters, and the Postgres log topics). */
const millSchema = `bench_conn_${id}`;
/** Source tables (orders for CDC, the PostgreSQL archive for polling). */
const srcSchema = `bench_src_${id}`;
const mariaTable = `bench_archive_${id}`;
/** Log partitions: MILLRACE_PARTITIONS' default. */
const LOG_PARTITIONS = 4;
const POLL_BATCH = 1000; // sql-polling's default `batch`, also the baselines' page size

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
const made = {
  slots: [] as string[],
  publications: [] as string[],
  kafkaTopics: [] as string[],
  mariaTables: [] as string[],
  dirs: [] as string[],
  topics: [] as Topic[],
};
const failures: string[] = [];
const started = performance.now();
const log = (l: string) =>
  process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  ${l}\n`);
const MiB = 1024 * 1024;
const maxRssMiB = () => (process.resourceUsage().maxRSS * 1024) / MiB;

interface Result {
  connector: string;
  rows: number;
  baseline: { what: string; ms: number };
  sinkMs: number;
  logMs: number;
  rssMiB: number;
}

// ---------------------------------------------------------------------------------------------
// Topics: the ack-only sink, the real log, and a counter around either.

/** A Topic that only acknowledges: offsets per partition, nothing kept. */
function sinkTopic(partitions: number): Topic {
  const ends = new Array<number>(partitions).fill(0);
  return {
    name: 'sink',
    partitions,
    ensure: async () => undefined,
    publish: async (records) =>
      records.map((r) => {
        const partition = partitionFor(r.key, partitions);
        return { partition, offset: ends[partition]++ };
      }),
    consume: async () => {
      throw new Error('the bench sink cannot be consumed');
    },
    endOffsets: async () => [...ends],
    close: async () => undefined,
  };
}

/** A fresh log topic per run (`label`: letters, digits, `-`). */
function openLog(label: string): Topic {
  let t: Topic;
  if (logKind === 'kafka') {
    const name = `bench-conn-${id}.${label}`;
    made.kafkaTopics.push(name);
    t = createKafkaTopic({ brokers, name, partitions: LOG_PARTITIONS, log });
  } else
    t = createPostgresTopic({
      pool,
      name: `bench_${id}_${label.replace(/-/g, '_')}`,
      partitions: LOG_PARTITIONS,
      schema: millSchema,
      log,
    });
  made.topics.push(t);
  return t;
}
const logLabel =
  logKind === 'kafka'
    ? `Kafka topic (bench-conn-${id}.*, idempotent producer, acks=all)`
    : `Postgres table topic (${millSchema}.records)`;

/** Counts rows as the topic acknowledges them; `done` resolves once `want` are acknowledged. */
function counting(inner: Topic, want: number) {
  let n = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const topic: Topic = {
    ...inner,
    name: inner.name,
    partitions: inner.partitions,
    publish: async (records) => {
      const res = await inner.publish(records);
      n += records.length;
      if (n >= want) resolve();
      return res;
    },
  };
  return { topic, done, count: () => n };
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(() => reject(new Error(`${what}: not done after ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS)),
  );
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) {
    failures.push(what);
    log(`CHECK FAILED: ${what}`);
  }
}

/**
 * One connector run: start → `want` rows acknowledged by `target`; then stop, and check that exactly
 * `want` rows went out (no duplicates, no dead letters) and, for a real log, that its end offsets agree.
 */
async function runConnector(
  def: ConnectorDefinition<z.ZodType>,
  config: unknown,
  name: string,
  target: Topic,
  want: number,
  real: boolean,
): Promise<number> {
  if (real) await target.ensure();
  const before = real ? (await target.endOffsets()).reduce((a, b) => a + b, 0) : 0;
  const c = counting(target, want);
  const seen = new Set<string>();
  const connector = def.create(def.config.parse(config), {
    name,
    pool,
    schema: millSchema,
    log: c.topic,
    openTopic: () => {
      throw new Error('no source topics in this bench');
    },
    onError: (err) => {
      const m = (err as Error).message;
      if (!seen.has(m)) log(`  [${name}] ${(seen.add(m), m)}`);
    },
  });
  const t0 = performance.now();
  let ms: number;
  try {
    await connector.start();
    await withTimeout(c.done, name);
    ms = performance.now() - t0;
  } finally {
    await connector.stop();
  }
  const totals = await stateTotals(pool, millSchema, name);
  check(c.count() === want, `${name}: published ${c.count()} rows, expected ${want}`);
  check(
    totals.events === want && totals.deadLetters === 0,
    `${name}: checkpointed ${totals.events} events / ${totals.deadLetters} dead letters, expected ${want} / 0`,
  );
  if (real) {
    const after = (await target.endOffsets()).reduce((a, b) => a + b, 0);
    check(after - before === want, `${name}: log end offsets grew by ${after - before}, expected ${want}`);
    await target.close();
  }
  return ms;
}

/**
 * A scenario's four timed reads: the bare baseline, the connector into the sink, the connector into
 * a fresh real log topic, the baseline again. The baseline counts at its better run (the first
 * one pays for cold caches and JIT, which the connector runs after it do not): conservative for millrace.
 */
async function measure(
  def: ConnectorDefinition<z.ZodType>,
  label: string,
  configFor: (run: 'sink' | 'log') => unknown,
  want: number,
  baseline: { what: string; run: (round: 1 | 2) => Promise<number> },
) {
  log(`  baseline: ${baseline.what}…`);
  const b1 = await baseline.run(1);
  log(`  millrace → sink… (peak RSS so far ${maxRssMiB().toFixed(0)} MiB)`);
  const sinkMs = await runConnector(
    def,
    configFor('sink'),
    `bench-${label}-sink`,
    sinkTopic(LOG_PARTITIONS),
    want,
    false,
  );
  log(`  millrace → ${logKind} log… (peak RSS so far ${maxRssMiB().toFixed(0)} MiB)`);
  const logMs = await runConnector(def, configFor('log'), `bench-${label}-log`, openLog(label), want, true);
  log(`  baseline again…`);
  const b2 = await baseline.run(2);
  log(
    `  baseline ${(b1 / 1000).toFixed(2)} s / ${(b2 / 1000).toFixed(2)} s, sink ${(sinkMs / 1000).toFixed(2)} s, log ${(logMs / 1000).toFixed(2)} s; peak RSS so far ${maxRssMiB().toFixed(0)} MiB`,
  );
  return { baseline: { what: baseline.what, ms: Math.min(b1, b2) }, sinkMs, logMs, rssMiB: maxRssMiB() };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL CDC

/** Bare pgoutput subscriber: counts inserts, acknowledges each commit (as any real subscriber must). */
async function bareCdc(slot: string, publication: string, want: number): Promise<number> {
  const service = new LogicalReplicationService(
    { connectionString: DATABASE_URL },
    { acknowledge: { auto: false, timeoutSeconds: 0 } },
  );
  let n = 0;
  const t0 = performance.now();
  const done = new Promise<void>((resolve, reject) => {
    service.on('error', reject);
    service.on('data', (lsn: string, msg: Pgoutput.Message) => {
      if (msg.tag === 'insert') n++;
      else if (msg.tag === 'commit') {
        void service.acknowledge(msg.commitEndLsn ?? lsn);
        if (n >= want) resolve();
      }
    });
    service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] }), slot).catch(reject);
  });
  let ms: number;
  try {
    await withTimeout(done, `bare pgoutput ${slot}`);
    ms = performance.now() - t0;
  } finally {
    await service.destroy();
  }
  check(n === want, `bare pgoutput: ${n} inserts, expected ${want}`);
  return ms;
}

async function cdcScenario(rows: number, txRows: number): Promise<Result> {
  const label = txRows === 1 ? '1 row/tx' : `${txRows} rows/tx`;
  const table = `${srcSchema}.orders_${txRows}`;
  const publication = `bench_pub_${id}_${txRows}`;
  const slot = (who: string) => `bench_${id}_${txRows}_${who}`;
  log(`postgres-cdc (${label}): ${rows} inserts in transactions of ${txRows} into ${table}…`);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${srcSchema}`);
  // The simulator's orders DDL (simulator/sources/orders-postgres.ts).
  await pool.query(`CREATE TABLE ${table} (order_id text PRIMARY KEY, kind text NOT NULL, subject text NOT NULL, severity int, status text NOT NULL,
      requested_at timestamptz NOT NULL, confirmed_at timestamptz, completed_at timestamptz, updated_at timestamptz NOT NULL, note text);
    ALTER TABLE ${table} REPLICA IDENTITY FULL`);
  made.publications.push(publication);
  await pool.query(`CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
  // One slot per reader, all made before the rows are written: each reads the same changes.
  for (const who of ['base1', 'base2', 'sink', 'log']) {
    made.slots.push(slot(who));
    await pool.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot(who)]);
  }
  const c = await pool.connect();
  try {
    const t0 = performance.now();
    await c.query('SET synchronous_commit = off'); // writing the data is not what is measured
    // A DO block commits every txRows rows server-side: no round trip per transaction.
    await c.query(`DO $$ DECLARE i int := 0; BEGIN
      WHILE i < ${rows} LOOP
        INSERT INTO ${table} SELECT 'RO-${id}-' || lpad(g::text, 8, '0'), 'repair', 'DIE-' || (g % 7 + 1), g % 4 + 1, 'requested', t, NULL, NULL, t, 'bench'
          FROM (SELECT g, timestamptz '2026-01-05 08:00Z' + g * interval '1 minute' AS t FROM generate_series(i, least(i + ${txRows}, ${rows}) - 1) g) s;
        COMMIT;
        i := i + ${txRows};
      END LOOP; END $$`);
    log(`  written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    c.release();
  }
  const config = (run: 'sink' | 'log') => ({
    connectionString: DATABASE_URL,
    slot: slot(run),
    publication,
    tables: [table],
  });
  const m = await measure(postgresCdc as unknown as ConnectorDefinition<z.ZodType>, `cdc-${txRows}`, config, rows, {
    what: 'pg-logical-replication pgoutput subscriber, counting inserts',
    run: (round) => bareCdc(slot(`base${round}`), publication, rows),
  });
  // Slots pin WAL: drop them now rather than at the end.
  for (const who of ['base1', 'base2', 'sink', 'log']) await dropSlot(pool, slot(who));
  return { connector: `postgres-cdc, ${label}`, rows, ...m };
}

// ---------------------------------------------------------------------------------------------
// SQL polling (machining archive, as connectorSpecs configures it)

const STATIONS = ['RCV', 'INS', 'DIE', 'BND', 'ENC', 'CUR', 'BRN', 'TST', 'MRK', 'PKG', 'SHP'];
type ArchiveRow = Array<string | number | null>; // ARCHIVE_COLUMNS, then archived_at

/**
 * Archive rows like the simulator's: archived_at is stamped per insert statement, so runs of rows
 * share one watermark (here 300, not a multiple of the page size: pages end inside a run).
 * Stamped two days ago, outside any lag window.
 */
function archiveRows(n: number): ArchiveRow[] {
  const base = Date.now() - 2 * 86_400_000;
  const out: ArchiveRow[] = [];
  for (let i = 0; i < n; i++) {
    const exit = i % 2 === 1;
    const station = STATIONS[Math.floor(i / 2) % STATIONS.length];
    out.push([
      `bench-${id}-${String(i).padStart(8, '0')}`,
      exit ? 'exit' : 'enter',
      `P-${id}-${Math.floor(i / 22)}`,
      station,
      `${station}-1`,
      'E0042',
      utcText(base - 3_600_000 + i * 50),
      exit ? STATIONS[(Math.floor(i / 2) + 1) % STATIONS.length] : null,
      exit && i % 50 === 1 ? 'E12' : null,
      exit ? 20_000 + (i % 300_000) : null,
      utcText(base + Math.floor(i / 300) * 7),
    ]);
  }
  return out;
}
const archiveCols = [...ARCHIVE_COLUMNS, 'archived_at'];
const pollConfig = (dialect: 'mariadb' | 'postgres', url: string, table: string) => ({
  dialect,
  url,
  table,
  columns: archiveCols,
  watermarkColumn: 'archived_at',
  keyColumn: 'event_id',
  mapping: 'machining-archive',
  batch: POLL_BATCH,
});

async function pollMariaDbScenario(rows: ArchiveRow[]): Promise<Result> {
  log(`sql-polling (MariaDB): ${rows.length} archive rows into ${mariaTable}…`);
  const my = await mysql.createConnection({ uri: MARIADB_URL, dateStrings: true, timezone: 'Z' });
  try {
    await my.query("SET time_zone = '+00:00'");
    made.mariaTables.push(mariaTable);
    // The simulator's DDL (simulator/sources/sql-engine-mariadb.ts).
    await my.query(`CREATE TABLE ${mariaTable} (
      event_id VARCHAR(200) NOT NULL PRIMARY KEY, kind VARCHAR(10) NOT NULL, part_id VARCHAR(100) NOT NULL, station VARCHAR(40) NOT NULL,
      machine VARCHAR(100) NOT NULL, operator VARCHAR(100) NOT NULL, at DATETIME(3) NOT NULL, next_station VARCHAR(40) NULL,
      error_code VARCHAR(40) NULL, cycle_time_ms BIGINT NULL, archived_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      KEY ${mariaTable}_archived (archived_at, event_id))`);
    for (let i = 0; i < rows.length; i += 2000)
      await my.query(`INSERT INTO ${mariaTable} (${archiveCols.join(', ')}) VALUES ?`, [rows.slice(i, i + 2000)]);
    await my.query(`ANALYZE TABLE ${mariaTable}`);
  } finally {
    await my.end();
  }
  const m = await measure(
    sqlPolling as unknown as ConnectorDefinition<z.ZodType>,
    'poll-mariadb',
    () => pollConfig('mariadb', MARIADB_URL, mariaTable),
    rows.length,
    {
      what: `mysql2 keyset-paged SELECT, ${POLL_BATCH} rows a page`,
      run: () => bareMariaDb(rows.length),
    },
  );
  return { connector: 'sql-polling, MariaDB', rows: rows.length, ...m };
}

/** The same rows, same columns, same order and page size, by the bare driver (session as the connector's). */
async function bareMariaDb(want: number): Promise<number> {
  const my = await mysql.createConnection({ uri: MARIADB_URL, dateStrings: true, timezone: 'Z' });
  const t0 = performance.now();
  await my.query("SET time_zone = '+00:00'");
  let n = 0;
  let last: [string, string] | null = null;
  for (;;) {
    const [rows]: [mysql.RowDataPacket[], mysql.FieldPacket[]] = await my.query<mysql.RowDataPacket[]>(
      // Spelled out: MariaDB uses no index for a row-value comparison `(a, b) > (?, ?)` (a full scan and filesort per page).
      `SELECT ${archiveCols.join(', ')} FROM ${mariaTable} ${last ? 'WHERE archived_at > ? OR (archived_at = ? AND event_id > ?)' : ''} ORDER BY archived_at, event_id LIMIT ?`,
      last ? [last[0], ...last, POLL_BATCH] : [POLL_BATCH],
    );
    n += rows.length;
    if (rows.length < POLL_BATCH) break;
    const end: mysql.RowDataPacket = rows[rows.length - 1];
    last = [String(end.archived_at), String(end.event_id)];
  }
  const ms = performance.now() - t0;
  await my.end();
  check(n === want, `bare mysql2: ${n} rows, expected ${want}`);
  return ms;
}

async function pollPostgresScenario(rows: ArchiveRow[]): Promise<Result> {
  const table = `${srcSchema}.archive`;
  log(`sql-polling (PostgreSQL): ${rows.length} archive rows into ${table}…`);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${srcSchema}`);
  // The simulator's DDL (simulator/sources/sql-engine-postgres.ts).
  await pool.query(`CREATE TABLE ${table} (
      event_id text PRIMARY KEY, kind text NOT NULL, part_id text NOT NULL, station text NOT NULL, machine text NOT NULL,
      operator text NOT NULL, at timestamp(3) NOT NULL, next_station text, error_code text, cycle_time_ms bigint,
      archived_at timestamp(3) NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'));
    CREATE INDEX ON ${table} (archived_at, event_id)`);
  const types = ['text', 'text', 'text', 'text', 'text', 'text', 'timestamp', 'text', 'text', 'bigint', 'timestamp'];
  for (let i = 0; i < rows.length; i += 10_000) {
    const chunk = rows.slice(i, i + 10_000);
    await pool.query(
      `INSERT INTO ${table} (${archiveCols.join(', ')}) SELECT * FROM unnest(${types.map((t, k) => `$${k + 1}::${t}[]`).join(', ')})`,
      types.map((_, k) => chunk.map((r) => r[k])),
    );
  }
  await pool.query(`ANALYZE ${table}`);
  const m = await measure(
    sqlPolling as unknown as ConnectorDefinition<z.ZodType>,
    'poll-postgres',
    () => pollConfig('postgres', DATABASE_URL, table),
    rows.length,
    {
      what: `pg keyset-paged SELECT, ${POLL_BATCH} rows a page`,
      run: () => barePostgresPoll(table, rows.length),
    },
  );
  return { connector: 'sql-polling, PostgreSQL', rows: rows.length, ...m };
}

async function barePostgresPoll(table: string, want: number): Promise<number> {
  // Typed as the connector's client reads them: timestamp without zone as text.
  const client = new pg.Client({
    connectionString: DATABASE_URL,
    options: '-c TimeZone=UTC',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 1114 ? (v: string) => v : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const t0 = performance.now();
  await client.connect();
  let n = 0;
  let last: [string, string] | null = null;
  for (;;) {
    const r: pg.QueryResult = last
      ? await client.query(
          `SELECT ${archiveCols.join(', ')} FROM ${table} WHERE (archived_at, event_id) > ($1::timestamp, $2) ORDER BY archived_at, event_id LIMIT $3`,
          [...last, POLL_BATCH],
        )
      : await client.query(`SELECT ${archiveCols.join(', ')} FROM ${table} ORDER BY archived_at, event_id LIMIT $1`, [
          POLL_BATCH,
        ]);
    n += r.rows.length;
    if (r.rows.length < POLL_BATCH) break;
    const end = r.rows[r.rows.length - 1];
    last = [String(end.archived_at), String(end.event_id)];
  }
  const ms = performance.now() - t0;
  await client.end();
  check(n === want, `bare pg poll: ${n} rows, expected ${want}`);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Files

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `bench-conn-${id}-`));
  made.dirs.push(dir);
  return dir;
}

async function csvScenario(rows: number): Promise<Result> {
  const dir = await tempDir();
  const file = join(dir, 'energy-2026-01-01.csv');
  log(`csv-tail: ${rows} energy lines into ${file}…`);
  // The energy report (csv-schemas.ts): 40 meters, one line each per 15-minute interval.
  const base = Date.UTC(2026, 0, 1);
  const lines = ['interval_start,machine_id,wh'];
  for (let i = 0; i < rows; i++)
    lines.push(
      `${new Date(base + Math.floor(i / 40) * 900_000).toISOString()},M-${String(i % 40).padStart(2, '0')},${1000 + ((i * 7919) % 50_000)}`,
    );
  await writeFile(file, `${lines.join('\n')}\n`);
  // csv-tail's own options for csv-parse (csv-schemas.ts), the header line skipped.
  const bare = async () => {
    const t0 = performance.now();
    let n = 0;
    await new Promise<void>((resolve, reject) => {
      const parser = createReadStream(file).pipe(csvParse({ from_line: 2, trim: true, relax_column_count: true }));
      parser
        .on('data', () => n++)
        .on('end', resolve)
        .on('error', reject);
    });
    const ms = performance.now() - t0;
    check(n === rows, `bare csv-parse: ${n} records, expected ${rows}`);
    return ms;
  };
  const m = await measure(
    csvTail as unknown as ConnectorDefinition<z.ZodType>,
    'csv',
    () => ({ directory: dir, pattern: '^energy-.*\\.csv$', schema: 'energy' }),
    rows,
    {
      what: 'csv-parse (stream API) over a file stream',
      run: bare,
    },
  );
  return { connector: 'csv-tail (energy)', rows, ...m };
}

async function excelScenario(rows: number): Promise<Result> {
  const dir = await tempDir();
  const file = join(dir, 'clockin-2026-03-01.xlsx');
  log(`excel: a ${rows}-row clock-in workbook at ${file}…`);
  // Unique (date, employee, shift) keys; one row in 20 an absence.
  const data: unknown[][] = [];
  for (let i = 0; i < rows; i++) {
    const day = new Date(Date.UTC(2026, 2, 1) + Math.floor(i / 3000) * 86_400_000).toISOString().slice(0, 10);
    const shift = 'ABC'[Math.floor(i / 1000) % 3];
    const startH = { A: 6, B: 14, C: 22 }[shift]!;
    const start = Date.parse(`${day}T00:00:00Z`) + startH * 3_600_000;
    const emp = `E${String(i % 1000).padStart(4, '0')}`;
    data.push(
      i % 20 === 7
        ? [day, shift, 'Assembly', emp, `Worker ${i % 1000}`, null, null, 'Sick']
        : [
            day,
            shift,
            ['Assembly', 'Test', 'Burn-in'][i % 3],
            emp,
            `Worker ${i % 1000}`,
            new Date(start - 300_000),
            new Date(start + 8 * 3_600_000 + (i % 30) * 60_000),
            null,
          ],
    );
  }
  const tw = performance.now();
  await writeSheet(file, HEADERS, data);
  log(`  written in ${((performance.now() - tw) / 1000).toFixed(1)} s`);
  // The library's read the connector uses (whole workbook in memory), every row's values.
  const bare = async () => {
    const t0 = performance.now();
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await readFile(file)) as unknown as ExcelJS.Buffer);
    let n = 0;
    wb.getWorksheet('Clock-in')!.eachRow((row, no) => {
      if (no > 1 && Array.isArray(row.values) && row.values.length > 0) n++;
    });
    const ms = performance.now() - t0;
    check(n === rows, `bare exceljs: ${n} rows, expected ${rows}`);
    return ms;
  };
  const m = await measure(
    excelSource as unknown as ConnectorDefinition<z.ZodType>,
    'excel',
    () => ({ directory: dir }),
    // Every row, plus one `worker` entity per named employee (the sheet names 1 000 of them).
    rows + Math.min(rows, 1000),
    { what: 'exceljs xlsx.load + eachRow values', run: bare },
  );
  return { connector: 'excel (clock-in)', rows, ...m };
}

// ---------------------------------------------------------------------------------------------

async function cleanup(): Promise<void> {
  for (const t of made.topics) await t.close().catch(() => undefined); // closed already unless a run failed
  for (const s of made.slots)
    await dropSlot(pool, s).catch((e: Error) => log(`could not drop slot ${s}: ${e.message}`));
  for (const p of made.publications)
    await pool
      .query(`DROP PUBLICATION IF EXISTS ${p}`)
      .catch((e: Error) => log(`could not drop publication ${p}: ${e.message}`));
  await pool
    .query(`DROP SCHEMA IF EXISTS ${srcSchema} CASCADE; DROP SCHEMA IF EXISTS ${millSchema} CASCADE`)
    .catch((e: Error) => log(`could not drop schemas: ${e.message}`));
  await pool.end();
  if (made.mariaTables.length > 0) {
    const my = await mysql.createConnection({ uri: MARIADB_URL });
    await my
      .query(`DROP TABLE IF EXISTS ${made.mariaTables.join(', ')}`)
      .catch((e: Error) => log(`could not drop ${made.mariaTables.join(', ')}: ${e.message}`));
    await my.end();
  }
  if (made.kafkaTopics.length > 0) {
    const admin = new Kafka({ clientId: 'bench-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: made.kafkaTopics })
      .catch((e: Error) => log(`could not delete topics ${made.kafkaTopics.join(', ')}: ${e.message}`));
    await admin.disconnect();
  }
  for (const d of made.dirs) await rm(d, { recursive: true, force: true });
}

const rate = (rows: number, ms: number) => `${Math.round(rows / (ms / 1000)).toLocaleString('en')}`;

async function main(): Promise<void> {
  const t0 = performance.now();
  await migrate(pool, millSchema, LOG_PARTITIONS);
  log(`connector bench ${id}: ${N} rows, log ${logLabel}`);
  const results: Result[] = [];
  if (only.has('cdc')) results.push(await cdcScenario(N, CDC_TX));
  if (only.has('cdc-single') && CDC_SINGLE > 0) results.push(await cdcScenario(CDC_SINGLE, 1));
  const archive = only.has('poll-mariadb') || only.has('poll-postgres') ? archiveRows(N) : [];
  if (only.has('poll-mariadb')) results.push(await pollMariaDbScenario(archive));
  if (only.has('poll-postgres')) results.push(await pollPostgresScenario(archive));
  if (only.has('csv')) results.push(await csvScenario(N));
  if (only.has('excel') && EXCEL_ROWS > 0) results.push(await excelScenario(EXCEL_ROWS));
  const wallS = (performance.now() - t0) / 1000;

  const head = [
    'connector',
    'rows',
    'bare rows/s',
    'millrace→sink',
    'ratio',
    `millrace→${logKind} log`,
    'ratio',
    'peak RSS',
  ];
  const table = results.map((r) => [
    r.connector,
    r.rows.toLocaleString('en'),
    rate(r.rows, r.baseline.ms),
    rate(r.rows, r.sinkMs),
    (r.baseline.ms / r.sinkMs).toFixed(2),
    rate(r.rows, r.logMs),
    (r.baseline.ms / r.logMs).toFixed(2),
    `${r.rssMiB.toFixed(0)} MiB`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (row: string[]) => `  ${row.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')}`;
  const out = [
    `\nconnector bench — ${new Date().toISOString()}, ${N.toLocaleString('en')} rows (excel ${EXCEL_ROWS.toLocaleString('en')}, CDC 1 row/tx ${CDC_SINGLE.toLocaleString('en')})`,
    `  log: ${logLabel}, ${LOG_PARTITIONS} partitions, fresh per run; sink: in-process Topic that only acks.`,
    "  ratio = millrace rows/s ÷ bare rows/s (1.00 = as fast as the bare driver); peak RSS = the process's maxRSS once the scenario is done (cumulative).",
    line(head),
    ...table.map(line),
    '  baselines (the same rows, from start until the last is read):',
    ...results.map(
      (r) =>
        `    ${r.connector.padEnd(w[0])}  ${r.baseline.what} (${(r.baseline.ms / 1000).toFixed(2)} s; millrace ${(r.sinkMs / 1000).toFixed(2)} s sink, ${(r.logMs / 1000).toFixed(2)} s log)`,
    ),
    `  wall time ${wallS.toFixed(0)} s (data generation included); load average at the end (1/5 min) ${loadavg()
      .slice(0, 2)
      .map((x) => x.toFixed(1))
      .join(' / ')}`,
    ...(failures.length > 0
      ? ['  CHECKS FAILED:', ...failures.map((f) => `    ${f}`)]
      : [
          "  checks: every run published exactly its rows, checkpointed them with no dead letters; the logs' end offsets agree",
        ]),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

main().then(cleanup, async (err) => {
  log(String(err?.stack ?? err));
  await cleanup().catch((e) => log(`cleanup: ${e}`));
  process.exitCode = 1;
});
