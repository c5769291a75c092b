import type { z } from 'zod';
import type { ConnectorDefinition } from './define-connector.ts';
import { kafkaSource } from './connectors/kafka-source.ts';
import { csvTail } from './connectors/csv-tail.ts';
import { excelSource } from './connectors/excel.ts';
import { fileSnapshot } from './connectors/file-snapshot.ts';
import { postgresCdc } from './connectors/postgres-cdc.ts';
import { sqlPolling } from './connectors/sql-polling.ts';
import { sqlServerCt } from './connectors/sql-server-ct.ts';
import { restPoll } from './connectors/rest-poll.ts';

type AnyDefinition = ConnectorDefinition<z.ZodType>;

/** Every connector kind, by `kind` (docs/sources.md). */
export const connectorKinds: Record<string, AnyDefinition> = Object.fromEntries(
  [kafkaSource, csvTail, excelSource, fileSnapshot, postgresCdc, sqlPolling, sqlServerCt, restPoll].map((d) => [
    d.kind,
    d as unknown as AnyDefinition,
  ]),
);
