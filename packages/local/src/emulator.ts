import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_CREDENTIALS } from './clients.js';

/** A running emulator. */
export interface EmulatorHandle {
  /** Its HTTP endpoint, e.g. `http://127.0.0.1:4568`. */
  readonly endpoint: string;
  /** The TCP port it listens on (127.0.0.1). */
  readonly port: number;
  /** The child process id, when the emulator runs as a child process. */
  readonly pid: number | undefined;
  /** Stops it. Idempotent: every call returns the same promise. */
  stop(): Promise<void>;
}

const probeHandler = (): NodeHttpHandler => new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 5_000 });

/** Sends one real ListStreams request; resolves true when the endpoint answers it. */
export async function kinesisAnswers(endpoint: string, region: string, signal?: AbortSignal): Promise<boolean> {
  const client = new KinesisClient({
    endpoint,
    region,
    credentials: { ...LOCAL_CREDENTIALS },
    requestHandler: probeHandler(),
    maxAttempts: 1,
  });
  try {
    await client.send(new ListStreamsCommand({ Limit: 1 }), { abortSignal: signal });
    return true;
  } finally {
    client.destroy();
  }
}

/** Sends one real ListTables request; resolves true when the endpoint answers it. */
export async function dynamoDbAnswers(endpoint: string, region: string, signal?: AbortSignal): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { ...LOCAL_CREDENTIALS },
    requestHandler: probeHandler(),
    maxAttempts: 1,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: signal });
    return true;
  } finally {
    client.destroy();
  }
}

/** `http://127.0.0.1:<port>` */
export function loopbackEndpoint(port: number): string {
  return `http://127.0.0.1:${port}`;
}
