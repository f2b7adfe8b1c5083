/**
 * {@link ShardDetector}: lists a stream's shards with ListShards — NextToken paging,
 * `ShardFilter` where the endpoint supports it, retries with backoff on throttling and
 * transient faults — and turns a missing stream into an actionable error.
 * @module
 */
import { ListShardsCommand, type KinesisClient, type ListShardsCommandInput, type ListShardsCommandOutput, type ShardFilter } from '@aws-sdk/client-kinesis';
import { AbortError, awsErrorName, DependencyError, isRetryableAwsError, raceAbort, ResourceNotFoundError, silentLogger, systemClock, toAbortError, withRetries, type Clock, type Logger } from '@kcl-ts/processor';
import { shardFromSdk, type ShardInfo } from './shard-info.js';
import type { ShardLister } from './shard-lister.js';
import { SHARD_SYNC_DEFAULTS, type ListShardsConfig } from './shard-sync-options.js';
import { resolveStreamIdentifier, streamLabelOf, type StreamIdentifier } from './stream-identifier.js';

/** What a {@link ShardDetector} is built from. */
export interface ShardDetectorOptions {
  /** Your Kinesis client; never destroyed by the detector. */
  readonly kinesisClient: KinesisClient;
  /** The stream, by name or ARN. */
  readonly stream: StreamIdentifier;
  /** Time source for backoff sleeps. @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger() */
  readonly logger?: Logger;
  /** ListShards tuning, resolved by {@link resolveShardSyncConfig} (its `listShards`). @default SHARD_SYNC_DEFAULTS.listShards */
  readonly listShards?: ListShardsConfig;
}

/** The detector's dependencies and its ListShards tuning. */
export interface ShardDetectorConfig extends ListShardsConfig {
  readonly kinesisClient: KinesisClient;
  readonly stream: StreamIdentifier;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Lists the shards of one stream.
 *
 * - Paging: the first page names the stream (and carries `ShardFilter`, if any); every
 *   later page sends only `NextToken` and `MaxResults`, as ListShards requires. An expired
 *   `NextToken` restarts the listing.
 * - Retries: `LimitExceededException`, `ProvisionedThroughputExceededException`, 5xx and
 *   network errors are retried per page with exponential backoff and full jitter on the
 *   injected clock; an `AbortSignal` stops the listing at once with an `AbortError`.
 * - Errors: a missing stream is a `ResourceNotFoundError` naming the stream, region and
 *   endpoint; anything else a `DependencyError` (`retryable` when transient).
 */
export class ShardDetector implements ShardLister {
  /** The resolved configuration. */
  readonly config: ShardDetectorConfig;
  /** The stream's name or ARN, for messages. */
  readonly streamLabel: string;
  private readonly logger: Logger;
  /** Flips to false when the endpoint rejects `ShardFilter`; later listings filter locally only. */
  private shardFilterSupported = true;

  /** @throws TypeError for a missing client or an invalid stream. */
  constructor(options: ShardDetectorOptions) {
    const client = options?.kinesisClient as unknown;
    if (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function') {
      throw new TypeError(`kinesisClient must be a KinesisClient, got ${String(client)}`);
    }
    this.config = {
      kinesisClient: options.kinesisClient,
      stream: resolveStreamIdentifier(options.stream),
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger(),
      ...(options.listShards ?? SHARD_SYNC_DEFAULTS.listShards),
    };
    this.streamLabel = streamLabelOf(this.config.stream);
    this.logger = this.config.logger.child({ component: 'shard-detector', stream: this.streamLabel });
  }

  /** Every shard of the stream (open ones and closed ones within retention), in ListShards order. */
  async listShards(signal?: AbortSignal): Promise<ShardInfo[]> {
    return this.listAllPages(undefined, signal);
  }

  /**
   * The children of a closed shard: ListShards with `ShardFilter { Type: 'AFTER_SHARD_ID' }`
   * (children always have higher ids than their parents) where the endpoint supports it,
   * then kept only if `parentShardId` or `adjacentParentShardId` names the parent. The local
   * filter makes the answer right on endpoints that ignore `ShardFilter` (kinesalite).
   * Empty while the parent is still open.
   */
  async listChildShards(parentShardId: string, signal?: AbortSignal): Promise<ShardInfo[]> {
    const filter: ShardFilter | undefined = this.shardFilterSupported ? { Type: 'AFTER_SHARD_ID', ShardId: parentShardId } : undefined;
    const shards = await this.listAllPages(filter, signal);
    return shards.filter((s) => s.parentShardId === parentShardId || s.adjacentParentShardId === parentShardId);
  }

  private streamParameter(): Pick<ListShardsCommandInput, 'StreamName' | 'StreamARN'> {
    const stream = this.config.stream;
    return 'streamArn' in stream ? { StreamARN: stream.streamArn } : { StreamName: stream.streamName };
  }

