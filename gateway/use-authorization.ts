import {
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  getOperationAST,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { getDirectiveExtensions } from '@graphql-tools/utils';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { useGenericAuth, type ValidateUserFnParams } from '@envelop/generic-auth';
import { PRINCIPAL } from './use-authentication.ts';
import type { Principal } from './create-authenticator.ts';
import { createDocumentMemo, hasConditionalFields } from './document-memo.ts';
import type { ExecuteHookPayload } from './execute-hook.ts';

/**
 * Scopes from the schema, nothing else: `@requiresScopes(scopes: [["a", "b"], ["c"]])` (a and b,
 * or c) and `@authenticated` on fields and types, as the subgraphs declare them and composition
 * carries them into the supergraph (Federation 2.5). `@envelop/generic-auth` checks every selected
 * field against them before execution; a field the principal may not read is removed from the
 * operation and answered `null` with a FORBIDDEN error at its path, so the rest of the answer
 * still arrives. A subscription missing a scope is refused as a whole.
 */
export function useAuthorization(): GatewayPlugin {
  const fieldChecks = useGenericAuth<Principal, Record<string, unknown>, typeof PRINCIPAL>({
    mode: 'protect-granular',
    contextFieldName: PRINCIPAL,
    resolveUserFn: (context) => (context[PRINCIPAL] as Principal | undefined) ?? null,
    extractScopes: (principal) => principal.scopes,
    rejectUnauthenticated: false,
    // A field the operation leaves out (`@skip(if: true)`, `@include(if: false)`, also on an
    // enclosing field or fragment) is never executed, so it needs no scope: a dashboard can ask
    // `worker @include(if: $pii) { name }` of every user.
    validateUser: (p) => (skippedFields(p.executionArgs).has(p.fieldNode) ? undefined : checkScopes(p)),
  }) as unknown as GatewayPlugin;
  return {
    onPluginInit({ addPlugin }: { addPlugin: (p: GatewayPlugin) => void }) {
      // First: generic-auth would strip a forbidden root subscription field, leaving an empty
      // (invalid) subscription; a subscription the principal may not read is refused whole here.
      addPlugin({ onSubscribe: refuseSubscription } as GatewayPlugin);
      addPlugin(memoiseChecks(fieldChecks));
    },
  } as GatewayPlugin;
}

type Hook = (payload: ExecuteHookPayload) => unknown;

/** What generic-auth's checks made of one request: the document they left and their result hooks. */
interface Outcome {
  document: DocumentNode;
  hooks: unknown;
}

/**
 * generic-auth runs its checks as validation rules over the whole document on every request
 * (`@envelop/extended-validation`, at execute/subscribe). What they decide depends only on the
 * schema, the document, the operation, the caller's scopes (or that there is no caller) and,
 * through `@skip`/`@include`, the variables; so the outcome is remembered under exactly those
 * (createDocumentMemo) and a request that matches one gets what the checks gave the first: the
 * same rewritten document (forbidden fields removed) and the same result hooks (which add the
 * FORBIDDEN/UNAUTHENTICATED errors and null their paths). A first run that stopped the operation
 * itself, or did not run the rules, is not remembered.
 */
function memoiseChecks(genericAuth: GatewayPlugin): GatewayPlugin {
  const memo = createDocumentMemo<Outcome>();
  const wrap =
    (check: Hook): Hook =>
    (payload) => {
      const { args } = payload;
      const principal = args.contextValue[PRINCIPAL] as Principal | null | undefined;
      const key = JSON.stringify([
        args.operationName ?? null,
        principal ? [...new Set(principal.scopes)].sort() : null,
        hasConditionalFields(args.document) ? (args.variableValues ?? null) : null,
      ]);
      const known = memo.get(args.schema, args.document, key);
      if (known) {
        args.document = known.document;
        return known.hooks;
      }
      const original = args.document;
      let stopped = false;
      const hooks = check({
        ...payload,
        args,
        setResultAndStopExecution: (r) => {
          stopped = true;
          payload.setResultAndStopExecution(r);
        },
      });
      // The rules ran iff the document was replaced (generic-auth always rebuilds it after them).
      if (!stopped && args.document !== original)
        memo.set(args.schema, original, key, { document: args.document, hooks });
      return hooks;
    };
  const init = (genericAuth as { onPluginInit: (p: { addPlugin: (p: GatewayPlugin) => void }) => void }).onPluginInit;
  return {
    ...genericAuth,
    onPluginInit(payload: { addPlugin: (p: GatewayPlugin) => void }) {
      init({
        ...payload,
        addPlugin: (plugin) => {
          const p = plugin as { onExecute?: Hook; onSubscribe?: Hook };
          payload.addPlugin({
            ...plugin,
            ...(p.onExecute && { onExecute: wrap(p.onExecute) }),
            ...(p.onSubscribe && { onSubscribe: wrap(p.onSubscribe) }),
          } as GatewayPlugin);
        },
      });
    },
  } as GatewayPlugin;
}

function refuseSubscription({ args, setResultAndStopExecution }: ExecuteHookPayload) {
  const op = getOperationAST(args.document, args.operationName ?? undefined);
  const type = args.schema.getSubscriptionType();
  if (op?.operation !== 'subscription' || !type) return;
  const principal = (args.contextValue[PRINCIPAL] as Principal | undefined) ?? null;
  const typeDirectives = getDirectiveExtensions(type, args.schema);
  for (const sel of op.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD) continue;
    const field = type.getFields()[sel.name.value];
    if (!field) continue;
    const fieldDirectives = getDirectiveExtensions(field, args.schema);
    const error = checkScopes({
      user: principal,
      fieldNode: sel,
      parentType: type,
      field,
      path: [sel.alias?.value ?? sel.name.value],
      typeScopes: (typeDirectives.requiresScopes?.[0] as { scopes?: string[][] } | undefined)?.scopes,
      fieldScopes: (fieldDirectives.requiresScopes?.[0] as { scopes?: string[][] } | undefined)?.scopes,
      typeAuthArgs: typeDirectives.authenticated?.[0],
      fieldAuthArgs: fieldDirectives.authenticated?.[0],
      userScopes: principal?.scopes ?? [],
    } as unknown as ValidateUserFnParams<Principal>);
    if (error) return setResultAndStopExecution({ errors: [error] });
  }
}

