import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The SDK's notice that its 2027 releases need Node 22 is known (versions are pinned in the
// lockfile); silence it for the test run and the processes it starts.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const pkg = (name: string): string => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, not dist, so no build is needed for them.
    alias: [
      { find: /^@kcl-ts\/(processor|leases|shard-sync|kcl|cli|local|chaos|fleet)$/, replacement: pkg('$1') },
      { find: /^@kcl-ts\/(processor|kcl)\/testing$/, replacement: fileURLToPath(new URL('./packages/$1/src/testing.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test-support/global-setup.ts'],
    reporters: ['default', './test-support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
