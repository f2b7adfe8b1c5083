/**
 * Where an example runs, decided from the environment:
 *
 * - `KCL_KINESIS_ENDPOINT` set (e.g. after `eval "$(kcl-local up)"`-style exports): that
 *   endpoint, and `KCL_DYNAMODB_ENDPOINT` for DynamoDB — a stack someone else runs.
 * - otherwise `AWS_REGION` / `AWS_DEFAULT_REGION` / `AWS_PROFILE` set: real AWS, with the
 *   SDK's default credential chain (instance role, profile, environment).
 * - otherwise: an embedded local stack (Kinesis Mock + dynalite) started here and stopped
 *   at the end, so the example runs with nothing but Node.js.
 *
 * (Shared by every example through `@kcl-ts/example-support`.)
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createLocalDynamoDbClient, createLocalKinesisClient, startLocalStack, LOCAL_CREDENTIALS } from '@kcl-ts/local';

/** How the example reaches Kinesis and DynamoDB. */
export type Mode = 'embedded' | 'endpoint' | 'aws';

/** The clients of one run, and how to clean up after it. */
export interface Connection {
  readonly mode: Mode;
  readonly kinesis: KinesisClient;
  readonly dynamoDb: DynamoDBClient;
  /** Human-readable target, for the first log line. */
  readonly description: string;
  /** Destroys the clients and stops the embedded stack, if this run started one. */
  close(): Promise<void>;
}

/** Picks the mode from `env` and builds the clients (starting the embedded stack if needed). */
export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const kinesisEndpoint = env.KCL_KINESIS_ENDPOINT;
  if (kinesisEndpoint) {
    const dynamoDbEndpoint = env.KCL_DYNAMODB_ENDPOINT;
    if (!dynamoDbEndpoint) throw new Error('KCL_KINESIS_ENDPOINT is set but KCL_DYNAMODB_ENDPOINT is not: export both (kcl-local up prints them)');
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const credentials =
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
        : LOCAL_CREDENTIALS;
    const kinesis = createLocalKinesisClient({ endpoint: kinesisEndpoint, region, credentials });
    const dynamoDb = createLocalDynamoDbClient({ endpoint: dynamoDbEndpoint, region, credentials });
    return {
      mode: 'endpoint',
      kinesis,
      dynamoDb,
      description: `Kinesis ${kinesisEndpoint}, DynamoDB ${dynamoDbEndpoint}`,
      close: async () => {
        kinesis.destroy();
        dynamoDb.destroy();
      },
    };
  }
  if (env.AWS_REGION || env.AWS_DEFAULT_REGION || env.AWS_PROFILE) {
    // Real AWS: region and credentials come from the SDK's default chain.
    const kinesis = new KinesisClient({});
    const dynamoDb = new DynamoDBClient({});
    return {
      mode: 'aws',
      kinesis,
      dynamoDb,
      description: `AWS (${await kinesis.config.region()})`,
      close: async () => {
        kinesis.destroy();
        dynamoDb.destroy();
      },
    };
  }
  const stack = await startLocalStack();
  const kinesis = stack.kinesisClient();
  const dynamoDb = stack.dynamoDbClient();
  return {
    mode: 'embedded',
    kinesis,
    dynamoDb,
    description: `embedded local stack (Kinesis ${stack.kinesisEndpoint}, DynamoDB ${stack.dynamoDbEndpoint})`,
    close: async () => {
      kinesis.destroy();
      dynamoDb.destroy();
      await stack.stop();
    },
  };
}
