import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { dropSchema, testPool, testSchemaName } from '../../lib/test-db.ts';
import { createPostgresTopic } from '../../log/postgres-topic.ts';
import type { Topic } from '../../log/topic.ts';
import { migrate } from '../../store/migrate.ts';
import type { ConnectorContext } from '../define-connector.ts';
import { envelopeSchema, type Envelope } from '../envelope.ts';
import { excelSource } from './excel.ts';

/**
 * Test harness of the `excel` connector tests: a real Postgres schema (state, dead letters), a
 * Postgres table topic as the log, a temp directory of workbooks written the way a clerk's tool
 * would (whole file, renamed into place). Not a test file; imported by them.
 */
export const HEADERS = [
  'Date',
  'Shift',
  'Department',
  'Employee ID',
  'Name',
  'Clock In',
  'Clock Out',
  'Absence Reason',
];

/** Write a workbook atomically: one sheet, a header row, then the rows. */
export async function writeSheet(
  path: string,
  headers: string[],
  rows: unknown[][],
  sheet = 'Clock-in',
): Promise<void> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(sheet);
  ws.addRow(headers);
  for (const r of rows) ws.addRow(r);
  const tmp = `${path}.${randomBytes(3).toString('hex')}.tmp`;
  await wb.xlsx.writeFile(tmp);
  await rename(tmp, path);
}

export interface Harness {
  pool: ReturnType<typeof testPool>;
  schema: string;
  dir: string;
  log: Topic;
  ctx(name: string, log?: Topic): ConnectorContext;
  /** Run a connector until it has read every workbook as it is now, then stop it. */
  catchUp(name: string, config?: Record<string, unknown>, timeoutMs?: number): Promise<void>;
  /** Every envelope in the log (all partitions), or those of one type. */
  envelopes(type?: string): Promise<Envelope[]>;
  deadLetters(name: string): Promise<Array<{ position: string; raw: string; reason: string }>>;
  cleanup(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const pool = testPool();
  const schema = testSchemaName('excel');
  await migrate(pool, schema, 2);
  const log = createPostgresTopic({ pool, name: `excel_log_${randomBytes(3).toString('hex')}`, partitions: 2, schema });
  await log.ensure();
  const dir = await mkdtemp(join(tmpdir(), 'excel-conn-'));
  const ctx = (name: string, l?: Topic): ConnectorContext => ({
    name,
    pool,
    schema,
    log: l ?? log,
    onError: () => undefined,
    openTopic: () => {
      throw new Error('the excel connector opens no topic');
    },
  });
  return {
    pool,
    schema,
    dir,
    log,
    ctx,
    async catchUp(name, config = {}, timeoutMs = 20_000) {
      const c = excelSource.create(excelSource.config.parse({ directory: dir, pollMs: 50, ...config }), ctx(name));
      await c.start();
      try {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const st = await c.status();
          if (st.lag === 0) return;
          if (Date.now() > deadline) throw new Error(`excel connector never caught up: ${JSON.stringify(st)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await c.stop();
      }
    },
    async envelopes(type) {
      const r = await pool.query(`SELECT value FROM ${schema}.records WHERE topic = $1 ORDER BY partition, "offset"`, [
        log.name,
      ]);
      return r.rows.map((x) => envelopeSchema.parse(JSON.parse(x.value))).filter((e) => !type || e.type === type);
    },
    async deadLetters(name) {
      return (
        await pool.query(
          `SELECT position, raw, reason FROM ${schema}.dead_letters WHERE connector = $1 ORDER BY position`,
          [name],
        )
      ).rows;
    },
    async cleanup() {
      await log.close();
      await dropSchema(pool, schema);
      await pool.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
