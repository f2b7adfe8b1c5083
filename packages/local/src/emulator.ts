import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { localCredentials } from './clients.js';

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

/** The part of an AWS SDK v3 client a probe needs. */
interface ProbeClient {
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

/** Sends one real request with a fresh single-attempt client; resolves true when it is answered. */
async function answers(client: ProbeClient, command: unknown, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.send(command as never, { abortSignal: signal });
    return true;
  } finally {
    client.destroy();
  }
}

/** Client settings of a readiness probe: dummy credentials, short timeouts, one attempt. */
const probeConfig = (endpoint: string, region: string) => ({
  endpoint,
  region,
  credentials: localCredentials(),
  requestHandler: probeHandler(),
  maxAttempts: 1,
});

/** Sends one real ListStreams request; resolves true when the endpoint answers it. */
export function kinesisAnswers(endpoint: string, region: string, signal?: AbortSignal): Promise<boolean> {
  return answers(new KinesisClient(probeConfig(endpoint, region)), new ListStreamsCommand({ Limit: 1 }), signal);
}

/** Sends one real ListTables request; resolves true when the endpoint answers it. */
export function dynamoDbAnswers(endpoint: string, region: string, signal?: AbortSignal): Promise<boolean> {
  return answers(new DynamoDBClient(probeConfig(endpoint, region)), new ListTablesCommand({ Limit: 1 }), signal);
}

/** `http://127.0.0.1:<port>` */
export function loopbackEndpoint(port: number): string {
  return `http://127.0.0.1:${port}`;
}
