import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';

/**
 * What our execute/subscribe plugins read of envelop's `onExecute`/`onSubscribe` payload (the
 * gateway runtime's plugin type leaves it loosely typed): the operation about to run and the way
 * to answer it without running it.
 */
export interface ExecuteHookPayload {
  args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    operationName?: string | null;
    variableValues?: Record<string, unknown> | null;
    contextValue: Record<string, unknown>;
  };
  setResultAndStopExecution: (r: ExecutionResult) => void;
}
