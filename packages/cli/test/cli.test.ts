import { DynamoDbLeaseRefresher } from '@kcl-ts/leases';
import { extended } from '@kcl-ts/processor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, testStack, uniqueName } from '../../../test-support/stack.js';
import { describeFailure, main } from '../src/main.js';
import { runCli } from './run-cli.js';
import type { StatusReport } from '../src/status.js';

describe('kcl CLI', () => {
  const stack = testStack();
  const env = { AWS_REGION: stack.region, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
  const conn = ['--kinesis-endpoint', stack.kinesisEndpoint, '--dynamodb-endpoint', stack.dynamoDbEndpoint];
  const kinesis = stack.kinesisClient();
  const dynamoDb = stack.dynamoDbClient();
  const table = uniqueName('status');
  const stream = uniqueName('status-stream');

  beforeAll(async () => {
    await createStream(kinesis, stream, 2);
    const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: table });
    await refresher.createLeaseTableIfNotExists();
    await refresher.createLeaseIfNotExists({ leaseKey: 'shardId-000000000000', checkpoint: extended('TRIM_HORIZON') });
    await refresher.createLeaseIfNotExists({ leaseKey: 'shardId-000000000001', checkpoint: extended('TRIM_HORIZON') });
    await refresher.createLeaseIfNotExists({ leaseKey: 'shardId-000000000009', checkpoint: extended('SHARD_END'), childShardIds: ['shardId-000000000000'] });
    const lease = (await refresher.getLease('shardId-000000000000'))!;
    await refresher.takeLease(lease, 'worker-a');
  });
  afterAll(() => {
    kinesis.destroy();
    dynamoDb.destroy();
  });

  const run = (args: string[]): Promise<{ code: number; out: string }> => runCli(args, env);

  it('status prints the lease table with state, owner, checkpoint, lag, lineage and a per-worker summary', async () => {
    const { code, out } = await run(['status', '--app', table, '--stream', stream, ...conn]);
    expect(code).toBe(0);
    expect(out).toMatch(/SHARD\s+STATE\s+OWNER\s+CHECKPOINT\s+LAG\s+PARENTS\s+CHILDREN\s+SWITCHES/);
    expect(out).toMatch(/shardId-000000000000\s+open\s+worker-a\s+TRIM_HORIZON\s+\S+/);
    expect(out).toMatch(/shardId-000000000001\s+open\s+-\s+TRIM_HORIZON/);
    expect(out).toMatch(/shardId-000000000009\s+ended\s+-\s+SHARD_END/);
    expect(out).toMatch(/worker-a\s+1/);
    expect(out).toContain('unowned: shardId-000000000001');
  });

  it('status --json gives the same facts as data', async () => {
    const { code, out } = await run(['status', '--app', table, '--stream', stream, '--json', ...conn]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as StatusReport;
    expect(report.leases.map((l) => [l.shardId, l.state, l.owner])).toEqual([
      ['shardId-000000000000', 'open', 'worker-a'],
      ['shardId-000000000001', 'open', null],
      ['shardId-000000000009', 'ended', null],
    ]);
    expect(report.workers).toEqual([{ workerId: 'worker-a', leases: 1 }]);
    expect(report.unowned).toEqual(['shardId-000000000001']);
    expect(report.leases[2]!.children).toEqual(['shardId-000000000000']);
  });

  it('status --check-expiry flags an owned lease whose counter does not move', async () => {
    const { out } = await run(['status', '--app', table, '--json', '--check-expiry', '50', ...conn]);
    const report = JSON.parse(out) as StatusReport;
    expect(report.expired).toEqual(['shardId-000000000000']);
  });

  it('a missing table gives an error that says what to do', async () => {
    const { code, out } = await run(['status', '--app', uniqueName('nope'), ...conn]);
    expect(code).toBe(1);
    expect(out).toMatch(/lease table "nope-.*" not found.*a Worker creates the table/);
  });

  it('a missing stream gives an error naming it', async () => {
    const missing = uniqueName('no-stream');
    const { code, out } = await run(['status', '--app', table, '--stream', missing, ...conn]);
    expect(code).toBe(1);
    expect(out).toContain(missing);
  });

  it('usage errors exit 2 and --help documents each command', async () => {
    expect((await run(['status', ...conn])).code).toBe(2);
    expect((await run(['status', '--app', table, '--bogus', ...conn])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['status', '--app', table])).out).toBeTruthy();
    for (const cmd of ['status', 'reshard']) {
      const { code, out } = await run([cmd, '--help']);
      expect(code).toBe(0);
      expect(out).toContain(`kcl ${cmd}`);
    }
    const noRegion = await main(['status', '--app', table], () => undefined, {}).catch((e: unknown) => describeFailure(e));
    expect(noRegion).toMatchObject({ exitCode: 2, message: expect.stringContaining('--region') });
  });

  it('reshard changes the shard count and waits for ACTIVE', async () => {
    const s = uniqueName('reshard-cli');
    await createStream(kinesis, s, 1);
    const { code, out } = await run(['reshard', '--stream', s, '--shards', '2', ...conn]);
    expect(code).toBe(0);
    expect(out).toContain('1 → 2 open shards');
  });
});
