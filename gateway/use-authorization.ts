import { GraphQLError } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { useGenericAuth, type ValidateUserFnParams } from '@envelop/generic-auth';
import { PRINCIPAL } from './use-authentication.ts';
import type { Principal } from './create-authenticator.ts';

/**
 * Scopes from the schema, nothing else: `@requiresScopes(scopes: [["a", "b"], ["c"]])` (a and b,
 * or c) and `@authenticated` on fields and types, as the subgraphs declare them and composition
 * carries them into the supergraph (Federation 2.5). `@envelop/generic-auth` checks every selected
 * field against them before execution; a field the principal may not read is removed from the
 * operation and answered `null` with a FORBIDDEN error at its path, so the rest of the answer
 * still arrives. A subscription missing a scope is refused as a whole.
 */
export function useAuthorization(): GatewayPlugin {
  return useGenericAuth<Principal, Record<string, unknown>, typeof PRINCIPAL>({
    mode: 'protect-granular',
    contextFieldName: PRINCIPAL,
    resolveUserFn: (context) => (context[PRINCIPAL] as Principal | undefined) ?? null,
    extractScopes: (principal) => principal.scopes,
    rejectUnauthenticated: false,
    validateUser: checkScopes,
  }) as unknown as GatewayPlugin;
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
    return new GraphQLError(`${where} needs scope ${need}`, { ...at, extensions: { code: 'FORBIDDEN', requiredScopes: required } });
  }
  return undefined;
}
