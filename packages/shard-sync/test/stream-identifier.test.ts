import { describe, expect, it } from 'vitest';
import { parseStreamArn } from '@kcl-ts/shard-sync';
import { resolveStreamIdentifier, streamLabelOf } from '../src/stream-identifier.js';

describe('parseStreamArn', () => {
  it('splits valid ARNs of every partition', () => {
    expect(parseStreamArn('arn:aws:kinesis:us-east-1:123456789012:stream/orders')).toEqual({
      partition: 'aws',
      region: 'us-east-1',
      accountId: '123456789012',
      streamName: 'orders',
    });
    expect(parseStreamArn('arn:aws-cn:kinesis:cn-north-1:000000000000:stream/a.b_c-d').streamName).toBe('a.b_c-d');
    expect(parseStreamArn('arn:aws-us-gov:kinesis:us-gov-west-1:111122223333:stream/x').region).toBe('us-gov-west-1');
  });

  it.each([
    'orders',
    '',
    'arn:aws:kinesis:us-east-1:123456789012:orders',
    'arn:aws:kinesis:us-east-1:12345:stream/orders',
    'arn:aws:sqs:us-east-1:123456789012:stream/orders',
    'arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/c:1',
    'arn:aws:kinesis::123456789012:stream/orders',
    'arn:aws-xx:kinesis:us-east-1:123456789012:stream/orders',
    'arn:aws:kinesis:us-east-1:123456789012:stream/bad name',
  ])('rejects %j with a TypeError naming streamArn and the value', (value) => {
    expect(() => parseStreamArn(value)).toThrow(TypeError);
    expect(() => parseStreamArn(value)).toThrow(/streamArn/);
    expect(() => parseStreamArn(value)).toThrow(JSON.stringify(value));
  });
});

describe('resolveStreamIdentifier', () => {
  it('accepts a name or an ARN and labels it', () => {
    expect(streamLabelOf(resolveStreamIdentifier({ streamName: 'orders' }))).toBe('orders');
    const arn = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders';
    expect(streamLabelOf(resolveStreamIdentifier({ streamArn: arn }))).toBe(arn);
  });

  it('names the bad option', () => {
    expect(() => resolveStreamIdentifier(undefined)).toThrow(/^stream must be/);
    expect(() => resolveStreamIdentifier({ streamName: 'a b' })).toThrow(/stream\.streamName .*"a b"/);
    expect(() => resolveStreamIdentifier({ streamName: 'x'.repeat(129) })).toThrow(/stream\.streamName/);
    expect(() => resolveStreamIdentifier({ streamArn: 'nope' })).toThrow(/streamArn.*"nope"/);
    expect(() => resolveStreamIdentifier({ streamName: 'a', streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/a' })).toThrow(/not both/);
  });
});
