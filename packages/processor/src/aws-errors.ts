/**
 * The one classifier of AWS SDK errors in kcl-ts. Every call to Kinesis or DynamoDB is
 * retried (or not) by {@link withRetries} according to what this module says, so the
 * library has one retry layer and one list of error names. It builds on the SDK's own
 * classification (`@smithy/core/retry`: throttling names and HTTP 429, timeouts, network
 * errors, 5xx) and adds the few service-specific names the SDK does not know.
 * @module
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/**
 * What a failed AWS call means for the caller:
 * - `throttled`: slow down and try again (throttling, `KMSThrottlingException`, HTTP 429);
 * - `transient`: try again a bounded number of times (5xx, timeouts, dropped connections);
 * - `fenced`: a conditional write lost its condition (`ConditionalCheckFailedException`);
 * - `expired-iterator`: a Kinesis shard iterator expired: get a new one;
 * - `not-found`: the stream, shard or table does not exist (any more);
 * - `in-use`: the resource is being created or changed (`ResourceInUseException`);
 * - `fatal`: anything else (bad arguments, access denied): give up.
 */
export type AwsErrorKind = 'throttled' | 'transient' | 'fenced' | 'expired-iterator' | 'not-found' | 'in-use' | 'fatal';

/** Throttling names of Kinesis and DynamoDB that the SDK's list lacks. */
const SERVICE_THROTTLING = new Set(['KMSThrottlingException']);
/** Server-side failure names the services use without a 5xx status in some paths (and emulators). */
const SERVICE_TRANSIENT = new Set(['InternalFailure', 'InternalFailureException', 'InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException']);
/** Connection failures Node reports that the SDK's lists lack. */
const NETWORK_CODES = new Set(['ECONNABORTED']);

interface AwsErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: { readonly throttling?: unknown } | unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly cause?: unknown;
}

/** The AWS error name (`ResourceNotFoundException`, …) of an error, if it has one. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as AwsErrorShape).name;
  return typeof name === 'string' ? name : undefined;
}

/** Classifies an error thrown by an AWS SDK v3 client's `send` (or by the network under it). */
export function classifyAwsError(error: unknown): AwsErrorKind {
  if (typeof error !== 'object' || error === null) return 'fatal';
  const e = error as AwsErrorShape & Parameters<typeof isThrottlingError>[0];
  const name = awsErrorName(error) ?? '';
  switch (name) {
    case 'ConditionalCheckFailedException':
      return 'fenced';
    case 'ExpiredIteratorException':
      return 'expired-iterator';
    case 'ResourceNotFoundException':
      return 'not-found';
    case 'ResourceInUseException':
      return 'in-use';
    default:
  }
  const retryable = e.$retryable;
  if (isThrottlingError(e) || SERVICE_THROTTLING.has(name) || (typeof retryable === 'object' && retryable !== null && (retryable as { throttling?: unknown }).throttling === true)) {
    return 'throttled';
  }
  if (isTransient(e, 0)) return 'transient';
  return 'fatal';
}

/** True for `throttled` and `transient` errors: the ones {@link withRetries} tries again. */
export function isRetryableAwsError(error: unknown): boolean {
  const kind = classifyAwsError(error);
  return kind === 'throttled' || kind === 'transient';
}

function isTransient(e: AwsErrorShape, depth: number): boolean {
  const sdkShape = e as Parameters<typeof isTransientError>[0];
  if (isTransientError(sdkShape) || isServerError(sdkShape)) return true;
  const name = awsErrorName(e);
  if (name !== undefined && SERVICE_TRANSIENT.has(name)) return true;
  if (e.$fault === 'server' || e.$retryable !== undefined) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const cause = e.cause;
  return depth < 3 && typeof cause === 'object' && cause !== null && cause !== e && isTransient(cause as AwsErrorShape, depth + 1);
}
