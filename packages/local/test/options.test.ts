import { describe, expect, it } from 'vitest';
import { LOCAL_STACK_DEFAULTS, resolveLocalStackConfig, silentLocalLogger, startLocalStack } from '@kcl-ts/local';

describe('resolveLocalStackConfig', () => {
  it('applies the defaults', () => {
    const config = resolveLocalStackConfig();
    expect(config).toMatchObject({
      kinesis: 'kinesis-mock',
      kinesisPort: undefined,
      dynamoDbPort: undefined,
      streamOperationDelayMs: LOCAL_STACK_DEFAULTS.streamOperationDelayMs,
      tableOperationDelayMs: LOCAL_STACK_DEFAULTS.tableOperationDelayMs,
      persistence: false,
      shardLimit: LOCAL_STACK_DEFAULTS.shardLimit,
      region: 'us-east-1',
    });
    expect(config.logger).toBe(silentLocalLogger);
  });

  it('keeps valid user values', () => {
    const config = resolveLocalStackConfig({
      kinesis: 'kinesalite',
      kinesisPort: 4567,
      dynamoDbPort: 4568,
      streamOperationDelayMs: 0,
      persistence: { directory: '/tmp/x' },
      shardLimit: 7,
      region: 'eu-west-1',
    });
    expect(config).toMatchObject({
      kinesis: 'kinesalite',
      kinesisPort: 4567,
      dynamoDbPort: 4568,
      streamOperationDelayMs: 0,
      persistence: { directory: '/tmp/x' },
      shardLimit: 7,
      region: 'eu-west-1',
    });
  });

  it.each([
    ['kinesis', { kinesis: 'localstack' }],
    ['kinesisPort', { kinesisPort: 0 }],
    ['kinesisPort', { kinesisPort: 70_000 }],
    ['dynamoDbPort', { dynamoDbPort: 1.5 }],
    ['dynamoDbPort', { kinesisPort: 5000, dynamoDbPort: 5000 }],
    ['streamOperationDelayMs', { streamOperationDelayMs: -1 }],
    ['tableOperationDelayMs', { tableOperationDelayMs: Number.NaN }],
    ['persistence', { persistence: { directory: '' } }],
    ['persistence', { persistence: true }],
    ['shardLimit', { shardLimit: 0 }],
    ['region', { region: 'US EAST' }],
    ['logger', { logger: { info: 'no' } }],
  ])('throws a TypeError naming %s', (name, options) => {
    expect(() => resolveLocalStackConfig(options as never)).toThrow(TypeError);
    expect(() => resolveLocalStackConfig(options as never)).toThrow(name);
  });

  it('startLocalStack rejects a bad option before starting anything', async () => {
    await expect(startLocalStack({ shardLimit: -3 })).rejects.toThrow(TypeError);
    await expect(startLocalStack({ shardLimit: -3 })).rejects.toThrow(/shardLimit.*-3/);
  });
});
