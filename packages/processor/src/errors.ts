/**
 * Typed errors of kcl-ts. Every error the library throws on purpose is a {@link KclError}
 * with a machine-readable {@link KclErrorCode}, a `retryable` flag and the original `cause`.
 * @module
 */

/** Machine-readable error codes carried by {@link KclError.code}. */
export type KclErrorCode =
  | 'LEASE_LOST'
  | 'INVALID_CHECKPOINT'
  | 'SHUTDOWN'
  | 'DEPENDENCY'
  | 'RESOURCE_NOT_FOUND'
  | 'INVALID_STATE'
  | 'ABORTED'
  | 'DUPLICATE_WORKER_ID';

/** Options common to every {@link KclError}. */
export interface KclErrorOptions {
  /** The underlying error, if any. */
  readonly cause?: unknown;
  /** Whether repeating the same operation later may succeed. */
  readonly retryable?: boolean;
}

/** Base class of every error kcl-ts throws on purpose. */
export class KclError extends Error {
  /** Machine-readable code; switch on this rather than on `instanceof` across package copies. */
  readonly code: KclErrorCode;
  /** Whether repeating the same operation later may succeed. */
  readonly retryable: boolean;

  constructor(code: KclErrorCode, message: string, options: KclErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Another process uses this worker's id: both wrote the same lease under that id. The
 * process that finds out gives the lease up (it is reported lost) and does not adopt that
 * id's leases again while the other process renews them. Give every process its own
 * `workerId` (the default is unique per process).
 */
export class DuplicateWorkerIdError extends KclError {
  /** The worker id used by more than one process. */
  readonly workerId: string;
  /** The lease where the other process was seen. */
  readonly leaseKey: string;
  constructor(workerId: string, leaseKey: string) {
    super(
      'DUPLICATE_WORKER_ID',
      `another process is running with workerId ${JSON.stringify(workerId)} (seen on lease ${leaseKey}); this process gave the lease up. Give every process its own workerId.`,
    );
    this.workerId = workerId;
    this.leaseKey = leaseKey;
  }
}

/**
 * The lease of a shard is no longer held by this worker (a peer took it, or it was not
 * renewed in time). A checkpoint attempted with this error thrown was NOT written.
 */
export class LeaseLostError extends KclError {
  /** The lease (shard id) that was lost. */
  readonly leaseKey: string;
  constructor(leaseKey: string, message?: string, options: KclErrorOptions = {}) {
    super('LEASE_LOST', message ?? `lease ${leaseKey} is no longer held by this worker`, options);
    this.leaseKey = leaseKey;
  }
}

/** A checkpoint value was rejected: backwards, past the last delivered record, or malformed. */
export class InvalidCheckpointError extends KclError {
  constructor(message: string, options: KclErrorOptions = {}) {
    super('INVALID_CHECKPOINT', message, options);
  }
}

/** The operation was refused because the worker or component is shutting down or stopped. */
export class ShutdownError extends KclError {
  constructor(message = 'the worker is shutting down', options: KclErrorOptions = {}) {
    super('SHUTDOWN', message, options);
  }
}

/**
 * A call to an AWS dependency (Kinesis or DynamoDB) failed in a way the library could not
 * absorb. The AWS SDK error is attached as `cause`; `retryable` says whether it is transient.
 */
export class DependencyError extends KclError {
  /** The dependency that failed. */
  readonly dependency: 'kinesis' | 'dynamodb';
  /** The operation that failed, e.g. `GetRecords` or `UpdateItem`. */
  readonly operation: string;
  constructor(dependency: 'kinesis' | 'dynamodb', operation: string, message: string, options: KclErrorOptions = {}) {
    super('DEPENDENCY', message, options);
    this.dependency = dependency;
    this.operation = operation;
  }
}

/** A stream, shard or table does not exist. The message says what to do about it. */
export class ResourceNotFoundError extends KclError {
  /** What kind of resource is missing. */
  readonly resourceType: 'stream' | 'shard' | 'table' | 'consumer';
  /** Its name, ARN or id. */
  readonly resourceName: string;
  constructor(resourceType: 'stream' | 'shard' | 'table' | 'consumer', resourceName: string, message: string, options: KclErrorOptions = {}) {
    super('RESOURCE_NOT_FOUND', message, options);
    this.resourceType = resourceType;
    this.resourceName = resourceName;
  }
}

/** A resource exists but is in a state the library cannot work with (e.g. a wrong key schema). */
export class InvalidStateError extends KclError {
  constructor(message: string, options: KclErrorOptions = {}) {
    super('INVALID_STATE', message, options);
  }
}

/** A wait was cancelled through its `AbortSignal`. */
export class AbortError extends KclError {
  constructor(message = 'the operation was aborted', options: KclErrorOptions = {}) {
    super('ABORTED', message, options);
  }
}

/** True if `error` is a {@link KclError}, optionally with the given code. */
export function isKclError(error: unknown, code?: KclErrorCode): error is KclError {
  return error instanceof KclError && (code === undefined || error.code === code);
}
