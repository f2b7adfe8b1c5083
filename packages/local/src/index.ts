export { startLocalStack, type LocalStack } from './stack.js';
export {
  resolveLocalStackConfig,
  LOCAL_STACK_DEFAULTS,
  type LocalStackOptions,
  type LocalStackConfig,
  type KinesisImplementation,
  type PersistenceOptions,
} from './options.js';
export { startKinesisMock, kinesisMockEnv, kinesisMockPackageDir, type KinesisMockOptions } from './kinesis-mock.js';
export { startKinesalite, type KinesaliteOptions } from './kinesalite.js';
export { startDynalite, type DynaliteOptions } from './dynalite.js';
export type { EmulatorHandle } from './emulator.js';
export {
  createLocalKinesisClient,
  createLocalDynamoDbClient,
  LOCAL_CREDENTIALS,
  localCredentials,
  type LocalCredentials,
  type LocalClientTarget,
} from './clients.js';
export { localStackEnv, formatEnv, type LocalStackEndpoints } from './env.js';
export { silentLocalLogger, type LocalLogger } from './logger.js';
export {
  createStreamAndWait,
  putRecordsBatched,
  type CreateStreamOptions,
  type RecordToPut,
  type PutRecordResult,
  type PutRecordsOptions,
} from './streams.js';
export { LOCALHOST_TLS, type LocalTlsMaterial } from './localhost-tls.js';
export {
  startSubscribeToShardServer,
  type SubscribeToShardServer,
  type SubscribeToShardServerOptions,
  type SubscriptionPlan,
  type SubscriptionOutcome,
  type ServedSubscription,
  type ServedRecord,
  type ServedChildShard,
  type EventSentListener,
} from './subscribe-to-shard-server.js';
