// Smoke test: runs the BUILT example against its own embedded stack and checks that it
// processed records and exited 0. Build first: `npx tsc --build examples/aggregated-records` (or `pnpm build`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const built = existsSync(main);
if (!built) console.warn(`examples/aggregated-records smoke test skipped: ${main} does not exist; run \`npx tsc --build examples/aggregated-records\` first`);

/** Runs `node <main> ...args` from the repo root with no AWS/KCL environment (so the example embeds its stack). */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('KCL_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('example: aggregated-records', () => {
  it.skipIf(!built)('resumes inside an aggregate after a checkpoint(record) and exits 0', async () => {
    const { code, stdout, stderr } = await run(['--duration', '8']);
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
    const processed = Number(/processed (\d+) records/.exec(stdout)?.[1] ?? 0);
    expect(processed, stdout).toBeGreaterThan(0);
    expect(stdout).toContain('resume check: OK');
  }, 120_000);
});
