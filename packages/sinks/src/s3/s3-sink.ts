/**
 * An S3 sink: one object per flush, newline-delimited JSON (optionally gzip), uploaded with
 * `@aws-sdk/lib-storage` (a single PUT for small flushes, multipart for large ones), under a
 * key fixed by the flush's first record (see {@link defaultObjectKey}), so a redelivered
 * flush rewrites the same object.
 * @module
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { classifyAwsError } from '@kcl-ts/processor';
import { checkBoolean, checkFunction, checkInteger, checkObject, checkString } from '../options.js';
import type { Sink, SinkBatch, SinkErrorKind, SinkWriteContext, SinkWriteResult } from '../sink.js';
import { defaultObjectKey, type ObjectKeyContext } from './object-key.js';

const gzip = promisify(gzipCallback);

/** The smallest multipart part S3 accepts (every part but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Object parameters the sink lets you set (the rest it sets itself). */
export type S3ObjectParams = Partial<
  Pick<PutObjectCommandInput, 'StorageClass' | 'ServerSideEncryption' | 'SSEKMSKeyId' | 'BucketKeyEnabled' | 'Tagging' | 'CacheControl' | 'ACL' | 'ExpectedBucketOwner'>
>;

/** Options of {@link S3Sink}. */
export interface S3SinkOptions<T> {
  /** Your client; the sink never destroys it. */
  readonly client: S3Client;
  /** The bucket. */
  readonly bucket: string;
  /** The stream's name: the first part of every key after `prefix`. */
  readonly streamName: string;
  /** Key prefix, e.g. `raw/` (include the trailing slash). @default '' */
  readonly prefix?: string;
  /** Gzip the objects (`.ndjson.gz`, `Content-Encoding: gzip`). @default false */
  readonly gzip?: boolean;
  /** Item → one line of text (must not contain a newline). @default JSON.stringify */
  readonly serialize?: (item: T) => string;
  /** Multipart part size in bytes (at least 5 MiB); larger bodies are uploaded in parts. @default 8388608 (8 MiB) */
  readonly partSizeBytes?: number;
  /** Parts uploaded at once. @default 4 */
  readonly queueSize?: number;
  /**
   * The object key of a flush. It must depend only on its arguments (stream, shard, first
   * record): see {@link defaultObjectKey} for why. @default defaultObjectKey
   */
  readonly objectKey?: (context: ObjectKeyContext) => string;
  /** Extra object parameters (storage class, encryption, tags). */
  readonly objectParams?: S3ObjectParams;
  /** Name in logs and metrics. @default `s3:<bucket>` */
  readonly name?: string;
}

/**
 * Writes each flush as one S3 object of newline-delimited JSON. Object metadata records the
 * range: `kcl-shard-id`, `kcl-first-sequence-number`, `kcl-first-sub-sequence-number`,
 * `kcl-last-sequence-number`, `kcl-last-sub-sequence-number`, `kcl-records`.
 */
export class S3Sink<T> implements Sink<T> {
  /** `s3:<bucket>` unless `name` was given. */
  readonly name: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly streamName: string;
  private readonly prefix: string;
  private readonly gzip: boolean;
  private readonly serialize: (item: T) => string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly objectKey: (context: ObjectKeyContext) => string;
  private readonly objectParams: S3ObjectParams;

  /** @throws TypeError naming the bad option (`s3.bucket`, …). */
  constructor(options: S3SinkOptions<T>) {
    const o = checkObject('s3', options, false);
    checkFunction('s3.client.send', checkObject('s3.client', o.client, false).send, false);
    this.client = options.client;
    this.bucket = checkString('s3.bucket', o.bucket);
    this.streamName = checkString('s3.streamName', o.streamName);
    this.prefix = o.prefix === undefined ? '' : typeof o.prefix === 'string' ? o.prefix : checkString('s3.prefix', o.prefix);
    this.gzip = checkBoolean('s3.gzip', o.gzip) ?? false;
    this.serialize = checkFunction<(item: T) => string>('s3.serialize', o.serialize, true) ?? ((item) => JSON.stringify(item));
    this.partSize = checkInteger('s3.partSizeBytes', o.partSizeBytes, MIN_PART_SIZE) ?? 8 * 1024 * 1024;
    this.queueSize = checkInteger('s3.queueSize', o.queueSize, 1, 64) ?? 4;
    this.objectKey = checkFunction<(context: ObjectKeyContext) => string>('s3.objectKey', o.objectKey, true) ?? defaultObjectKey;
    this.objectParams = checkObject('s3.objectParams', o.objectParams) as S3ObjectParams;
    this.name = o.name === undefined ? `s3:${this.bucket}` : checkString('s3.name', o.name);
  }

  /** The key the flush starting at `first` of `shardId` is written to. */
  keyFor(shardId: string, first: ObjectKeyContext['first']): string {
    return this.objectKey({ prefix: this.prefix, streamName: this.streamName, shardId, first, extension: this.gzip ? '.ndjson.gz' : '.ndjson' });
  }

  /** Uploads the batch as one object; resolves when S3 has it. */
  async write(batch: SinkBatch<T>, { signal }: SinkWriteContext): Promise<SinkWriteResult> {
    const first = batch.entries[0]!.record;
    const last = batch.entries.at(-1)!.record;
    const lines: string[] = [];
    for (const { item } of batch.entries) {
      const line = this.serialize(item);
      if (typeof line !== 'string' || line.includes('\n')) throw new TypeError('s3.serialize must return one line of text (no newline)');
      lines.push(line, '\n');
    }
    const text = Buffer.from(lines.join(''), 'utf8');
    const body = this.gzip ? await gzip(text) : text;
    const upload = new Upload({
      client: this.client,
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
      params: {
        ...this.objectParams,
        Bucket: this.bucket,
        Key: this.keyFor(batch.shardId, first),
        Body: body,
        ContentType: 'application/x-ndjson',
        ...(this.gzip && { ContentEncoding: 'gzip' }),
        Metadata: {
          'kcl-shard-id': batch.shardId,
          'kcl-first-sequence-number': first.sequenceNumber,
          'kcl-first-sub-sequence-number': String(first.subSequenceNumber ?? 0),
          'kcl-last-sequence-number': last.sequenceNumber,
          'kcl-last-sub-sequence-number': String(last.subSequenceNumber ?? 0),
          'kcl-records': String(batch.entries.length),
        },
      },
    });
    const onAbort = (): void => void upload.abort().catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return { stale: 0 };
  }

  /** Throttling (`SlowDown`) is `throttled`; client errors (`AccessDenied`, `NoSuchBucket`) `fatal`; the rest `transient`. */
  classifyError(error: unknown): SinkErrorKind {
    if (error instanceof TypeError) return 'fatal'; // serialize returned something unusable
    const kind = classifyAwsError(error);
    if (kind === 'throttled') return 'throttled';
    if (kind === 'transient') return 'transient';
    return (error as { $fault?: unknown } | null)?.$fault === 'client' ? 'fatal' : 'transient';
  }
}
