/**
 * An S3 emulator for the tests: npm `s3rver`, started in the test process on a free port of
 * 127.0.0.1 with a fresh temporary directory. Started lazily by the test files that need it
 * (no other test pays for it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** The credentials s3rver checks signatures against (its defaults). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

/** A running s3rver. */
export interface S3rverHandle {
  readonly endpoint: string;
  /** A new client for `endpoint` (or another endpoint, e.g. a proxy in front of it); destroy it when done. */
  client(endpoint?: string): S3Client;
  /** Creates a bucket. */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A client that works against s3rver: path-style addressing, and checksums only where S3
 * requires them (s3rver predates the SDK's default CRC32 trailers).
 */
export function s3rverClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...S3RVER_CREDENTIALS },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Starts s3rver on a free port. */
export async function startS3rver(): Promise<S3rverHandle> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), 'kcl-ts-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = s3rverClient(endpoint);
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    client: (at = endpoint) => s3rverClient(at),
    createBucket: async (name) => {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop: () =>
      (stopped ??= (async () => {
        admin.destroy();
        await server.close();
        await rm(directory, { recursive: true, force: true });
      })()),
  };
}
