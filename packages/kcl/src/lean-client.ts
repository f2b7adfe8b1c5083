/**
 * Per-call work the AWS SDK v3 does that the clients the Worker builds itself do not need.
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';

type Headers = Record<string, string>;
type Handler = (args: { request: unknown }) => Promise<unknown>;
/** The part of the SDK's middleware stack used here. */
interface Stack {
  add(middleware: (next: Handler) => Handler, options: { step: string; name: string; priority: string; tags: string[]; override: true }): void;
}
type UserAgentPair = readonly [string, string?];
/** The resolved settings of a client that its user agent is made of. */
interface UserAgentConfig {
  readonly defaultUserAgentProvider: () => Promise<readonly UserAgentPair[]>;
  readonly customUserAgent?: readonly UserAgentPair[];
}

const NAME_ESCAPE = /[^!$%&'*+\-.^_`|~\w]/g;
const VALUE_ESCAPE = /[^!$%&'*+\-.^_`|~\w#]/g;

/**
 * Replaces two middlewares of a client the Worker built (never a client the application
 * gave) by cheaper ones; an idle worker's CPU is mostly this per-call work (an empty
 * GetRecords or a lease renewal costs about 1 ms of CPU in the SDK, measured):
 * - the retry middleware: with `maxAttempts: 1` it retries nothing (kcl-ts's `withRetries` is
 *   the one retry layer), yet it generates a UUID and sets two headers on every call;
 * - the user-agent middleware: it rebuilds and escapes the same header on every call; here it
 *   is built once per client, from the same parts (`defaultUserAgentProvider`,
 *   `customUserAgent`), without the per-call feature list (`m/…`).
 * Returns the client.
 */
export function withLeanMiddleware<C extends KinesisClient | DynamoDBClient>(client: C): C {
  const stack = client.middlewareStack as unknown as Stack;
  replace(stack, (next) => next, { step: 'finalizeRequest', name: 'retryMiddleware', priority: 'high', tags: ['RETRY'], override: true });
  const config = client.config as unknown as UserAgentConfig;
  let headers: Headers | undefined;
  let pending: Promise<Headers> | undefined;
  replace(
    stack,
    (next) => (args) => {
      const request = args.request as { headers?: Headers };
      if (request.headers === undefined) return next(args);
      if (headers !== undefined) {
        Object.assign(request.headers, headers); // every call after the first: no await
        return next(args);
      }
      pending ??= userAgentHeaders(config).then((built) => (headers = built));
      return pending.then((built) => {
        Object.assign(request.headers!, built);
        return next(args);
      });
    },
    { step: 'build', name: 'getUserAgentMiddleware', priority: 'low', tags: ['SET_USER_AGENT', 'USER_AGENT'], override: true },
  );
  return client;
}

/**
 * Overrides a middleware of the SDK by name. An SDK release that placed it in another step or
 * priority refuses the override: the client then keeps the SDK's own (it only costs more).
 */
function replace(stack: Stack, middleware: (next: Handler) => Handler, options: Parameters<Stack['add']>[1]): void {
  try {
    stack.add(middleware, options);
  } catch {
    // keep the SDK's middleware
  }
}

async function userAgentHeaders(config: UserAgentConfig): Promise<Headers> {
  const sections = (await config.defaultUserAgentProvider()).map(formatPair);
  const custom = (config.customUserAgent ?? []).map(formatPair);
  return {
    'user-agent': [...sections, ...custom].join(' '),
    'x-amz-user-agent': [...sections.filter((s) => s.startsWith('aws-sdk-')), ...custom].join(' '),
  };
}

/** One user-agent section as the SDK writes it: `name/version`, or `prefix/name#version`. */
function formatPair([name, version]: UserAgentPair): string {
  const [prefix = '', ...rest] = name.split('/').map((part) => part.replace(NAME_ESCAPE, '-'));
  const value = version?.replace(VALUE_ESCAPE, '-');
  if (rest.length === 0) return value ? `${prefix}/${value}` : prefix;
  const tail = prefix === 'api' ? rest.join('/').toLowerCase() : rest.join('/');
  return value ? `${prefix}/${tail}#${value}` : `${prefix}/${tail}`;
}
