import { getOperationAST, type ExecutionResult, type GraphQLError } from 'graphql';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/** Options of `useOperationMetrics`. */
export interface OperationMetricsOptions {
  /** Where the metrics are registered (the one `/metrics` serves). */
  registry: Registry;
  /** Distinct operation names kept as labels; the rest count as `other`. Default 200. */
  maxOperations?: number;
}

/**
 * Per-operation Prometheus metrics: `millrace_graphql_operations_total{operation,type}`,
 * `millrace_graphql_errors_total{operation,code}` and the latency histogram
 * `millrace_graphql_operation_duration_seconds{operation,type}`. Also counts operations refused
 * before execution (auth, limits) under operation `-`, so an attack shows up on the dashboard.
 */
export function useOperationMetrics(opts: OperationMetricsOptions): GatewayPlugin {
  const registers = [opts.registry];
  const ops = new Counter({
    name: 'millrace_graphql_operations_total',
    help: 'GraphQL operations executed, by operation name and type.',
    labelNames: ['operation', 'type'],
    registers,
  });
  const errors = new Counter({
    name: 'millrace_graphql_errors_total',
    help: 'GraphQL errors returned, by operation name and extensions.code.',
    labelNames: ['operation', 'code'],
    registers,
  });
  const latency = new Histogram({
    name: 'millrace_graphql_operation_duration_seconds',
    help: 'Time from execution start to result (subscriptions: to the first event setup).',
    labelNames: ['operation', 'type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const known = new Set<string>();
  const maxOps = opts.maxOperations ?? 200;
  const label = (name: string | undefined) => {
    const n = name ?? 'anonymous';
    if (known.has(n)) return n;
    if (known.size >= maxOps) return 'other';
    known.add(n);
    return n;
  };
  // The labelled children, looked up once per label pair rather than by hashing the labels on every operation.
  const children = new Map<string, { count: Counter.Internal; time: Histogram.Internal<string> }>();
  const perOperation = (operation: string, type: string) => {
    const key = `${type} ${operation}`;
    let c = children.get(key);
    if (!c)
      children.set(key, (c = { count: ops.labels({ operation, type }), time: latency.labels({ operation, type }) }));
    return c;
  };
  const countErrors = (operation: string, list: readonly GraphQLError[] | undefined) => {
    for (const e of list ?? []) errors.inc({ operation, code: String(e.extensions?.code ?? 'UNKNOWN') });
  };
  const measure = ({
    args,
  }: {
    args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null };
  }) => {
    const ast = getOperationAST(args.document, args.operationName ?? undefined);
    const operation = label(args.operationName ?? ast?.name?.value);
    const type = ast?.operation ?? 'query';
    const { count, time } = perOperation(operation, type);
    const end = time.startTimer();
    count.inc();
    const done = ({ result }: { result: unknown }) => {
      end();
      if (result && typeof result === 'object' && Symbol.asyncIterator in result) {
        return { onNext: ({ result: r }: { result: ExecutionResult }) => countErrors(operation, r.errors) };
      }
      countErrors(operation, (result as ExecutionResult).errors);
      return undefined;
    };
    return { onExecuteDone: done, onSubscribeResult: done };
  };
  return {
    onExecute: measure,
    onSubscribe: measure,
    onResultProcess({ result }: { result: unknown }) {
      // Refused before execution (no operation ran): the request's errors only.
      const r = result as ExecutionResult & { [k: symbol]: unknown };
      if (r && !Array.isArray(r) && typeof r === 'object' && !('data' in r) && Array.isArray(r.errors))
        countErrors('-', r.errors as GraphQLError[]);
    },
  } as unknown as GatewayPlugin;
}
