// Smoke test: runs the BUILT example against its own embedded stack (Kinesis, DynamoDB and
// s3rver) and checks its verdict. Build first: `npx tsc --build examples/sink-s3` (or `pnpm build`).
import { describe, expect, it } from 'vitest';
import { builtExample, runExample } from '../../../test-support/run-example.js';

const { main, built } = builtExample('sink-s3');

describe('example: sink-s3', () => {
  it.skipIf(!built)('writes NDJSON objects to S3, every record exactly once, and exits 0', async () => {
    const { code, stdout, stderr } = await runExample(main, ['--records', '50']);
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
    expect(Number(/processed (\d+) records/.exec(stdout)?.[1] ?? 0), stdout).toBe(50);
    expect(stdout).toMatch(/wrote [1-9]\d* objects holding 50 records/);
    expect(stdout).toContain('object check: OK');
    expect(stdout).toMatch(/COPY clicks FROM 's3:\/\//);
  }, 120_000);
});
