import { z } from 'zod';
import { checkTimeZone, parseShifts } from '../serving/calendar.ts';

/**
 * Every setting millrace reads, with its environment variable, default and meaning: the one
 * table of env vars (STYLE.md §3). Nothing else reads process.env.
 */
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

export const configSchema = z.object({
  PORT: int(4000, 0).describe('Gateway port: GraphQL (HTTP + graphql-ws), GraphiQL, /healthz, /status.'),
  HOST: z.string().default('127.0.0.1').describe('Address the gateway and subgraphs listen on.'),
  MILLRACE_DATA_DIR: z
    .string()
    .default('.millrace')
    .describe('Embedded mode: where Postgres data and runtime files live.'),
  DATABASE_URL: z.url().optional().describe('PostgreSQL URL. Unset: embedded Postgres under MILLRACE_DATA_DIR.'),
  REDIS_URL: z.url().optional().describe('Redis URL for the speed layer. Unset: in-process memory store.'),
  KAFKA_BROKERS: z
    .string()
    .optional()
    .describe('Comma-separated Kafka brokers for the log and source topics. Unset: Postgres table topics.'),
  MILLRACE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('millrace')
    .describe('Postgres schema of the pipeline tables.'),
  MILLRACE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('millrace')
    .describe(
      'Names every resource this deployment may share with another (docs/deployments.md): the log topic PREFIX.log, consumer groups PREFIX-loader and PREFIX-connector-NAME, the CDC slot PREFIX_orders, Redis keys {PREFIX}:*.',
    ),
  MILLRACE_PARTITIONS: int(4, 1).describe('Partitions of the log.'),
  MILLRACE_SLICE: int(500, 1).describe('Speed slice size in log offsets; the batch layer folds whole slices.'),
  MILLRACE_STALL_MS: int(30_000, 1).describe(
    'A connector failing this long without a success is `stalled` (status, /healthz degraded, millrace_connector_stalled).',
  ),
  MILLRACE_KAFKA_SESSION_MS: int(30_000, 1).describe(
    'Kafka consumer-group session timeout, ms: how long a killed loader keeps its partitions (broker: 6000–300000).',
  ),
  MILLRACE_REFRESH_MS: int(2000, 10).describe('Pause between batch refresh cycles when there is no backlog, ms.'),
  MILLRACE_BATCH_SNAPSHOT_MS: int(0, 0).describe(
    'Serving: how long a question reuses its batch snapshot, ms (exact prefix; may trail the batch layer by this long); 0 = never.',
  ),
  MILLRACE_SHARE_READS: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      'Serving: identical questions asked together share one read; a question never shares a read that started before it arrived.',
    ),
  EMBEDDED_PG_PORT: int(54329, 1).describe('Embedded Postgres port.'),
  MILLRACE_SOURCES: z
    .string()
    .optional()
    .describe(
      "The plant's sources file (JSON or YAML): every connector, its kind and config (docs/sources.md). Default: the MyCPU example, config/mycpu.sources.json.",
    ),
  MILLRACE_SIMULATOR: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      "Run the MyCPU simulator inside `up` (it writes the sources of config/mycpu.sources.json). `off` for a plant's own sources.",
    ),
  MILLRACE_SIM_RATE: z.coerce.number().positive().default(20).describe('Simulator: machining events per real second.'),
  MILLRACE_SIM_SPEED: z.coerce
    .number()
    .positive()
    .default(1)
    .describe('Simulator: simulated seconds per real second (1 = live; tests and demos speed time up).'),
  MILLRACE_SIM_SEED: int(42).describe('Simulator: PRNG seed.'),
  MILLRACE_URL: z
    .url()
    .optional()
    .describe('Where CLI commands (status, verify) find a running gateway. Default http://HOST:PORT.'),
  MACHINING_TOPIC: z
    .string()
    .default('mycpu.machining')
    .describe('Source topic of live machining events (Kafka, or a table topic embedded).'),
  MACHINING_PARTITIONS: int(2, 1).describe('Partitions of the machining source topic.'),
  LEDGER_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('ledger')
    .describe("Postgres schema of the simulator's ground-truth ledger."),
  FACTORY_DIR: z
    .string()
    .optional()
    .describe(
      'Where the simulator writes its file sources (energy CSV, clock-in workbooks, reference files). Default MILLRACE_DATA_DIR/factory.',
    ),
  HEAT_TOPIC: z.string().default('mycpu.heat').describe('Source topic of the heat sensors.'),
  ORDERS_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('mycpu')
    .describe('Postgres schema of the repair/purchase orders table (read by CDC).'),
  CDC_SLOT: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional()
    .describe(
      'Logical replication slot of the orders CDC connector (its publication is SLOT_pub). Default MILLRACE_PREFIX_orders.',
    ),
  MARIADB_URL: z
    .string()
    .optional()
    .describe(
      'MariaDB holding the machining archive and work orders (the "other SQL engine"). Unset and no MSSQL/Oracle: the embedded or main Postgres.',
    ),
  MSSQL_URL: z.string().optional().describe('SQL Server for the machining archive and work orders (Change Tracking).'),
  ORACLE_URL: z.string().optional().describe('Oracle for the work orders (watermark polling).'),
  TOOL_API_PORT: int(4011, 1).describe(
    'Port of the simulated tool-storage REST API (the tools connector polls it there).',
  ),
  SIM_FAULT_RATE: z.coerce
    .number()
    .min(0)
    .default(1)
    .describe('Simulator fault rates multiplier (0 = a clean factory).'),
  SIM_MACHINING_THREAD: z
    .stringbool()
    .default(true)
    .describe(
      '`millrace simulate`: run the machining simulator in a worker thread of its own (0 = in the main thread, as the other writers).',
    ),
  SUBGRAPH_PORT: int(0, 0).describe(
    'Port of a subgraph started alone (`--target subgraph:<name>`); 0 = any free port.',
  ),
  GATEWAY_WS_MAX_UNSENT_BYTES: int(1 << 20, 1024).describe(
    'Bytes a graphql-ws client may leave unsent before the gateway closes its socket (1008 "slow consumer").',
  ),
  GATEWAY_DEDUP_INFLIGHT: z
    .stringbool()
    .optional()
    .describe(
      'Gateway: identical requests in flight share one execution, which may answer a request with a read from before it arrived. Unset: on without the response cache, off with it (true with the cache is refused: the cache could keep such an answer under newer data; the subgraphs share reads strictly instead). 0 = every request executed (benchmarks).',
    ),
  MILLRACE_RESPONSE_CACHE: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      'Gateway response cache: a query is answered from memory while the data it depends on (batch watermark, loader and speed offsets) has not moved, checked on every request; never for mutations, subscriptions, errors or clock-dependent fields.',
    ),
  MILLRACE_RESPONSE_CACHE_MAX: int(1000, 1).describe(
    'Gateway response cache: most answers kept (least recently used leave first).',
  ),
  MILLRACE_RESPONSE_CACHE_TTL_SEC: int(300, 1).describe(
    'Gateway response cache: age after which an answer is dropped anyway (a backstop; the data version keeps answers exact).',
  ),
  MILLRACE_OTEL_ENDPOINT: z
    .url()
    .optional()
    .describe(
      'OpenTelemetry traces (gateway → subgraph → Postgres/Redis reads) sent over OTLP/HTTP to this URL, e.g. http://collector:4318/v1/traces. Unset: no tracing.',
    ),
  MILLRACE_OTEL_SAMPLE_RATE: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe('Share of requests traced, 0..1 (a subgraph follows the gateway’s decision).'),
  MILLRACE_TIME_ZONE: z
    .string()
    .default('UTC')
    .refine((z0) => {
      try {
        checkTimeZone(z0);
        return true;
      } catch {
        return false;
      }
    }, 'not an IANA time zone (e.g. Europe/Berlin)')
    .describe("The factory's time zone: SHIFT, DAY, WEEK and MONTH buckets follow it unless a query names another."),
  MILLRACE_SHIFTS: z
    .string()
    .default('A=06:00,B=14:00,C=22:00')
    .refine((s0) => {
      try {
        parseShifts(s0);
        return true;
      } catch {
        return false;
      }
    }, 'expected NAME=HH:MM,… with distinct names and times')
    .describe("The factory's shifts, local start times in the factory's time zone (each ends where the next starts)."),
  MILLRACE_HISTORY_START: z.iso
    .datetime({ offset: true })
    .default('2000-01-01T00:00:00Z')
    .describe('Stock figures (work in progress, rework pending, tool life used) count events from this instant on.'),
  MILLRACE_PERSONAL_CONNECTORS: z
    .string()
    .default('clockin')
    .describe(
      "Comma-separated connectors whose input is personal data: their dead letters' raw input needs the pii:read scope.",
    ),
  MILLRACE_ALERT_ZONE_MAX_C: z.coerce
    .number()
    .default(40)
    .describe(
      "Alert (`alerts` query and subscription): a zone's hottest reading of the last 15 minutes above this, °C.",
    ),
  MILLRACE_ALERT_NO_EXIT_MIN: int(15, 1).describe(
    'Alert (`alerts` query and subscription): a flow station with no exits for this many minutes.',
  ),
  MILLRACE_ALERT_CONNECTOR_LAG: int(10_000, 1).describe(
    "Alert (`alerts` and Prometheus rules): a connector's lag behind its source above this.",
  ),
  MILLRACE_ALERT_STALL_SEC: int(300, 1).describe(
    'Alert (`alerts` and Prometheus rules): a connector whose last checkpoint is older than this, seconds (stalled).',
  ),
  MILLRACE_ALERT_EVERY_SEC: int(10, 1).describe(
    'How often the server evaluates the alert rules while an `alerts` subscription is open, seconds.',
  ),
  SUBGRAPH_URLS: z
    .string()
    .optional()
    .describe('Gateway started alone: `name=url,…` of the subgraphs (e.g. production=http://h:4001/graphql).'),
  SUBGRAPH_HOST: z
    .string()
    .default('127.0.0.1')
    .describe(
      'Address the subgraphs listen on. Only the gateway should reach them: set it (e.g. 0.0.0.0) only for a split deployment on a private network.',
    ),
  MILLRACE_AUTH: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      '`off` serves everyone every scope (logged loudly and shown in /healthz). With DATABASE_URL set and `on`, a key source (JWT secret, JWKS URL or API keys) is required.',
    ),
  MILLRACE_JWT_SECRET: z
    .string()
    .min(32)
    .optional()
    .describe(
      'HS256 secret of bearer tokens (≥ 32 chars). Embedded default: a generated one in MILLRACE_DATA_DIR/auth-secret.',
    ),
  MILLRACE_JWKS_URL: z
    .url()
    .optional()
    .describe(
      'JWKS URL of the token issuer (RS/PS/ES algorithms; keys re-fetched on an unknown `kid`, so rotation needs no restart).',
    ),
  MILLRACE_JWT_ISSUER: z.string().optional().describe('Required `iss` of tokens (unchecked when unset).'),
  MILLRACE_JWT_AUDIENCE: z.string().optional().describe('Required `aud` of tokens (unchecked when unset).'),
  MILLRACE_API_KEYS: z
    .string()
    .optional()
    .describe('API keys of machine clients: `name:key:scope+scope,…` (e.g. `grafana:k3y…:ops:read+production:read`).'),
  MILLRACE_TOKEN: z
    .string()
    .optional()
    .describe(
      'CLI (status, verify): bearer token sent to the gateway. Default: the embedded dev token from runtime.json.',
    ),
  MILLRACE_API_KEY: z
    .string()
    .optional()
    .describe('CLI (status, verify): API key sent to the gateway instead of a token.'),
  MILLRACE_CORS_ORIGINS: z
    .string()
    .optional()
    .describe(
      'Comma-separated origins (e.g. `https://ops.example.com`) browsers may call the gateway from besides its own. Default: same origin only.',
    ),
  MILLRACE_INTROSPECTION: z
    .enum(['auto', 'on', 'off'])
    .default('auto')
    .describe('Schema introspection; `auto` = on embedded, off with DATABASE_URL.'),
  MILLRACE_GRAPHIQL: z
    .enum(['auto', 'on', 'off'])
    .default('auto')
    .describe('GraphiQL at GET /graphql; `auto` = on embedded, off with DATABASE_URL.'),
  MILLRACE_MAX_DEPTH: int(12, 1).describe('Deepest field nesting of an operation (DEPTH_LIMIT).'),
  MILLRACE_MAX_ALIASES: int(30, 0).describe('Most aliases in an operation (ALIAS_LIMIT).'),
  MILLRACE_MAX_DIRECTIVES: int(20, 0).describe('Most directives in an operation (DIRECTIVE_LIMIT).'),
  MILLRACE_MAX_TOKENS: int(2000, 1).describe('Most lexer tokens in a document (TOKEN_LIMIT).'),
  MILLRACE_MAX_COST: int(20000, 1).describe(
    'Largest estimated cost of an operation (COST_LIMIT; estimator in gateway/use-cost-limit.ts).',
  ),
  MILLRACE_RATE_PER_MINUTE: int(6000, 0).describe('Operations per minute per client (RATE_LIMITED); 0 = unlimited.'),
  MILLRACE_RATE_BURST: int(300, 1).describe('Operations a client may send at once above the steady rate.'),
  MILLRACE_MAX_BODY_BYTES: int(65536, 1).describe('Largest request body, bytes (BODY_TOO_LARGE).'),
  MILLRACE_MAX_VARIABLES_BYTES: int(16384, 1).describe(
    'Largest variables object, bytes of JSON (VARIABLES_TOO_LARGE).',
  ),
  MILLRACE_DEADLINE_MS: int(10000, 0).describe(
    'Deadline of a query, ms (DEADLINE_EXCEEDED), carried to Postgres (statement_timeout) and Redis; 0 = none.',
  ),
  MILLRACE_PERSISTED_OPERATIONS: z
    .string()
    .optional()
    .describe(
      'JSON file `{ "<id>": "<document>" }` of persisted operations (sent as `documentId` or `extensions.persistedQuery.sha256Hash`).',
    ),
  MILLRACE_PERSISTED_ONLY: z
    .stringbool()
    .default(false)
    .describe(
      'Refuse every document that is not a persisted operation (for a deployment that only serves the dashboard).',
    ),
  SERVING_POOL_SIZE: int(10, 1).describe(
    "Connections of the serving Postgres pool (separate from the loader's, so queries cannot starve ingest).",
  ),
});

export type Config = z.infer<typeof configSchema>;

/** Parse the environment; a bad value fails naming the variable and what it expects. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked = Object.fromEntries(
    Object.keys(configSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${String(i.path[0])}=${JSON.stringify(picked[String(i.path[0])])}: ${i.message}`,
    );
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The env var table as Markdown (the README's configuration section is generated from it). */
export function configTable(): string {
  const rows = Object.entries(configSchema.shape).map(([k, v]) => {
    const def = (v as z.ZodType).safeParse(undefined);
    const d = def.success && def.data !== undefined ? `\`${String(def.data)}\`` : '—';
    return `| \`${k}\` | ${d} | ${(v as z.ZodType).description ?? ''} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
