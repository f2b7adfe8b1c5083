/**
 * `kcl consumers list|deregister` against the Kinesis Mock.
 */
import { DescribeStreamConsumerCommand, DescribeStreamSummaryCommand, RegisterStreamConsumerCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { createStream, testStack, uniqueName, waitFor } from '../../../test-support/stack.js';
import { runCli } from './run-cli.js';

describe('kcl consumers', () => {
  const stack = testStack();
  const env = { AWS_REGION: stack.region, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
  const conn = ['--kinesis-endpoint', stack.kinesisEndpoint, '--dynamodb-endpoint', stack.dynamoDbEndpoint];
  const kinesis = stack.kinesisClient();
  afterAll(() => kinesis.destroy());

  const run = (args: string[]): Promise<{ code: number; out: string }> => runCli(args, env);

  it('lists the registered consumers and deregisters one', async () => {
    const stream = uniqueName('cli-consumers');
    await createStream(kinesis, stream, 1);
    expect(await run(['consumers', 'list', '--stream', stream, ...conn])).toEqual({ code: 0, out: `no enhanced fan-out consumers registered on stream ${stream}` });
    const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    const StreamARN = StreamDescriptionSummary!.StreamARN!;
    await kinesis.send(new RegisterStreamConsumerCommand({ StreamARN, ConsumerName: 'billing' }));
    await waitFor(
      async () => (await kinesis.send(new DescribeStreamConsumerCommand({ StreamARN, ConsumerName: 'billing' }))).ConsumerDescription?.ConsumerStatus === 'ACTIVE',
      { message: 'consumer billing ACTIVE' },
    );
    const listed = await run(['consumers', 'list', '--stream', stream, ...conn]);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/NAME\s+STATUS\s+CREATED\s+ARN/);
    expect(listed.out).toMatch(/billing\s+ACTIVE\s+\S+\s+arn:aws:kinesis:.*\/consumer\/billing:/);
    const json = JSON.parse((await run(['consumers', 'list', '--stream', stream, '--json', ...conn])).out) as { consumers: { name: string }[] };
    expect(json.consumers.map((c) => c.name)).toEqual(['billing']);
    expect(await run(['consumers', 'deregister', '--stream', stream, '--name', 'billing', ...conn])).toEqual({ code: 0, out: `consumer billing of stream ${stream}: deregistering (DELETING)` });
    await waitFor(async () => !/billing\s+ACTIVE/.test((await run(['consumers', 'list', '--stream', stream, ...conn])).out), { message: 'consumer no longer ACTIVE' });
    const missing = await run(['consumers', 'deregister', '--stream', stream, '--name', 'nobody', ...conn]);
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/no consumer named nobody is registered/);
  });

  it.each([['list'], ['deregister', '--name', 'billing']])('consumers %j of a missing stream says which stream and what to check, exit 1', async (...action) => {
    const { code, out } = await run(['consumers', ...action, '--stream', uniqueName('cli-no-stream'), ...conn]);
    expect(code).toBe(1);
    expect(out).toMatch(/^stream "[^"]+" not found: check --stream/);
  });

  it.each([
    [['consumers', 'list'], /needs --stream/],
    [['consumers', 'deregister', '--stream', 's'], /needs --name/],
    [['consumers', 'deregister', '--stream', 's', '--name', 'bad name'], /--name must be 1–128 characters/],
    [['consumers', 'list', '--stream', 'bad stream'], /--stream must be 1–128 characters/],
    [['consumers', 'remove', '--stream', 's'], /unknown consumers action "remove"/],
    [['consumers', 'list', '--stream', 's', '--bogus'], /Unknown option '--bogus'/],
  ])('%j prints one line and exits 2', async (args, message) => {
    const { code, out } = await run(args);
    expect(code).toBe(2);
    expect(out).toMatch(message);
    expect(out.split('\n')[0]).toMatch(message);
  });
});
