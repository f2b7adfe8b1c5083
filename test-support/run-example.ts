/**
 * Runs a BUILT example (`examples/<name>/dist/main.js`) as a child process from the repo
 * root, with no AWS/KCL environment so the example embeds its own stack. Smoke tests skip
 * when the example is not built (`pnpm build` builds every example).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The path of an example's built entry point, and whether it exists. */
export function builtExample(name: string): { main: string; built: boolean } {
  const main = fileURLToPath(new URL(`../examples/${name}/dist/main.js`, import.meta.url));
  const built = existsSync(main);
  if (!built) console.warn(`examples/${name} smoke test skipped: ${main} does not exist; run \`npx tsc --build examples/${name}\` first`);
  return { main, built };
}

/** Runs `node <main> ...args`; kills it after `timeoutMs`. */
export function runExample(main: string, args: string[], timeoutMs = 110_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('KCL_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}
