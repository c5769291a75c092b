import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { MillraceError } from '../../lib/errors.ts';
import { readState, saveState, type DeadLetter } from '../checkpoints.ts';
import { defineConnector } from '../define-connector.ts';
import { unpublishable, type Envelope } from '../envelope.ts';
import { createPollingConnector } from '../polling-connector.ts';
import { BadRow, parseRecords, recordKey } from './snapshot-records.ts';

const savedSchema = z.object({ hash: z.string(), size: z.number().int().nonnegative(), keys: z.array(z.string()) });
type Saved = z.infer<typeof savedSchema>;

/** Most of an unparsable file kept in its dead letter. */
const MAX_RAW = 100_000;
const PUBLISH_CHUNK = 1_000;

/** The file's bytes, sha256 and mtime, read through one handle; null when it does not exist (yet). */
async function readSnapshot(
  path: string,
): Promise<{ text: string; size: number; hash: string; mtimeMs: number } | null> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!fh) return null;
  try {
    const st = await fh.stat();
    const buf = await fh.readFile();
    return {
      text: buf.toString('utf8'),
      size: buf.length,
      hash: createHash('sha256').update(buf).digest('hex'),
      mtimeMs: Math.floor(st.mtimeMs),
    };
  } finally {
    await fh.close();
  }
}

/**
 * A reference file (JSON or CSV) → entity events. Reads the whole file whenever its content hash
 * changed: an `entity.upsert` per record and an `entity.delete` per key gone since the previous
 * version. Ids carry the content hash, so a re-read of the same content gives the same ids and a
 * new version new ones; the payload's version (`<mtimeMs>:<hash16>`) lets the loader keep the newest.
 */
export const fileSnapshot = defineConnector({
  kind: 'file-snapshot',
  config: z.object({
    /** The file. */
    path: z.string().min(1),
    format: z.enum(['json', 'csv']),
    /** Entity name of the records, e.g. `tool` or `station`. */
    entity: z.string().regex(/^[a-z][a-z0-9_]*$/),
    /** Field holding each record's key (a non-empty string or a number). */
    keyField: z.string().min(1),
    /** JSON only: dot-separated path to the records array, e.g. `stations`. Default: the document is the array. */
    recordsPath: z.string().min(1).optional(),
    /** Pause between polls, ms. Default 5000. */
    pollMs: z.number().int().positive().default(5000),
  }),
  create(config, ctx) {
    const file = basename(config.path);
    const source = `file:${file}`;

    async function tick(): Promise<boolean> {
      const raw = await readState<unknown>(ctx.pool, ctx.schema, ctx.name);
      const parsed = raw === null ? null : savedSchema.safeParse(raw);
      if (parsed && !parsed.success)
        throw new MillraceError(
          'CHECKPOINT_INVALID',
          `file-snapshot ${ctx.name}: saved state is not a snapshot state: ${parsed.error.message}`,
        );
      const prev: Saved | null = parsed?.data ?? null;
      const snap = await readSnapshot(config.path);
      if (!snap || snap.hash === prev?.hash) return false;
      const hash16 = snap.hash.slice(0, 16);
      const records = parseRecords(config.format, snap.text, config.recordsPath);
      if (typeof records === 'string') {
        // Advance anyway: this version stays dead-lettered once, the next version is read afresh.
        const dead = [
          {
            position: `${config.path}@${hash16}`,
            raw: snap.text.slice(0, MAX_RAW).replace(/\u0000/g, '\uFFFD'),
            reason: records,
          },
        ];
        const state: Saved = { hash: snap.hash, size: snap.size, keys: prev?.keys ?? [] };
        await saveState(ctx.pool, ctx.schema, { connector: ctx.name, source, state, events: 0, deadLetters: dead });
        return false;
      }
      const version = `${snap.mtimeMs}:${hash16}`;
      const envelope = (type: string, key: string, data: unknown): Envelope => ({
        id: `file:${config.entity}:${key}:${hash16}`,
        source,
        type,
        key: `${config.entity}:${key}`,
        eventTime: snap.mtimeMs,
        payload: { entity: config.entity, key, version, data },
      });
      const events: Envelope[] = [];
      const dead: DeadLetter[] = [];
      const keys = new Set<string>();
      records.forEach((record, i) => {
        const key = recordKey(record, config.keyField);
        // The version's hash is in the position: a bad record in a later version is a dead letter of its own.
        const position = `${config.path}@${hash16}#${i}`;
        const value = key === null ? null : JSON.stringify(envelope('entity.upsert', key, record));
        const unfit = value === null ? null : unpublishable(value);
        if (record instanceof BadRow)
          dead.push({ position, raw: JSON.stringify(record.fields), reason: record.reason });
        else if (unfit !== null) {
          // Its key stays known: the entity keeps its last good version rather than being deleted.
          keys.add(key!);
          dead.push({ position, raw: JSON.stringify(record), reason: unfit });
        } else if (key === null)
          dead.push({
            position,
            raw: JSON.stringify(record) ?? String(record),
            reason: `record has no ${config.keyField}`,
          });
        else if (keys.has(key))
          dead.push({
            position,
            raw: JSON.stringify(record),
            reason: `duplicate ${config.keyField} ${JSON.stringify(key)} in this file`,
          });
        else {
          keys.add(key);
          events.push(envelope('entity.upsert', key, record));
        }
      });
      for (const key of prev?.keys ?? []) if (!keys.has(key)) events.push(envelope('entity.delete', key, null));
      for (let i = 0; i < events.length; i += PUBLISH_CHUNK) {
        await ctx.log.publish(
          events.slice(i, i + PUBLISH_CHUNK).map((e) => ({ key: e.key, value: JSON.stringify(e) })),
        );
      }
      const state: Saved = { hash: snap.hash, size: snap.size, keys: [...keys].sort() };
      await saveState(ctx.pool, ctx.schema, {
        connector: ctx.name,
        source,
        state,
        events: events.length,
        deadLetters: dead,
      });
      return false;
    }

    return createPollingConnector({
      kind: 'file-snapshot',
      ctx,
      pollMs: config.pollMs,
      tick,
      async position() {
        const saved = await readState<Saved>(ctx.pool, ctx.schema, ctx.name);
        const snap = await readSnapshot(config.path);
        // Bytes: the file's size is the end; the position is that size once this content was read.
        const end = snap?.size ?? 0;
        const position = snap && saved?.hash === snap.hash ? snap.size : 0;
        return { lag: end - position, positions: [position], sourceEnd: [end] };
      },
    });
  },
});
