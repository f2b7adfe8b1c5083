/**
 * Classification of errors thrown by the Kinesis client, so retrieval can decide between
 * retrying, renewing the iterator and giving up.
 * @module
 */
import { isTransientAwsError } from '@kcl-ts/processor';

/** How retrieval reacts to a failed Kinesis call. */
export type KinesisErrorKind =
  /** Throttled: back off and retry, without limit. */
  | 'throttled'
  /** The shard iterator expired: get a new one. */
  | 'expired-iterator'
  /** The stream or shard does not exist (any more). */
  | 'not-found'
  /** 5xx, network error or timeout: back off and retry a bounded number of times. */
  | 'transient'
  /** Anything else (bad arguments, access denied, KMS misconfiguration): give up. */
  | 'fatal';

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'KMSThrottlingException', 'ThrottlingException', 'Throttling', 'TooManyRequestsException']);
const TRANSIENT_NAMES = new Set(['InternalFailureException', 'InternalFailure', 'ServiceUnavailable', 'ServiceUnavailableException', 'InternalServerError', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
}

/** Classifies an error thrown by `KinesisClient.send`. */
export function classifyKinesisError(error: unknown): KinesisErrorKind {
  if (typeof error !== 'object' || error === null) return 'fatal';
  const e = error as AwsLikeError;
  const name = typeof e.name === 'string' ? e.name : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (THROTTLING.has(name) || status === 429 || e.$retryable?.throttling === true) return 'throttled';
  if (name === 'ExpiredIteratorException') return 'expired-iterator';
  if (name === 'ResourceNotFoundException') return 'not-found';
  if (TRANSIENT_NAMES.has(name) || isTransientAwsError(error)) return 'transient';
  return 'fatal';
}
