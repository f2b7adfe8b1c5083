import { describe, expect, it } from 'vitest';
import { resolveWorkerConfig, type WorkerOptions } from '../src/config.js';

// Pure validation of the `streams` option: no emulator, no client call.
const base = (): WorkerOptions => ({
  applicationName: 'app-x',
  processorFactory: () => ({ initialize() {}, processRecords() {} }),
  streams: [{ streamName: 'orders' }],
});
const arn = 'arn:aws:kinesis:us-east-1:123456789012:stream/clicks';

function rejects(options: Record<string, unknown>, message: RegExp): void {
  expect(() => resolveWorkerConfig({ ...base(), ...options } as WorkerOptions)).toThrow(TypeError);
  expect(() => resolveWorkerConfig({ ...base(), ...options } as WorkerOptions)).toThrow(message);
}

describe('the streams option', () => {
  it('a list of streams: a multi-stream application with no single stream', async () => {
    const config = resolveWorkerConfig({ ...base(), initialPosition: 'TRIM_HORIZON', streams: [{ streamName: 'orders' }, { streamArn: arn, initialPosition: 'LATEST' }] });
    expect(config.stream).toBeUndefined();
    expect(config.streamLabel).toBeUndefined();
    expect(config.streams?.tracked).toBe(false);
    expect(await config.streams!.list()).toEqual([
      { stream: { streamName: 'orders' }, streamName: 'orders', label: 'orders', initialPosition: 'TRIM_HORIZON' },
      { stream: { streamArn: arn }, streamName: 'clicks', label: arn, initialPosition: 'LATEST' },
    ]);
    expect(config.streams!.formerStreamsLeasesDeletion).toEqual({ strategy: 'none' });
  });

  it('streamName alone stays a single-stream application', () => {
    const { streams: _s, ...single } = base();
    const config = resolveWorkerConfig({ ...single, streamName: 'orders' });
    expect(config.streams).toBeUndefined();
    expect(config.stream).toEqual({ streamName: 'orders' });
  });

  it('names the option path of every bad value', () => {
    rejects({ streamName: 'orders' }, /give either streams .* or streamName\/streamArn .*not both/);
    rejects({ streamArn: arn }, /not both/);
    rejects({ streams: [] }, /^streams must list at least one stream/);
    rejects({ streams: 'orders' }, /^streams must be an array .* or a tracker/);
    rejects({ streams: [{ streamName: 'orders' }, { streamName: 'a b' }] }, /^streams\[1\]\.streamName must be 1–128 characters.*"a b"/);
    rejects({ streams: [{ streamName: 'orders', streamArn: arn }] }, /^streams\[0\] must have streamName or streamArn, not both/);
    rejects({ streams: [{ streamArn: 'arn:aws:sqs:us-east-1:123456789012:q' }] }, /^streams\[0\]\.streamArn must look like/);
    rejects({ streams: [{ streamName: 'orders', initialPosition: 'EARLIEST' }] }, /streams\[0\]\.initialPosition/);
    rejects({ streams: [{ streamName: 'orders' }, { streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders' }] }, /^streams\[1\] names stream "orders" a second time/);
    rejects({ streams: [null] }, /^streams\[0\] must be \{ streamName \} or \{ streamArn \}/);
    rejects({ streams: { list: () => [], refreshIntervalMs: 0 } }, /^streams\.refreshIntervalMs must be a positive integer/);
    rejects({ streams: { list: () => [], formerStreamsLeasesDeletion: { strategy: 'sometimes' } } }, /^streams\.formerStreamsLeasesDeletion\.strategy must be 'none', 'auto' or 'provided'/);
    rejects({ streams: { list: () => [], formerStreamsLeasesDeletion: { strategy: 'auto' } } }, /^streams\.formerStreamsLeasesDeletion\.waitMs must be an integer/);
    rejects({ streams: { list: () => [], formerStreamsLeasesDeletion: { strategy: 'provided', waitMs: 0 } } }, /^streams\.formerStreamsLeasesDeletion\.streams must be a function/);
    rejects(
      { retrieval: { fanOut: { consumerArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/app:1700000000' } } },
      /^retrieval\.fanOut\.consumerArn names the consumer of one stream/,
    );
  });

  it('a tracker: its list is validated at every call, naming streams.list()', async () => {
    let entries: unknown[] = [{ streamName: 'orders' }];
    const config = resolveWorkerConfig({ ...base(), streams: { list: () => entries as never, refreshIntervalMs: 500, formerStreamsLeasesDeletion: { strategy: 'auto', waitMs: 10_000 } } });
    expect(config.streams).toMatchObject({ tracked: true, refreshIntervalMs: 500, formerStreamsLeasesDeletion: { strategy: 'auto', waitMs: 10_000 } });
    expect((await config.streams!.list()).map((s) => s.streamName)).toEqual(['orders']);
    entries = [{ streamName: 'orders' }, { streamName: '' }];
    await expect(config.streams!.list()).rejects.toThrow(/^streams\.list\(\)\[1\]\.streamName must be/);
  });
});
