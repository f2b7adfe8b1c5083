import { DescribeStreamSummaryCommand, UpdateShardCountCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CliError } from './aws.js';

/** Calls UpdateShardCount (uniform scaling) and waits until the stream is ACTIVE again. */
export async function reshard(kinesis: KinesisClient, stream: string, shards: number, options: { timeoutMs?: number; pollMs?: number; sleep?: (ms: number) => Promise<void> } = {}): Promise<{ from: number; to: number }> {
  if (!Number.isInteger(shards) || shards < 1) throw new CliError(`--shards must be a positive integer, got ${shards}`, 2);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const before = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  const from = before.StreamDescriptionSummary?.OpenShardCount ?? 0;
  if (from !== shards) {
    await kinesis.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: shards, ScalingType: 'UNIFORM_SCALING' }));
  }
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  for (;;) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE' && s.StreamDescriptionSummary.OpenShardCount === shards) break;
    if (Date.now() > deadline) throw new CliError(`stream ${stream} did not become ACTIVE with ${shards} open shards in time`);
    await sleep(options.pollMs ?? 500);
  }
  return { from, to: shards };
}