  private async listAllPages(filter: ShardFilter | undefined, signal: AbortSignal | undefined): Promise<ShardInfo[]> {
    const byId = new Map<string, ShardInfo>();
    let nextToken: string | undefined;
    let restarts = 0;
    for (;;) {
      const input: ListShardsCommandInput =
        nextToken !== undefined
          ? { NextToken: nextToken, MaxResults: this.config.pageSize }
          : { ...this.streamParameter(), MaxResults: this.config.pageSize, ...(filter ? { ShardFilter: filter } : {}) };
      let output: ListShardsCommandOutput;
      try {
        output = await this.sendWithRetries(input, signal);
      } catch (error) {
        const name = awsErrorName(error);
        if (name === 'ExpiredNextTokenException' && nextToken !== undefined && restarts < 3) {
          this.logger.debug({ restarts }, 'ListShards NextToken expired; listing again from the start');
          restarts += 1;
          nextToken = undefined;
          byId.clear();
          continue;
        }
        if (name === 'InvalidArgumentException' && filter !== undefined && nextToken === undefined) {
          this.logger.info({ err: error }, 'the endpoint rejected ShardFilter; listing without it');
          this.shardFilterSupported = false;
          filter = undefined;
          continue;
        }
        throw await this.translate(error, signal);
      }
      for (const shard of output.Shards ?? []) {
        const info = shardFromSdk(shard);
        byId.set(info.shardId, info);
      }
      nextToken = output.NextToken ?? undefined;
      if (nextToken === undefined || nextToken === '') break;
    }
    return [...byId.values()];
  }

  private sendWithRetries(input: ListShardsCommandInput, signal: AbortSignal | undefined): Promise<ListShardsCommandOutput> {
    const { kinesisClient, clock, maxRetries, retryBaseDelayMs, retryMaxDelayMs } = this.config;
    return withRetries('ListShards', () => raceAbort(kinesisClient.send(new ListShardsCommand(input)), signal), {
      clock,
      logger: this.logger,
      maxRetries,
      baseDelayMs: retryBaseDelayMs,
      maxDelayMs: retryMaxDelayMs,
      signal,
    });
  }

  private async translate(error: unknown, signal: AbortSignal | undefined): Promise<Error> {
    if (error instanceof AbortError) return error;
    if (signal?.aborted) return toAbortError(signal, error);
    const name = awsErrorName(error);
    const message = error instanceof Error ? error.message : String(error);
    if (name === 'ResourceNotFoundException') {
      const { region, endpoint, custom } = await describeTarget(this.config.kinesisClient);
      const streamName = 'streamArn' in this.config.stream ? this.config.stream.streamArn.split('/').pop() : this.config.stream.streamName;
      return new ResourceNotFoundError(
        'stream',
        this.streamLabel,
        `stream "${this.streamLabel}" not found in region ${region} (${custom ? `endpoint ${endpoint}` : endpoint}): create it ` +
          `(aws kinesis create-stream --stream-name ${streamName} --shard-count <n> --region ${region}${custom ? ` --endpoint-url ${endpoint}` : ''}) or correct the stream name or ARN given`,
        { cause: error },
      );
    }
    const retryable = isRetryableAwsError(error);
    const hint = name === 'AccessDeniedException' ? ' (the credentials need kinesis:ListShards on the stream)' : '';
    return new DependencyError('kinesis', 'ListShards', `ListShards for stream "${this.streamLabel}" failed: ${name ?? 'Error'}: ${message}${hint}`, {
      cause: error,
      retryable,
    });
  }
}

/**
 * The region and endpoint a client talks to, for error messages; never throws. `custom`: the
 * endpoint is not AWS's own: set on the client, or configured outside the code
 * (`AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL` or the shared config file, which the SDK
 * reads through `serviceConfiguredEndpoint` unless `ignoreConfiguredEndpointUrls` is set).
 */
async function describeTarget(client: KinesisClient): Promise<{ region: string; endpoint: string; custom: boolean }> {
  const config = client.config as unknown as {
    region?: unknown;
    endpoint?: unknown;
    isCustomEndpoint?: unknown;
    ignoreConfiguredEndpointUrls?: unknown;
    serviceConfiguredEndpoint?: unknown;
  };
  const read = async (value: unknown): Promise<unknown> => (typeof value === 'function' ? await (value as () => Promise<unknown>)() : value);
  let region = 'unknown';
  try {
    const r = await read(config.region);
    if (typeof r === 'string' && r !== '') region = r;
  } catch {
    // keep 'unknown'
  }
  const source = config.isCustomEndpoint === true ? config.endpoint : config.ignoreConfiguredEndpointUrls === true ? undefined : config.serviceConfiguredEndpoint;
  try {
    const endpoint = urlText(await read(source));
    if (endpoint !== undefined) return { region, endpoint, custom: true };
  } catch {
    if (config.isCustomEndpoint === true) return { region, endpoint: "the client's endpoint", custom: false };
  }
  // The SDK's own endpoint varies (FIPS, dual-stack, partitions, account-based): not spelt out.
  return { region, endpoint: region === 'unknown' ? "AWS's endpoint" : `AWS's endpoint for ${region}`, custom: false };
}

/** An endpoint as text: a URL string, or the SDK's `{ protocol, hostname, port, path }`. */
function urlText(e: unknown): string | undefined {
  if (typeof e === 'string' && e !== '') return e;
  if (typeof e !== 'object' || e === null || !('hostname' in e)) return undefined;
  const { protocol, hostname, port, path } = e as { protocol?: string; hostname?: string; port?: number; path?: string };
  return `${protocol ?? 'https:'}//${hostname ?? ''}${port ? `:${port}` : ''}${path && path !== '/' ? path : ''}`;
}
