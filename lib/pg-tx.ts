import type pg from 'pg';

/**
 * Run `fn` in one transaction on a pooled client: COMMIT when it resolves, ROLLBACK when it
 * throws (the error is rethrown), the client released either way — and dropped from the pool
 * instead of reused when even the ROLLBACK fails (the connection is broken). The one transaction
 * helper of every layer. `begin` may set the isolation level, e.g. 'BEGIN ISOLATION LEVEL REPEATABLE READ'.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  let result: T;
  try {
    await client.query(begin);
    result = await fn(client);
    await client.query('COMMIT');
  } catch (err) {
    const broken = await client.query('ROLLBACK').then(
      () => undefined,
      (e: Error) => e,
    );
    client.release(broken);
    throw err;
  }
  client.release();
  return result;
}
