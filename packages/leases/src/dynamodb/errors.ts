/**
 * Classification and translation of DynamoDB errors at the boundary of the lease table:
 * the AWS SDK's exceptions never leave this folder; callers see `false`/`undefined` for a
 * lost condition and typed {@link KclError}s for everything else.
 * @module
 */
import { awsErrorName, DependencyError, isRetryableAwsError, KclError, ResourceNotFoundError } from '@kcl-ts/processor';

/** The `name` of an AWS SDK error (or of any error), or `undefined`. */
const errorName = awsErrorName;

/** True if a conditional write lost its condition: another writer got there first. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** True if the table (or item's table) does not exist. */
export function isTableNotFound(error: unknown): boolean {
  return errorName(error) === 'ResourceNotFoundException';
}

/** True if a Query named an index the table does not have (a `ValidationException` about the index). */
export function isMissingIndex(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return errorName(error) === 'ValidationException' && /index/i.test(message);
}

/** True if a CreateTable lost a race: the table already exists or is being created. */
export function isResourceInUse(error: unknown): boolean {
  return errorName(error) === 'ResourceInUseException';
}

/** Where the failing table lives, for messages: region and (when not AWS's) endpoint. */
export interface TableLocation {
  readonly tableName: string;
  /** E.g. `region us-east-1 (endpoint http://localhost:4567)`. */
  readonly where: string;
}

/**
 * Turns an error of a DynamoDB call into a {@link KclError}: a missing table becomes a
 * {@link ResourceNotFoundError} that says how to fix it; anything else a
 * {@link DependencyError} with the SDK error as `cause` and `retryable` set for transient
 * failures (which reach here only once retries are spent). A `KclError` passes through.
 */
export function translateDynamoDbError(error: unknown, operation: string, location: TableLocation): KclError {
  if (error instanceof KclError) return error;
  const { tableName, where } = location;
  if (isTableNotFound(error)) {
    return new ResourceNotFoundError(
      'table',
      tableName,
      `lease table "${tableName}" does not exist in ${where}; start a Worker once to create it, or create it with hash key leaseKey (S)`,
      { cause: error },
    );
  }
  const retryable = isRetryableAwsError(error);
  const detail = `${errorName(error) ?? 'Error'}: ${error instanceof Error ? error.message : String(error)}`;
  const message = retryable
    ? `DynamoDB ${operation} on lease table "${tableName}" kept failing after retries (${detail})`
    : `DynamoDB ${operation} on lease table "${tableName}" failed (${detail})`;
  return new DependencyError('dynamodb', operation, message, { cause: error, retryable });
}
