import { GraphQLError, type ValidationContext } from 'graphql';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';

/** Options of `useLimits`. */
export interface LimitsOptions {
  /** Deepest field nesting an operation may have (fragments followed; introspection exempt). Default 12. */
  maxDepth?: number;
  /** Most lexer tokens a document may have; checked while parsing, so a huge document costs little. Default 2000. */
  maxTokens?: number;
  /** Most aliases in an operation (fragments counted where spread). Default 30. */
  maxAliases?: number;
  /** Most directives in an operation. Default 20. */
  maxDirectives?: number;
}

/** The code of each limit's error, so a client can tell which one it hit. */
export const LIMIT_CODES = {
  depth: 'DEPTH_LIMIT',
  tokens: 'TOKEN_LIMIT',
  aliases: 'ALIAS_LIMIT',
  directives: 'DIRECTIVE_LIMIT',
} as const;

/**
 * Shape limits on the document, before any subgraph is asked: depth, aliases and directives are
 * graphql-armor validation rules (their rejection re-raised with a code of its own), tokens use
 * graphql-js's parser limit (it stops lexing at the limit, so a huge document costs little).
 */
export function useLimits(opts: LimitsOptions = {}): GatewayPlugin {
  const maxTokens = opts.maxTokens ?? 2000;
  const coded = (code: string) => [
    (ctx: ValidationContext | null, err: GraphQLError) =>
      ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, ''), { extensions: { code } })),
  ];
  const rules = [
    maxDepthRule({
      n: opts.maxDepth ?? 12,
      ignoreIntrospection: true,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: coded(LIMIT_CODES.depth),
    }),
    maxAliasesRule({ n: opts.maxAliases ?? 30, propagateOnRejection: false, onReject: coded(LIMIT_CODES.aliases) }),
    maxDirectivesRule({
      n: opts.maxDirectives ?? 20,
      propagateOnRejection: false,
      onReject: coded(LIMIT_CODES.directives),
    }),
  ];
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parseFn(source, { ...options, maxTokens });
        } catch (err) {
          if (err instanceof GraphQLError && /tokens/.test(err.message)) {
            throw new GraphQLError(`the document has more than ${maxTokens} tokens`, {
              extensions: { code: LIMIT_CODES.tokens, http: { status: 400 } },
            });
          }
          throw err;
        }
      });
    },
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
    },
  } as GatewayPlugin;
}
