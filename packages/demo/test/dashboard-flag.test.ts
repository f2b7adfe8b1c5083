/**
 * The demo's `--dashboard`: the flag, and the launcher that runs the built `kcl dashboard` on a
 * free port against a stack and reads its URL (skipped when @kcl-ts/kcl is not built).
 */
import { DynamoDbLeaseRefresher } from '@kcl-ts/leases';
import { extended } from '@kcl-ts/processor';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createStream, testStack, uniqueName } from '../../../test-support/stack.js';
import { DEMO_DEFAULTS, FlagError, parseFlags, USAGE } from '../src/flags.js';
import { startWebDashboard } from '../src/web-dashboard.js';

describe('demo --dashboard', () => {
  it('is off by default, on with --dashboard, and takes no value', () => {
    expect(DEMO_DEFAULTS.dashboard).toBe(false);
    expect(parseFlags(['--', '--dashboard', '--no-chaos'])).toMatchObject({ dashboard: true, chaos: false });
    expect(() => parseFlags(['--dashboard=yes'])).toThrow(FlagError);
    expect(() => parseFlags(['--dashboard=yes'])).toThrow(/'--dashboard' does not take an argument/);
    expect(USAGE).toContain('--dashboard');
  });

  const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
  const built = existsSync(BIN);
  if (!built) console.warn(`[demo] skipping the --dashboard launcher test: ${BIN} does not exist (run \`pnpm build\` first)`);

  describe.skipIf(!built)('launcher (built kcl bin)', () => {
    const stack = testStack();
    const kinesis = stack.kinesisClient();
    const dynamoDb = stack.dynamoDbClient();
    const dir = mkdtempSync(join(tmpdir(), 'kcl-demo-dash-'));
    afterAll(() => {
      kinesis.destroy();
      dynamoDb.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it('starts kcl dashboard on a free port for the fleet, serves the model, and stops on request', async () => {
      const app = uniqueName('demo-dash');
      const stream = uniqueName('demo-dash-stream');
      await createStream(kinesis, stream, 1);
      const refresher = new DynamoDbLeaseRefresher({ dynamoDbClient: dynamoDb, tableName: app });
      await refresher.createLeaseTableIfNotExists();
      await refresher.createLeaseIfNotExists({ leaseKey: 'shardId-000000000000', checkpoint: extended('TRIM_HORIZON') });
      const logFile = join(dir, 'dashboard.log');
      const web = await startWebDashboard({
        applicationName: app,
        streamName: stream,
        kinesisEndpoint: stack.kinesisEndpoint,
        dynamoDbEndpoint: stack.dynamoDbEndpoint,
        region: stack.region,
        leaseDurationMs: 4_000,
        logFile,
      });
      try {
        expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        const model = (await (await fetch(`${web.url}api/model`)).json()) as { stream: string; leaseDurationMs: number; shards: { shardId: string; state: string }[] };
        expect(model).toMatchObject({ stream, leaseDurationMs: 4_000, shards: [{ shardId: 'shardId-000000000000', state: 'open' }] });
      } finally {
        await web.stop();
      }
      await expect(fetch(web.url)).rejects.toThrow();
      expect(readFileSync(logFile, 'utf8')).toBe('');
    });

    it('a missing table or stream fails with the reason and the log file', async () => {
      const logFile = join(dir, 'missing.log');
      const start = startWebDashboard({
        applicationName: uniqueName('no-table'),
        streamName: uniqueName('no-stream'),
        kinesisEndpoint: stack.kinesisEndpoint,
        dynamoDbEndpoint: stack.dynamoDbEndpoint,
        region: stack.region,
        leaseDurationMs: 4_000,
        logFile,
      });
      await expect(start).rejects.toThrow(`kcl dashboard exited (code 1) before printing its URL; see ${logFile}`);
      expect(readFileSync(logFile, 'utf8')).toMatch(/^kcl: .*(not found|does not exist)/);
    });
  });
});
