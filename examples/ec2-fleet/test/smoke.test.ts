// Smoke test: runs the BUILT example against its own embedded stack and checks that it
// processed records and exited 0. Build first: `npx tsc --build examples/ec2-fleet` (or `pnpm build`).
import { describe, expect, it } from 'vitest';
import { builtExample, runExample } from '../../../test-support/run-example.js';

const { main, built } = builtExample('ec2-fleet');
const run = (args: string[]): ReturnType<typeof runExample> => runExample(main, args);

describe('example: ec2-fleet', () => {
  it.skipIf(!built)('logs EMF metrics and exits 0 after a graceful shutdown', async () => {
    const { code, stdout, stderr } = await run(['--duration', '8']);
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
    const processed = Number(/processed (\d+) records/.exec(stdout)?.[1] ?? 0);
    expect(processed, stdout).toBeGreaterThan(0);
    expect(stdout).toMatch(/"msg":"checkpointed for shutdown"/);
    expect(stdout).toMatch(/"_aws":\{.*"RecordsProcessed"/);
  }, 120_000);
});
