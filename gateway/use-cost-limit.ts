import {
  GraphQLError,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type FieldNode,
} from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { createDocumentMemo } from './document-memo.ts';
import type { ExecuteHookPayload } from './execute-hook.ts';

/** Options of `useCostLimit` (the estimator is described on `estimateCost`). */
export interface CostLimitOptions {
  /** Largest estimated cost an operation may have. Default 20 000. */
  maxCost?: number;
  /** Size assumed for a list without a `limit`/`first`/`last` argument. Default 20. */
  defaultListSize?: number;
  /** Added for every field with a time range (`from`, `to`): one store read. Default 10. */
  readCost?: number;
}

export const COST_CODE = 'COST_LIMIT';

const GRAIN_MS: Record<string, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

/**
 * Refuses an operation whose estimated cost is over `maxCost` (COST_LIMIT, before any subgraph
 * is asked). It runs at execute time, not validation, because the arguments that make a field
 * expensive are often variables.
 */
export function useCostLimit(opts: CostLimitOptions = {}): GatewayPlugin {
  const maxCost = opts.maxCost ?? 20_000;
  const refuse = (cost: number) => ({
    errors: [
      new GraphQLError(`the operation's estimated cost is ${cost}; the limit is ${maxCost}`, {
        extensions: { code: COST_CODE, cost, maxCost },
      }),
    ],
  });
  // The estimate depends only on the schema, the document, the operation and the variables.
  const memo = createDocumentMemo<number>();
  const check = ({ args, setResultAndStopExecution }: ExecuteHookPayload) => {
    const op = args.operationName ?? undefined;
    const variables = args.variableValues ?? {};
    const key = JSON.stringify([op ?? '', variables]);
    let cost = memo.get(args.schema, args.document, key);
    if (cost === undefined) {
      cost = estimateCost(args.schema, args.document, op, variables, opts);
      memo.set(args.schema, args.document, key, cost);
    }
    if (cost > maxCost) setResultAndStopExecution(refuse(cost));
  };
  return { onExecute: check, onSubscribe: check } as unknown as GatewayPlugin;
}

/**
 * A documented, deliberately simple estimate of what an operation makes the servers do:
 * - every field costs 1;
 * - a field with `from`/`to` arguments is a store read: `readCost` plus one per bucket, where
 *   buckets = (to − from) ÷ grain (its `grain` argument; HOUR when it has none);
 * - a list multiplies what is below it by its size: its `limit`/`first`/`last` argument, else
 *   `defaultListSize` (a series' points are charged through its buckets above, not again here);
 * - a fragment is costed once and counted where spread (so spreading one fragment many times
 *   does not make the estimate itself expensive, while its cost still adds up).
 * 150 aliases of `stations { errorRate(from, to) }` over a day: 150 × 20 × (1 + 10 + 24) ≈ 105 000.
 */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown>,
  opts: CostLimitOptions = {},
): number {
  const listSize = opts.defaultListSize ?? 20;
  const readCost = opts.readCost ?? 10;
  const fragments = new Map<string, FragmentDefinitionNode>();
  let op: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName)) op ??= d;
  }
  if (!op) return 0;
  const root = schema.getRootType(op.operation);
  if (!root) return 0;
  const memo = new Map<string, number>();

  const argsOf = (field: FieldNode): Record<string, unknown> =>
    Object.fromEntries((field.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value, variables)]));

  const costOf = (set: SelectionSetNode, type: GraphQLCompositeType, visiting: Set<string>): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        const def = fieldsOf(type)[sel.name.value];
        if (!def) continue;
        const args = argsOf(sel);
        let cost = 1;
        const from = Date.parse(String(args.from ?? ''));
        const to = Date.parse(String(args.to ?? ''));
        if (Number.isFinite(from) && Number.isFinite(to)) {
          cost += readCost + Math.max(1, Math.ceil((to - from) / (GRAIN_MS[String(args.grain)] ?? GRAIN_MS.HOUR)));
        }
        // By the type's printed form, not instanceof: the schema may come from another copy of graphql-js.
        const printed = String(def.type).replace(/!$/, '');
        const named = schema.getType(printed.replace(/[[\]!]/g, '')) as GraphQLCompositeType | undefined;
        if (sel.selectionSet && named) {
          const limit = [args.limit, args.first, args.last].find((v) => typeof v === 'number' && v >= 0) as
            number | undefined;
          const size = printed.startsWith('[') ? (limit ?? listSize) : 1;
          cost += size * costOf(sel.selectionSet, named, visiting);
        }
        total += cost;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition
          ? (schema.getType(sel.typeCondition.name.value) as GraphQLCompositeType | undefined)
          : type;
        total += costOf(sel.selectionSet, t ?? type, visiting);
      } else {
        const name = sel.name.value;
        const frag = fragments.get(name);
        if (!frag || visiting.has(name)) continue;
        if (!memo.has(name)) {
          const t = (schema.getType(frag.typeCondition.name.value) as GraphQLCompositeType | undefined) ?? type;
          memo.set(name, costOf(frag.selectionSet, t, new Set(visiting).add(name)));
        }
        total += memo.get(name)!;
      }
    }
    return total;
  };
  return costOf(op.selectionSet, root, new Set());
}

function fieldsOf(type: GraphQLCompositeType): Record<string, GraphQLField<unknown, unknown>> {
  return 'getFields' in type && typeof type.getFields === 'function'
    ? (type.getFields() as Record<string, GraphQLField<unknown, unknown>>)
    : {};
}
