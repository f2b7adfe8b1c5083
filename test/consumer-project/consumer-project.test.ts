/**
 * The packages the way a user gets them: every public package is packed, installed from its
 * tarball into a fresh npm project outside the workspace (under the OS temp directory)
 * together with the newest AWS SDK clients the declared peer ranges allow — not the
 * lockfile's — and a strict TypeScript application (fixture/) is compiled there against the
 * packed `.d.ts` and run against the embedded stack of @kcl-ts/local. The `kcl` and
 * `kcl-local` bins are then run from that project.
 *
 * The install needs the npm registry. Typical run: 25–60 s, a third of it `npm install`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPublicPackages, publicPackages, REPO_ROOT, run, useTarballs } from './packing.mjs';

const FIXTURE = fileURLToPath(new URL('./fixture/', import.meta.url));
const RECORDS = 200;
const SDK_CLIENTS = ['@aws-sdk/client-kinesis', '@aws-sdk/client-dynamodb'] as const;

/** One JSON line the fixture application prints. */
interface AppEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** The environment for npm and the installed bins: without the settings pnpm hands its scripts. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile|ca)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) && !keep.test(name)) continue;
    if (/^(AWS_PROFILE|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_ENDPOINT_URL.*|KCL_.*)$/.test(name)) continue;
    env[name] = value;
  }
  // The SDK warns on Node 20 that its 2027 releases need Node 22; known and noted in the README.
  env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  return { ...env, ...extra };
}

/** Orders release versions (`major.minor.patch`; the peer ranges admit no prereleases). */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Timings of the steps, printed at the end. */
const timings: string[] = [];
async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings.push(`${step}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** A running fixture application: its JSON events, in order, and its exit. */
class RunningApp {
  readonly events: AppEvent[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as AppEvent);
      } catch {
        this.stderr += `(stdout) ${line}\n`;
      }
      this.wake();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves with the first event named `name`; rejects if the app exits first or at the deadline. */
  async waitForEvent(name: string, timeoutMs: number): Promise<AppEvent> {
    return this.waitUntil(() => this.events.find((e) => e.event === name), `event "${name}"`, timeoutMs, true);
  }

  /** Resolves once the app has exited. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.waitUntil(() => this.exit, 'exit', timeoutMs, false);
  }

  private waitUntil<T>(probe: () => T | undefined, what: string, timeoutMs: number, failOnExit: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value !== undefined) return finish(() => resolve(value));
        if (failOnExit && this.exit !== undefined) {
          finish(() => reject(new Error(`the app exited (${JSON.stringify(this.exit)}) before ${what}:\n${this.stderr}`)));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${what} within ${timeoutMs} ms; stderr:\n${this.stderr}`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }
}

