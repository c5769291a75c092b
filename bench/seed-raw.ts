import type pg from 'pg';
import { ident } from '../store/migrate.ts';

export const STATIONS = ['RCV', 'INS', 'DIE', 'BND', 'ENC', 'CUR', 'BRN', 'TST', 'MRK', 'PKG', 'SHP'];

/**
 * Accepted machining events written straight into `raw_events` and the loader offsets, as the
 * loader would leave them (the bench measures the layers after the loader; its pipeline
 * measures the loader). Event i: enter on even, exit on odd, station (i/2) mod 11, an error every
 * 50th, partition i mod P at offset `base + i div P`; times spread evenly over [from, to).
 * Returns the next event index.
 */
export async function seedRaw(
  pool: pg.Pool,
  schema: string,
  o: { first: number; count: number; partitions: number; from: number; to: number; chunk?: number },
): Promise<number> {
  const s = ident(schema);
  const chunk = o.chunk ?? 200_000;
  if (o.first % o.partitions !== 0 || chunk % o.partitions !== 0)
    throw new Error('seedRaw: first and chunk must be multiples of the partitions');
  const span = o.to - o.from;
  for (let a = o.first; a < o.first + o.count; a += chunk) {
    const b = Math.min(o.first + o.count, a + chunk);
    await pool.query(
      `INSERT INTO ${s}.raw_events (id, source, type, key, event_time, payload, partition, log_offset)
       SELECT 'b' || g, 'bench', CASE WHEN g % 2 = 0 THEN 'machining.enter' ELSE 'machining.exit' END, 'P' || (g / 22),
              $3::bigint + ((g - $1::bigint) * $4::bigint / $5::bigint),
              jsonb_build_object('partId', 'P' || (g / 22), 'station', ($6::text[])[1 + (g / 2) % 11], 'machine', 'M-1', 'operator', 'E0001',
                'errorCode', CASE WHEN g % 50 = 1 THEN 'E12' END, 'cycleTimeMs', CASE WHEN g % 2 = 1 THEN 20000 + g % 300000 END),
              g % $7::int, g / $7::int
         FROM generate_series($1::bigint, $2::bigint - 1) g`,
      [
        a,
        b,
        o.from + Math.floor(((a - o.first) * span) / o.count),
        Math.floor(((b - a) * span) / o.count),
        b - a,
        STATIONS,
        o.partitions,
      ],
    );
  }
  const end = o.first + o.count;
  await pool.query(
    `UPDATE ${s}.loader_offsets SET next_offset = GREATEST(next_offset, ($1::bigint + $2::int - 1 - partition) / $2::int), updated_at = $3`,
    [end, o.partitions, Date.now()],
  );
  return end;
}

/** The stations as the floor-map connector leaves them (the subgraphs learn stations from these). */
export async function seedStations(pool: pg.Pool, schema: string): Promise<void> {
  const s = ident(schema);
  await pool.query(
    `INSERT INTO ${s}.entities (entity, key, version, data, event_id)
     SELECT 'station', id, '1', jsonb_build_object('name', id, 'zone', 'Z', 'department', 'D', 'machines', jsonb_build_array(id || '-1'), 'flowIndex', i), 'bench-station-' || id
       FROM unnest($1::text[]) WITH ORDINALITY AS t(id, i)
     ON CONFLICT (entity, key) DO NOTHING`,
    [STATIONS],
  );
}