function checkScopes(p: ValidateUserFnParams<Principal>): GraphQLError | undefined {
  const where = `${p.parentType.name}.${p.field.name}`;
  const at = { nodes: [p.fieldNode], path: p.path };
  if (!p.user && (p.fieldAuthArgs || p.typeAuthArgs || p.fieldScopes || p.typeScopes)) {
    return new GraphQLError(`${where} needs authentication`, { ...at, extensions: { code: 'UNAUTHENTICATED' } });
  }
  for (const required of [p.typeScopes, p.fieldScopes]) {
    if (!required?.length) continue;
    // One inner list suffices (OR); every scope in it is needed (AND).
    if (required.some((all) => all.every((s) => p.userScopes.includes(s)))) continue;
    const need = required.map((all) => all.join(' and ')).join(' or ');
    return new GraphQLError(`${where} needs scope ${need}`, {
      ...at,
      extensions: { code: 'FORBIDDEN', requiredScopes: required },
    });
  }
  return undefined;
}

const skippedCache = new WeakMap<object, Set<FieldNode>>();

/**
 * The field nodes of the operation that `@skip`/`@include` leave out in every place they occur
 * (a fragment's field can be spread both where it is skipped and where it is not).
 */
function skippedFields(args: ExecutionArgs): Set<FieldNode> {
  const cached = skippedCache.get(args);
  if (cached) return cached;
  const vars = (args.variableValues ?? {}) as Record<string, unknown>;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of args.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const included = new Set<FieldNode>();
  const skipped = new Set<FieldNode>();
  const excluded = (node: Parameters<typeof getDirectiveValues>[1]) =>
    getDirectiveValues(GraphQLSkipDirective, node, vars)?.if === true ||
    getDirectiveValues(GraphQLIncludeDirective, node, vars)?.if === false;
  const walk = (set: SelectionSetNode | undefined, off: boolean, seen: Set<string>) => {
    for (const sel of set?.selections ?? []) {
      const isOff = off || excluded(sel);
      if (sel.kind === Kind.FIELD) {
        (isOff ? skipped : included).add(sel);
        walk(sel.selectionSet, isOff, seen);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet, isOff, seen);
      else if (!seen.has(sel.name.value)) {
        // Cycles are a validation error of their own; a spread is followed once per path.
        walk(fragments.get(sel.name.value)?.selectionSet, isOff, new Set([...seen, sel.name.value]));
      }
    }
  };
  const op = getOperationAST(args.document, args.operationName ?? undefined);
  walk(op?.selectionSet, false, new Set());
  for (const f of included) skipped.delete(f);
  skippedCache.set(args, skipped);
  return skipped;
}
