import { connectorContract } from '../connector.contract.ts';
import { restPoll } from './rest-poll.ts';
import { createRng } from '../../simulator/prng.ts';
import { createToolApiServer } from '../../simulator/sources/tool-api-server.ts';
import { createToolApiStore } from '../../simulator/sources/tool-api-store.ts';
import type { ConnectorDefinition } from '../define-connector.ts';
import type { z } from 'zod';

// The rest-poll connector against the simulator's real tool inventory API (node:http), faults off.
const START = Date.UTC(2026, 0, 1);
const TOOLS = Array.from({ length: 40 }, (_, i) => `T-${String(i + 1).padStart(3, '0')}`);

connectorContract({
  name: 'rest-poll (tool movements)',
  definition: restPoll as unknown as ConnectorDefinition<z.ZodType>,
  async setup() {
    const store = createToolApiStore({ toolIds: TOOLS, startTime: START, seqBase: 5_000 });
    const server = createToolApiServer({ store, rng: createRng(3), faults: { error500Rate: 0, timeoutRate: 0 } });
    const url = await server.listen();
    const out = new Map<string, boolean>();
    let n = 0;
    return {
      config: { baseUrl: url, pollMs: 50, pageSize: 3 },
      source: {
        async append(k) {
          const ids: string[] = [];
          for (let i = 0; i < k; i++) {
            const toolId = TOOLS[n % TOOLS.length];
            const action = out.get(toolId) ? 'in' : 'out';
            out.set(toolId, action === 'out');
            const seq = store.record({ toolId, action, holder: 'E0001', at: START + ++n * 60_000 });
            ids.push(`rest:tool-movement:${seq}`);
          }
          return ids;
        },
        async appendMalformed() {
          const seq = store.recordMalformed(
            { toolId: 'T-001', action: 'out', holder: 'E0001', at: 'not-a-date' },
            START + n * 60_000,
          );
          return `/api/tool-movements#${seq}`;
        },
        cleanup: () => server.close(),
      },
    };
  },
});
