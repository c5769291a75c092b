import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';

/** Options of `useLimits`. */
export interface LimitsOptions {
  /** Deepest field nesting an operation may have (fragments followed). Default 12. */
  maxDepth?: number;
  /** Most lexer tokens a document may have; checked while parsing, so a huge document costs little. Default 2000. */
  maxTokens?: number;
}

/**
 * Cheap guards against abusive documents, before any subgraph is asked (no graphql-armor
 * package is installed, and both limits are a few lines): `maxTokens` uses graphql-js's own
 * parser limit; `maxDepth` is a validation rule, so the client gets GRAPHQL_VALIDATION_FAILED.
 * Introspection is exempt from the depth limit: GraphiQL's introspection query is deep by design.
 */
export function useLimits(opts: LimitsOptions = {}): GatewayPlugin {
  const maxDepth = opts.maxDepth ?? 12;
  const maxTokens = opts.maxTokens ?? 2000;
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => parseFn(source, { ...options, maxTokens }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule((ctx: ValidationContext) => depthRule(ctx, maxDepth));
    },
  } as GatewayPlugin;
}

function depthRule(ctx: ValidationContext, maxDepth: number): ASTVisitor {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of ctx.getDocument().definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  // A fragment's own depth does not depend on where it is spread: computed once, so fan-out
  // (a fragment spreading another many times) costs linear, not exponential, work.
  const memo = new Map<string, number>();
  const depthOf = (set: SelectionSetNode, visiting: Set<string>): number => {
    let deepest = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        deepest = Math.max(deepest, 1 + (sel.selectionSet ? depthOf(sel.selectionSet, visiting) : 0));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(sel.selectionSet, visiting));
      } else {
        const name = sel.name.value;
        const frag = fragments.get(name);
        // Cycles are NoFragmentCycles' error to report; here they just must not loop.
        if (!frag || visiting.has(name)) continue;
        if (!memo.has(name)) memo.set(name, depthOf(frag.selectionSet, new Set(visiting).add(name)));
        deepest = Math.max(deepest, memo.get(name)!);
      }
    }
    return deepest;
  };
  return {
    OperationDefinition(op) {
      const depth = depthOf(op.selectionSet, new Set());
      if (depth > maxDepth) {
        const name = op.name ? ` ${op.name.value}` : '';
        ctx.reportError(new GraphQLError(`operation${name} is nested ${depth} deep; the limit is ${maxDepth}`, { nodes: [op] }));
      }
    },
  };
}
