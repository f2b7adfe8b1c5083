import type { KinesisClient } from '@aws-sdk/client-kinesis';

/**
 * Counts the GetRecords responses the SDK's own reader of `client` deserializes (call it before
 * `withDirectGetRecords`, which keeps that reader for what it does not read itself).
 */
export function countSdkGetRecordsReads(client: KinesisClient): () => number {
  const protocol = client.config.protocol as unknown as { deserializeResponse: (op: { name?: string }, ...rest: unknown[]) => Promise<unknown> };
  const sdkReader = protocol.deserializeResponse.bind(protocol);
  let reads = 0;
  protocol.deserializeResponse = (op, ...rest) => {
    if (op.name === 'GetRecords') reads++;
    return sdkReader(op, ...rest);
  };
  return () => reads;
}

/** Counts the calls of `client` that go through the SDK's middleware stack (its serialize step), of one operation or all. */
export function countSdkCalls(client: { middlewareStack: unknown }, operation?: string): () => number {
  let calls = 0;
  (client.middlewareStack as { add(m: unknown, o: object): void }).add(
    (next: (a: unknown) => unknown, context: { commandName?: string }) => (args: unknown) => {
      if (operation === undefined || context.commandName === `${operation}Command`) calls++;
      return next(args);
    },
    { step: 'serialize', name: 'countSdkCalls', priority: 'low' },
  );
  return () => calls;
}
