// Smoke test: runs the BUILT example against its own embedded stack and checks that it
// processed records and exited 0. Build first: `npx tsc --build examples/sink-dynamodb` (or `pnpm build`).
import { describe, expect, it } from 'vitest';
import { builtExample, runExample } from '../../../test-support/run-example.js';

const { main, built } = builtExample('sink-dynamodb');
const run = (args: string[]): ReturnType<typeof runExample> => runExample(main, args);

describe('example: sink-dynamodb', () => {
  it.skipIf(!built)('writes every reading once through @kcl-ts/sinks, absorbs the redelivery, and exits 0', async () => {
    const { code, stdout, stderr } = await run(['--records', '40']);
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
    const processed = Number(/processed (\d+) records/.exec(stdout)?.[1] ?? 0);
    expect(processed, stdout).toBeGreaterThan(0);
    expect(stdout).toMatch(/phase 2: 40 records delivered again and written again; [1-9]\d* "latest reading" writes refused as stale/);
    expect(stdout).toContain('table check: OK');
  }, 120_000);
});
