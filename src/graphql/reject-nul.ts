import { GraphQLError, visit, type DocumentNode, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { findNulPath } from '../validation.js';

/**
 * PostgreSQL text cannot hold U+0000, so a string carrying it would fail deep in a query (a 500).
 * Refuse it before execution, naming the variable or argument, for every operation (HTTP and WS).
 */
function nulError(args: ExecutionArgs): GraphQLError | null {
  const inVariable = args.variableValues ? findNulPath(args.variableValues) : null;
  if (inVariable !== null) return refusal(`variable $${inVariable}`);
  let literal: string | null = null;
  visit(args.document as DocumentNode, {
    Argument(node) {
      visit(node.value, {
        StringValue(value) {
          if (literal === null && value.value.includes('\u0000')) literal = `argument ${node.name.value}`;
        },
      });
      return false;
    },
  });
  return literal === null ? null : refusal(literal);
}

function refusal(where: string): GraphQLError {
  return new GraphQLError(`${where} must not contain the NUL character (\\u0000)`, { extensions: { code: 'BAD_USER_INPUT' } });
}

export function rejectNulCharacters(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = nulError(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = nulError(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
