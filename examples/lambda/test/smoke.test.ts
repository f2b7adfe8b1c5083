// Smoke test: runs the BUILT example (a local event source mapping around the Lambda handler)
// against its own embedded stack. Build first: `npx tsc --build examples/lambda` (or `pnpm build`).
import { describe, expect, it } from 'vitest';
import { builtExample, runExample } from '../../../test-support/run-example.js';

const { main, built } = builtExample('lambda');

describe('example: lambda', () => {
  it.skipIf(!built)('reports a partial batch failure, resumes at the right record, stores every record once, and exits 0', async () => {
    const { code, stdout, stderr } = await runExample(main, ['--records', '40', '--shards', '1']);
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/batchItemFailures: \[\d+\]: Lambda resumes at the batch's record 9 \(partial batch failure\)/);
    expect(Number(/processed (\d+) records/.exec(stdout)?.[1] ?? 0), stdout).toBe(40);
    expect(stdout).toContain('table check: OK');
  }, 120_000);
});
