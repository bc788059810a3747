import { type DocumentNode, type ExecutionArgs, GraphQLError, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { findUnstorableText, unstorableText } from '../validation.js';

/**
 * PostgreSQL cannot store U+0000 or lone surrogates, so a string carrying them would fail deep in a
 * query (a 500). Refuse it before execution, naming the variable or argument, for every operation
 * (HTTP and WS).
 */
function nulError(args: ExecutionArgs): GraphQLError | null {
  const inVariable = args.variableValues ? findUnstorableText(args.variableValues) : null;
  if (inVariable) return refusal(`variable $${inVariable.path} ${inVariable.message}`);
  let literal: string | null = null;
  visit(args.document as DocumentNode, {
    Argument(node) {
      visit(node.value, {
        StringValue(value) {
          const message = literal === null ? unstorableText(value.value) : null;
          if (message) literal = `argument ${node.name.value} ${message}`;
        },
      });
      return false;
    },
  });
  return literal === null ? null : refusal(literal);
}

function refusal(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
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
