import type { ConnectorDefinition } from './define-connector.ts';
import { kafkaSource } from './connectors/kafka-source.ts';
import type { z } from 'zod';

/** Every connector kind, by `kind`. */
export const connectorKinds: Record<string, ConnectorDefinition<z.ZodType>> = {
  [kafkaSource.kind]: kafkaSource as unknown as ConnectorDefinition<z.ZodType>,
};
