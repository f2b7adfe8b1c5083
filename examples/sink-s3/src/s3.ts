/**
 * Where the example's objects go, decided like the Kinesis/DynamoDB connection:
 *
 * - `KCL_S3_ENDPOINT` set: that S3-compatible endpoint (path-style), e.g. a MinIO or s3rver
 *   someone else runs;
 * - against AWS (the connection's mode): the SDK's default chain, and `--bucket` must exist;
 * - otherwise: an embedded `s3rver` (an S3 emulator in this process, on a free port, with a
 *   temporary directory), stopped at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Mode } from '@kcl-ts/example-support';

/** The S3 side of a run. */
export interface S3Connection {
  readonly client: S3Client;
  readonly description: string;
  /** Creates the bucket locally (on AWS it must exist). */
  ensureBucket(bucket: string): Promise<void>;
  close(): Promise<void>;
}

interface S3rver {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}

/** A client for an S3 emulator: path-style URLs, checksums only where S3 requires them. */
function emulatorClient(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

/** Connects to S3 for `mode` (see the module notes). */
export async function connectS3(mode: Mode, env: NodeJS.ProcessEnv = process.env): Promise<S3Connection> {
  const createBucket = (client: S3Client) => async (bucket: string) => {
    await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
      if ((error as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw error;
    });
  };
  if (env.KCL_S3_ENDPOINT) {
    const client = emulatorClient(env.KCL_S3_ENDPOINT, { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'S3RVER', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER' });
    return { client, description: `S3 ${env.KCL_S3_ENDPOINT}`, ensureBucket: createBucket(client), close: async () => client.destroy() };
  }
  if (mode === 'aws') {
    const client = new S3Client({});
    return { client, description: 'S3 (AWS)', ensureBucket: async () => undefined, close: async () => client.destroy() };
  }
  const directory = await mkdtemp(join(tmpdir(), 'kcl-example-s3-'));
  const S3rverServer = createRequire(import.meta.url)('s3rver') as new (options: object) => S3rver;
  const server = new S3rverServer({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = emulatorClient(endpoint, { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
  return {
    client,
    description: `embedded s3rver ${endpoint}`,
    ensureBucket: createBucket(client),
    close: async () => {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
