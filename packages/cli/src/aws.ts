import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Connection flags shared by every `kcl` command. */
export interface ConnectionFlags {
  readonly region?: string;
  readonly endpoint?: string;
  readonly kinesisEndpoint?: string;
  readonly dynamodbEndpoint?: string;
}

/** An error the CLI prints as is (no stack) and exits with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

function isLocal(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === '[::1]';
  } catch {
    throw new CliError(`--endpoint must be a URL such as http://127.0.0.1:4567, got ${endpoint}`, 2);
  }
}

/**
 * Builds the AWS clients from flags and the standard environment (AWS_REGION, AWS_PROFILE,
 * AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_*). Against a local endpoint with no credentials in the
 * environment, dummy credentials are used, since the emulators do not check them.
 */
export function buildClients(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): { kinesis: KinesisClient; dynamoDb: DynamoDBClient; region: string } {
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new CliError('no AWS region: pass --region or set AWS_REGION', 2);
  const kinesisEndpoint = flags.kinesisEndpoint ?? flags.endpoint ?? env.KCL_KINESIS_ENDPOINT;
  const dynamoDbEndpoint = flags.dynamodbEndpoint ?? flags.endpoint ?? env.KCL_DYNAMODB_ENDPOINT;
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
  // Static keys in the given environment are used as is; anything else goes to the SDK's default chain.
  const fromEnv =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) }
      : undefined;
  const local = { accessKeyId: 'local', secretAccessKey: 'local' };
  const credentials = (endpoint: string | undefined): { credentials: typeof local } | undefined =>
    fromEnv ? { credentials: fromEnv } : !hasCredentials && isLocal(endpoint) ? { credentials: local } : undefined;
  return {
    region,
    kinesis: new KinesisClient({
      region,
      requestHandler: new NodeHttpHandler(),
      ...(kinesisEndpoint && { endpoint: kinesisEndpoint }),
      ...credentials(kinesisEndpoint),
    }),
    dynamoDb: new DynamoDBClient({
      region,
      ...(dynamoDbEndpoint && { endpoint: dynamoDbEndpoint }),
      ...credentials(dynamoDbEndpoint),
    }),
  };
}

/** Turns AWS SDK failures into messages that say what to do. */
export function explainAwsError(error: unknown): CliError | undefined {
  const e = error as { name?: string; message?: string; code?: string };
  if (e?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e?.message ?? '')) {
    return new CliError('no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use an instance role, or pass --endpoint for a local stack');
  }
  if (e?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e?.message ?? '')) {
    return new CliError(`cannot connect to the endpoint (${e.message}); is the local stack running (kcl-local up)?`);
  }
  return undefined;
}