describe('a consumer project that installs the packed packages', () => {
  let work = '';
  let project = '';
  let app: RunningApp | undefined;
  /** Versions of the SDK clients npm installed, and the peer ranges @kcl-ts/kcl declares for them. */
  const installed = new Map<string, string>();
  const peerRanges = new Map<string, string>();

  beforeAll(async () => {
    const started = performance.now();
    // dist/ is what gets packed. `pnpm test` has just built it; a direct run builds (or
    // confirms up to date) the public packages here, so it never packs a stale build.
    const projects = (await publicPackages()).map((p) => p.dir);
    await timed('build', () => run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--build', ...projects], { cwd: REPO_ROOT }));
    work = await mkdtemp(join(tmpdir(), 'kcl-ts-consumer-'));
    const packed = await timed('pack', () => packPublicPackages(join(work, 'tarballs')));

    // The peer ranges users see: the newest versions inside them get installed.
    const kcl = packed.find((p) => p.name === '@kcl-ts/kcl');
    if (kcl === undefined) throw new Error('@kcl-ts/kcl is not among the public packages');
    for (const name of SDK_CLIENTS) {
      const range = kcl.manifest.peerDependencies?.[name];
      if (range === undefined) throw new Error(`@kcl-ts/kcl declares no peer ${name}`);
      peerRanges.set(name, range);
    }
    const rootManifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

    project = join(work, 'app');
    await mkdir(project);
    await cp(FIXTURE, project, { recursive: true });
    const manifest = {
      name: 'kcl-ts-consumer',
      private: true,
      type: 'module',
      version: '0.0.0',
      dependencies: Object.fromEntries(peerRanges),
      devDependencies: {
        // The compiler the workspace uses, and Node 20 types as in the workspace.
        typescript: rootManifest.devDependencies['typescript'],
        '@types/node': rootManifest.devDependencies['@types/node'],
      },
    };
    // As `pnpm pack:local` does for a user's project (the packed manifests name each other by
    // version, 0.1.0, not published: overrides pin them to the tarballs).
    useTarballs(manifest, packed, { dependencies: packed.map((p) => p.name), spec: (tarball) => `file:${tarball}` });
    await writeFile(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // --prefer-online: fresh registry metadata, so "newest" really is the newest.
    await timed('npm install', () =>
      run('npm', ['install', '--prefer-online', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, env: cleanEnv(), timeoutMs: 240_000 }),
    );
    for (const name of SDK_CLIENTS) {
      const manifest = JSON.parse(await readFile(join(project, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
      installed.set(name, manifest.version);
    }
    timings.push(`setup total: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);

  afterAll(async () => {
    if (app !== undefined && app.exit === undefined) {
      app.child.kill('SIGKILL');
      await app.waitForExit(10_000).catch(() => undefined);
    }
    if (work !== '' && process.env['KCL_KEEP_CONSUMER_PROJECT'] === undefined) await rm(work, { recursive: true, force: true });
    console.log(`consumer project (${[...installed].map(([n, v]) => `${n}@${v}`).join(', ')}):\n  ${timings.join('\n  ')}`);
  }, 30_000);

  it('installs the newest AWS SDK clients the peer ranges allow, not the lockfile versions', async () => {
    for (const name of SDK_CLIENTS) {
      const { stdout } = await run('npm', ['view', `${name}@${peerRanges.get(name)}`, 'version', '--json', '--prefer-online'], { cwd: project, env: cleanEnv() });
      const versions = [JSON.parse(stdout) as string | string[]].flat().sort(compareVersions);
      expect(installed.get(name), name).toBe(versions.at(-1));
    }
  });

  it('compiles a strict TypeScript application (module NodeNext, skipLibCheck off) against the packed .d.ts', async () => {
    await timed('tsc', () => run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project }));
  }, 120_000);

  it(`processes every one of ${RECORDS} records with a Worker given stack.credentials as is`, async () => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: project,
      env: cleanEnv({ CONSUMER_RECORDS: String(RECORDS), CONSUMER_DEADLINE_MS: '60000' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    app = new RunningApp(child);
    const processed = await timed('app: stack, put, consume', () => app!.waitForEvent('processed', 110_000));
    expect(processed).toMatchObject({ put: RECORDS, processed: RECORDS, missing: 0, leaseTableListed: true });
  }, 120_000);

  it('runs `kcl status` from the project against the stack', async () => {
    const processed = app?.events.find((e) => e.event === 'processed');
    expect(processed, 'the app did not get to process its records').toBeDefined();
    const { applicationName, streamName, region, kinesisEndpoint, dynamoDbEndpoint, workerId } = processed as Record<string, string>;
    const { stdout } = await run(
      join(project, 'node_modules', '.bin', 'kcl'),
      ['status', '--app', applicationName!, '--stream', streamName!, '--json', '--kinesis-endpoint', kinesisEndpoint!, '--dynamodb-endpoint', dynamoDbEndpoint!],
      { cwd: project, env: cleanEnv({ AWS_REGION: region }), timeoutMs: 30_000 },
    );
    const report = JSON.parse(stdout) as { leases: { shardId: string; owner: string | null; checkpoint: string }[] };
    expect(report.leases).toHaveLength(2);
    for (const lease of report.leases) {
      expect(lease.owner, lease.shardId).toBe(workerId);
      expect(lease.checkpoint, lease.shardId).toMatch(/^\d+$/);
    }
  }, 60_000);

  it('shuts the app down gracefully once its stdin closes', async () => {
    expect(app, 'the app was not started').toBeDefined();
    app!.child.stdin.end();
    await app!.waitForEvent('stopped', 45_000);
    expect(await app!.waitForExit(15_000)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('runs the `kcl` and `kcl-local` bins', async () => {
    const kclHelp = await run(join(project, 'node_modules', '.bin', 'kcl'), ['status', '--help'], { cwd: project, env: cleanEnv() });
    expect(kclHelp.stdout).toContain('kcl status');
    const localHelp = await run(join(project, 'node_modules', '.bin', 'kcl-local'), ['--help'], { cwd: project, env: cleanEnv() });
    expect(localHelp.stdout).toContain('Usage: kcl-local up');
  });
});
