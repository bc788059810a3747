import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type GraphQLFormattedError, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Endpoint } from './graphql.js';
import { sleep } from './time.js';

// graphql-ws clients for tests: sockets that report how they closed, one-shot operations, and
// subscriptions whose messages are collected (typed by the operation from test/generated).

export interface Socket {
  client: Client;
  /** Resolves with the close code the first time the socket closes. */
  closed: Promise<number>;
  /** Resolves once the server acknowledged the connection (connection_ack). */
  connected: Promise<void>;
}

export interface SocketOptions {
  /** Reconnect (20 times, 300 ms apart) when the connection drops, as a dashboard would; by default never. */
  retry?: boolean;
  /** Called with every WebSocket the client opens (so a test can cut it). */
  onSocket?: (socket: WebSocket) => void;
}

const clients: Client[] = [];

/** A client of target's /graphql that connects at once, with these connection params (none: undefined). */
export function openSocket(target: { url: string }, connectionParams?: Record<string, unknown>, options: SocketOptions = {}): Socket {
  let onClosed!: (code: number) => void;
  let onConnected!: () => void;
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const client = createClient({
    url: `${target.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: options.onSocket ? reportingWebSocket(options.onSocket) : WebSocket,
    connectionParams,
    lazy: false,
    onNonLazyError: () => {}, // a close we provoke is asserted through `closed`
    on: {
      connected: () => onConnected(),
      closed: (event) => onClosed((event as { code: number }).code),
    },
    ...(options.retry ? { retryAttempts: 20, retryWait: () => sleep(300), shouldRetry: () => true } : { retryAttempts: 0 }),
  });
  clients.push(client);
  return { client, closed, connected };
}

/** A WebSocket class that hands each socket it opens to `onSocket`. */
function reportingWebSocket(onSocket: (socket: WebSocket) => void) {
  return class extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      onSocket(this);
    }
  };
}

/** A client authenticated with `Authorization: Bearer <token>` (the server admin's by default). */
export function connect(target: Endpoint, token: string = target.adminToken, options: SocketOptions = {}): Client {
  return openSocket(target, { authorization: `Bearer ${token}` }, options).client;
}

/** Disposes every client this test file opened (for afterAll). */
export async function closeSockets(): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
}

/** How one operation over a socket ended. */
export interface Outcome<R> {
  data?: R | null;
  errors?: readonly GraphQLFormattedError[];
  /** The messages of the errors the server refused the operation with (it did not run). */
  refused?: string[];
  /** The socket closed before the operation completed, with this code. */
  closedWith?: number;
}

/**
 * Runs one query or mutation over the socket to completion. A typed operation from test/generated,
 * or hand-written text for tests of bad input (over a limit, syntax errors, unknown fields).
 */
export function runOnce<R, V>(client: Client, query: TypedDocumentNode<R, V> | string, variables?: V): Promise<Outcome<R>> {
  return new Promise((resolve) => {
    let result: Outcome<R> = {};
    client.subscribe<R>(
      { query: typeof query === 'string' ? query : print(query), variables: variables as Record<string, unknown> | undefined },
      {
        next: (value) => (result = value),
        // graphql-ws reports an operation that cannot run as an array of GraphQL errors, a closed socket as a CloseEvent.
        error: (error) =>
          resolve(
            Array.isArray(error)
              ? { refused: (error as { message: string }[]).map((e) => e.message) }
              : { closedWith: (error as { code?: number }).code },
          ),
        complete: () => resolve(result),
      },
    );
  });
}

export interface Watch<R> {
  /** Every message so far, with the time it arrived. */
  readonly messages: { at: number; data: R }[];
  readonly errors: unknown[];
  /** The subscription ended (completed by the server, or stopped). */
  readonly completed: boolean;
  readonly done: Promise<void>;
  stop(): Promise<unknown>;
  /** The first message from index `from` whose data matches, waiting up to timeoutMs for it. */
  until(predicate: (data: R) => boolean, timeoutMs?: number, from?: number): Promise<{ at: number; data: R; index: number }>;
}

/** Subscribes and collects the messages of a typed subscription from test/generated. */
export function watch<R, V>(client: Client, document: TypedDocumentNode<R, V>, variables: V): Watch<R> {
  const messages: { at: number; data: R }[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const iterator = client.iterate<R>({ query: print(document), variables: variables as Record<string, unknown> });
  const done = (async () => {
    try {
      for await (const result of iterator) {
        if (result.errors) errors.push(...result.errors);
        else messages.push({ at: Date.now(), data: result.data as R });
      }
    } catch (error) {
      errors.push(error);
    }
    completed = true;
  })();
  return {
    messages,
    errors,
    get completed() {
      return completed;
    },
    done,
    stop: async () => iterator.return?.(),
    async until(predicate, timeoutMs = 5000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = messages.findIndex((m, i) => i >= from && predicate(m.data));
        if (index !== -1) return { ...messages[index]!, index };
        if (Date.now() > deadline) {
          throw new Error(
            `no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.data)).slice(0, 2000)} ${JSON.stringify(errors)}`,
          );
        }
        await sleep(10);
      }
    },
  };
}
