/**
 * Vitest config of the chaos suite (`pnpm test:chaos`). Same aliases and global setup as the
 * root config, but only the chaos tests, one file at a time (each scenario runs its own fleet
 * of worker processes on a 2-core machine), and the FULL profile unless CHAOS_PROFILE says
 * otherwise. Run from the root `pnpm test`, the same files use the SHORT profile.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = (name: string): string => fileURLToPath(new URL(`../${name}/src/index.ts`, import.meta.url));
const profile = process.env.CHAOS_PROFILE ?? 'full';
if (profile !== 'short' && profile !== 'full') throw new TypeError(`CHAOS_PROFILE must be 'short' or 'full', got ${JSON.stringify(profile)}`);

export default defineConfig({
  root,
  resolve: {
    alias: [{ find: /^@kcl-ts\/(processor|leases|shard-sync|kcl|local|fleet)$/, replacement: pkg('$1') }],
  },
  test: {
    include: ['packages/chaos/test/**/*.test.ts'],
    globalSetup: [fileURLToPath(new URL('../../test-support/global-setup.ts', import.meta.url))],
    env: { CHAOS_PROFILE: profile },
    reporters: ['default', fileURLToPath(new URL('../../test-support/summary-reporter.ts', import.meta.url))],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
