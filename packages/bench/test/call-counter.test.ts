import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CallCounter, kinesaliteIteratorShard } from '../src/call-counter.js';

/** An iterator as kinesalite 3.x builds it (db/index.js createShardIterator). */
function kinesaliteIterator(stream: string, shard: string): string {
  const plain = [String(Date.now()).padStart(14, '0'), stream, shard, '49590338271490256608559692538361571095921575989136588898', '0'.repeat(36)].join('/');
  const cipher = createCipheriv('aes-256-cbc', Buffer.from('1133a5a833666b49abf28c8ba302930f0b2fb240dccd43cf4dfbc0ca91f17751', 'hex'), Buffer.from('7bf139dbabbea2d9995d6fcae1dff7da', 'hex'));
  return Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

describe('kinesaliteIteratorShard', () => {
  it('reads the stream and shard out of a kinesalite iterator', () => {
    expect(kinesaliteIteratorShard(kinesaliteIterator('orders', 'shardId-000000000007'))).toEqual(['orders', 'shardId-000000000007']);
  });
  it('returns undefined for anything else', () => {
    expect(kinesaliteIteratorShard('')).toBeUndefined();
    expect(kinesaliteIteratorShard('bm90IGFuIGl0ZXJhdG9y')).toBeUndefined();
  });
});

describe('CallCounter', () => {
  it('counts GetRecords per shard and requests per operation, per stream', () => {
    const c = new CallCounter();
    c.operation('s', 'ListShards');
    expect(c.admitGetRecords('s', 'a', 0)).toBe(true);
    expect(c.admitGetRecords('s', 'a', 10)).toBe(true);
    expect(c.admitGetRecords('s', 'b', 20)).toBe(true);
    expect(c.admitGetRecords('t', 'a', 30)).toBe(true);
    expect(c.snapshot('s')).toEqual({ getRecords: { a: 2, b: 1 }, attempts: { a: 2, b: 1 }, throttled: 0, operations: { ListShards: 1, GetRecords: 3 } });
    c.forget('s');
    expect(c.snapshot('s').getRecords).toEqual({});
  });
  it('serves any number of calls while the limit is not enforced', () => {
    const c = new CallCounter();
    for (let i = 0; i < 20; i++) expect(c.admitGetRecords('s', 'a', i)).toBe(true);
    expect(c.snapshot('s').throttled).toBe(0);
  });
  it('throttles the 6th call within a sliding second per shard when enforced, and counts every attempt', () => {
    const c = new CallCounter();
    c.enforceLimit = true;
    for (const t of [0, 100, 200, 300, 400]) expect(c.admitGetRecords('s', 'a', t)).toBe(true);
    expect(c.admitGetRecords('s', 'a', 999)).toBe(false);
    expect(c.admitGetRecords('s', 'b', 999)).toBe(true); // another shard has its own budget
    expect(c.admitGetRecords('s', 'a', 1_000)).toBe(true); // the call at 0 left the window
    expect(c.snapshot('s')).toMatchObject({ getRecords: { a: 6, b: 1 }, attempts: { a: 7, b: 1 }, throttled: 1 });
  });
  it('inspect counts what the front sees and answers a GetRecords call over the limit with a throttle fault', () => {
    const c = new CallCounter();
    c.enforceLimit = true;
    const getRecords = JSON.stringify({ ShardIterator: kinesaliteIterator('s', 'a'), Limit: 10 });
    for (const t of [0, 1, 2, 3, 4]) expect(c.inspect('GetRecords', getRecords, t)).toBeUndefined();
    expect(c.inspect('GetRecords', getRecords, 5)).toEqual({ kind: 'throttle' });
    expect(c.inspect('ListShards', JSON.stringify({ StreamName: 's' }), 6)).toBeUndefined();
    expect(c.inspect('DescribeStreamSummary', JSON.stringify({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s' }), 7)).toBeUndefined();
    expect(c.inspect('PutRecords', JSON.stringify({ StreamName: 's', Records: [] }), 8)).toBeUndefined();
    expect(c.inspect('GetRecords', 'not json', 9)).toBeUndefined();
    expect(c.snapshot('s')).toEqual({ getRecords: { a: 5 }, attempts: { a: 6 }, throttled: 1, operations: { GetRecords: 6, ListShards: 1, DescribeStreamSummary: 1 } });
  });
});
