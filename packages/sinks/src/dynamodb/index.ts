/**
 * `@kcl-ts/sinks/dynamodb`: the DynamoDB sink (needs `@aws-sdk/client-dynamodb` and
 * `@aws-sdk/util-dynamodb`).
 * @packageDocumentation
 */
export { DynamoDbSink, type DynamoDbSinkOptions, type DynamoDbItem, type NewestWinsOptions } from './dynamodb-sink.js';
