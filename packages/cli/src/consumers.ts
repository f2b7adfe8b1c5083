/**
 * `kcl consumers list|deregister`: the enhanced fan-out consumers registered on a stream.
 * @module
 */
import {
  DeregisterStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  ListStreamConsumersCommand,
  type Consumer,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { CliError } from './aws.js';

/** One registered stream consumer, as `kcl consumers list` prints it. */
export interface ConsumerRow {
  readonly name: string;
  readonly status: string;
  readonly arn: string;
  /** ISO 8601, or null when Kinesis did not say. */
  readonly created: string | null;
}

async function streamArnOf(kinesis: KinesisClient, stream: string): Promise<string> {
  const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream })).catch((error: unknown) => {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    throw new CliError(`stream "${stream}" not found: check --stream, and --region or --kinesis-endpoint (kcl status --stream ${stream} names the endpoint it tried)`);
  });
  const arn = out.StreamDescriptionSummary?.StreamARN;
  if (!arn) throw new CliError(`DescribeStreamSummary returned no ARN for stream ${stream}`);
  return arn;
}

/** Every consumer registered on `stream` (ListStreamConsumers, all pages), sorted by name. */
export async function listConsumers(kinesis: KinesisClient, stream: string): Promise<ConsumerRow[]> {
  const streamArn = await streamArnOf(kinesis, stream);
  const consumers: Consumer[] = [];
  let nextToken: string | undefined;
  do {
    const page = await kinesis.send(new ListStreamConsumersCommand(nextToken ? { StreamARN: streamArn, NextToken: nextToken } : { StreamARN: streamArn }));
    consumers.push(...(page.Consumers ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return consumers
    .map((c) => ({ name: c.ConsumerName ?? '', status: c.ConsumerStatus ?? 'UNKNOWN', arn: c.ConsumerARN ?? '', created: c.ConsumerCreationTimestamp?.toISOString() ?? null }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The rows as an aligned table (or a one-line note when there are none). */
export function formatConsumers(stream: string, rows: readonly ConsumerRow[]): string {
  if (rows.length === 0) return `no enhanced fan-out consumers registered on stream ${stream}`;
  const header = ['NAME', 'STATUS', 'CREATED', 'ARN'];
  const cells = rows.map((r) => [r.name, r.status, r.created ?? '-', r.arn]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

/**
 * Deregisters the consumer `name` of `stream` (it goes through DELETING). Workers of an
 * application in fan-out mode register it again when they start.
 * @throws CliError when no such consumer is registered.
 */
export async function deregisterConsumer(kinesis: KinesisClient, stream: string, name: string): Promise<void> {
  const streamArn = await streamArnOf(kinesis, stream);
  try {
    await kinesis.send(new DeregisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') {
      throw new CliError(`no consumer named ${name} is registered on stream ${stream} (see kcl consumers list --stream ${stream})`);
    }
    throw error;
  }
}
