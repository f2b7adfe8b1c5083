/**
 * `@kcl-ts/sinks/s3`: the S3 sink (needs `@aws-sdk/client-s3` and `@aws-sdk/lib-storage`).
 * @packageDocumentation
 */
export { S3Sink, MIN_PART_SIZE, type S3SinkOptions, type S3ObjectParams } from './s3-sink.js';
export { defaultObjectKey, type ObjectKeyContext } from './object-key.js';
