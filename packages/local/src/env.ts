import type { LocalCredentials } from './clients.js';

/** What {@link localStackEnv} needs to know about a stack. */
export interface LocalStackEndpoints {
  readonly kinesisEndpoint: string;
  readonly dynamoDbEndpoint: string;
  readonly region: string;
  readonly credentials: LocalCredentials;
}

/**
 * The environment variables that point a process at a local stack: the AWS region and
 * credentials, `KCL_KINESIS_ENDPOINT` / `KCL_DYNAMODB_ENDPOINT`, and the service-specific
 * `AWS_ENDPOINT_URL_KINESIS` / `AWS_ENDPOINT_URL_DYNAMODB` that AWS SDK v3 honours.
 */
export function localStackEnv(stack: LocalStackEndpoints): Record<string, string> {
  return {
    AWS_REGION: stack.region,
    AWS_ACCESS_KEY_ID: stack.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.credentials.secretAccessKey,
    KCL_KINESIS_ENDPOINT: stack.kinesisEndpoint,
    KCL_DYNAMODB_ENDPOINT: stack.dynamoDbEndpoint,
    AWS_ENDPOINT_URL_KINESIS: stack.kinesisEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoDbEndpoint,
  };
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+,=-]*$/.test(value) && value.length > 0 ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Formats `env` as POSIX shell `export NAME=value` lines (values quoted when needed). */
export function formatEnv(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`)
    .join('\n');
}
