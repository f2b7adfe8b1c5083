/**
 * Vitest globalSetup: starts ONE Kinesis Mock, ONE kinesalite and ONE dynalite for the whole
 * test run and hands their endpoints to the tests through `inject('kclStack')` (see
 * stack.ts). Tests isolate by unique stream/table names; the stack is never restarted.
 */
import type { TestProject } from 'vitest/node';
import { LOCAL_CREDENTIALS, startDynalite, startKinesalite, startKinesisMock } from '../packages/local/src/index.js';
import type { EmulatorHandle } from '../packages/local/src/index.js';

/** What the global setup provides to every test file. */
export interface KclStackInfo {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The Kinesis Mock (npm kinesis-local): ShardFilter, UpdateShardCount, ChildShards. */
  readonly kinesisEndpoint: string;
  /** kinesalite: older, no UpdateShardCount, ignores ShardFilter, no ChildShards. */
  readonly kinesaliteEndpoint: string;
  /** dynalite. */
  readonly dynamoDbEndpoint: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kclStack: KclStackInfo;
  }
}

const REGION = 'us-east-1';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Short state transitions keep tests fast; a large shard limit because tests never delete
  // their streams and all of them share this one stack.
  const common = { streamOperationDelayMs: 100, shardLimit: 10_000, startTimeoutMs: 120_000 };
  const started = await Promise.allSettled([
    startKinesisMock({ ...common, region: REGION }),
    startKinesalite(common),
    startDynalite({ tableOperationDelayMs: 100, startTimeoutMs: 120_000 }),
  ]);
  const handles = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(handles.map((h) => h.stop()));
  };
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await stopAll();
    throw failure.reason;
  }
  const [kinesisMock, kinesalite, dynalite] = handles as [EmulatorHandle, EmulatorHandle, EmulatorHandle];
  project.provide('kclStack', {
    region: REGION,
    credentials: { ...LOCAL_CREDENTIALS },
    kinesisEndpoint: kinesisMock.endpoint,
    kinesaliteEndpoint: kinesalite.endpoint,
    dynamoDbEndpoint: dynalite.endpoint,
  });
  return stopAll;
}
