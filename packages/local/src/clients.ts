import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Static credentials the emulators accept (they do not check signatures). */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * The dummy credentials used against the local stack.
 *
 * A plain object, deliberately not frozen: the AWS SDK tags the credential objects it is
 * given (`$source`) and fails on a frozen one. Prefer `stack.credentials` or
 * {@link localCredentials}, which hand out a fresh copy every time, so no object is shared
 * between clients.
 */
export const LOCAL_CREDENTIALS: LocalCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * A fresh, unfrozen copy of `credentials` (default: the dummy local credentials) to hand
 * to one AWS SDK client. Only the two key fields are copied, so attributes the SDK added
 * to the original (`$source`) are not shared.
 */
export function localCredentials(credentials: LocalCredentials = LOCAL_CREDENTIALS): LocalCredentials {
  return { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey };
}

/** Where a client should point. */
export interface LocalClientTarget {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials?: LocalCredentials;
  /** SDK retry attempts. @default SDK default (3) */
  readonly maxAttempts?: number;
}

/**
 * A new `KinesisClient` for a local emulator. It uses the HTTP/1.1 `NodeHttpHandler`:
 * the SDK's default HTTP/2 handler fails against plain-HTTP emulators with
 * `ERR_HTTP2_ERROR`. The caller owns the client and should `destroy()` it.
 */
export function createLocalKinesisClient(target: LocalClientTarget): KinesisClient {
  return new KinesisClient({
    endpoint: target.endpoint,
    region: target.region,
    credentials: localCredentials(target.credentials),
    requestHandler: new NodeHttpHandler(),
    ...(target.maxAttempts !== undefined ? { maxAttempts: target.maxAttempts } : {}),
  });
}

/** A new `DynamoDBClient` for a local emulator (HTTP/1.1 handler). The caller owns it. */
export function createLocalDynamoDbClient(target: LocalClientTarget): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: target.endpoint,
    region: target.region,
    credentials: localCredentials(target.credentials),
    requestHandler: new NodeHttpHandler(),
    ...(target.maxAttempts !== undefined ? { maxAttempts: target.maxAttempts } : {}),
  });
}
