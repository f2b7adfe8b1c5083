// @ts-check
/**
 * Packing the public packages the way they are published: `pnpm pack` in each package
 * (which replaces `workspace:` ranges with real versions), shared by the package checks
 * (check-packages.mjs) and the consumer-project test. Plain JavaScript so that the checks run
 * with `node` alone before vitest; type-checked through test/consumer-project/tsconfig.json.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The pnpm version the README pins; used when this process was not started by pnpm. */
export const PNPM_VERSION = '12.21.0';

/**
 * @typedef {{
 *   name: string; version: string; private?: boolean; type?: string; sideEffects?: boolean;
 *   license?: string; keywords?: string[]; repository?: { type?: string; url?: string; directory?: string };
 *   engines?: Record<string, string>; exports?: unknown; main?: string; types?: string;
 *   bin?: Record<string, string>; files?: string[];
 *   dependencies?: Record<string, string>; peerDependencies?: Record<string, string>;
 *   peerDependenciesMeta?: Record<string, { optional?: boolean }>; devDependencies?: Record<string, string>;
 *   optionalDependencies?: Record<string, string>;
 * }} Manifest
 */

/** @typedef {{ name: string; version: string; dir: string; folder: string; manifest: Manifest }} WorkspacePackage */

/**
 * The workspace packages that are published: every `packages/*` whose manifest is not `private`.
 * @returns {Promise<WorkspacePackage[]>}
 */
export async function publicPackages() {
  const root = join(REPO_ROOT, 'packages');
  const found = [];
  for (const folder of (await readdir(root)).sort()) {
    const file = join(root, folder, 'package.json');
    if (!existsSync(file)) continue;
    /** @type {Manifest} */
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    if (manifest.private === true) continue;
    found.push({ name: manifest.name, version: manifest.version, dir: join(root, folder), folder, manifest });
  }
  return found;
}

/**
 * Runs a command; rejects with its output when it exits non-zero.
 * @param {string} command
 * @param {readonly string[]} args
 * @param {{ cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }} [options]
 * @returns {Promise<{ stdout: string; stderr: string }>}
 */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 0 },
      (error, stdout, stderr) => {
        if (error) {
          const what = `${basename(command)} ${args.join(' ')}`;
          reject(new Error(`${what} failed (${error.code ?? error.signal ?? error.message})\n${stdout}\n${stderr}`.trim(), { cause: error }));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/**
 * How to run pnpm: the pnpm that started this process (`pnpm test`), or the pinned one
 * through npx when run directly (`npx vitest run …`).
 * @returns {{ command: string; args: string[] }}
 */
export function pnpmCommand() {
  const execPath = process.env['npm_execpath'];
  if (execPath && /^pnpm/.test(basename(execPath))) {
    // pnpm 12 is a native executable; older pnpm versions are a JavaScript entry point.
    return /\.[cm]?js$/.test(execPath) ? { command: process.execPath, args: [execPath] } : { command: execPath, args: [] };
  }
  return { command: 'npx', args: ['-y', `pnpm@${PNPM_VERSION}`] };
}

/**
 * `pnpm pack`s every public package into `destination` (in parallel).
 * @param {string} destination
 * @returns {Promise<Array<WorkspacePackage & { tarball: string }>>}
 */
export async function packPublicPackages(destination) {
  await mkdir(destination, { recursive: true });
  const pnpm = pnpmCommand();
  const packages = await publicPackages();
  return Promise.all(
    packages.map(async (pkg) => {
      await run(pnpm.command, [...pnpm.args, 'pack', '--pack-destination', destination], { cwd: pkg.dir, timeoutMs: 120_000 });
      const tarball = join(destination, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`);
      if (!existsSync(tarball)) throw new Error(`pnpm pack did not produce ${tarball}`);
      return { ...pkg, tarball };
    }),
  );
}

/**
 * Unpacks `tarball` into `directory` (its files land in `directory/package`).
 * @param {string} tarball
 * @param {string} directory
 * @returns {Promise<string>} the unpacked package's folder
 */
export async function unpack(tarball, directory) {
  await mkdir(directory, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', directory]);
  return join(directory, 'package');
}

/**
 * Points a project's manifest at packed packages (before they are on npm): each name in
 * `dependencies` / `devDependencies`, and each packed package the manifest already lists
 * there, gets the `file:` spec of its tarball, and every packed
 * package is pinned to its tarball through `overrides`, because the packed manifests name
 * each other by version. npm needs an override of a direct dependency to be the same spec,
 * so both use `spec(tarball)`. Throws for a name that was not packed.
 * @param {Manifest & { overrides?: Record<string, string> }} manifest changed in place
 * @param {ReadonlyArray<{ name: string; tarball: string }>} packed
 * @param {{ dependencies?: readonly string[]; devDependencies?: readonly string[]; spec: (tarball: string) => string }} use
 */
export function useTarballs(manifest, packed, use) {
  const specs = Object.fromEntries(packed.map((p) => [p.name, use.spec(p.tarball)]));
  for (const field of /** @type {const} */ (['dependencies', 'devDependencies'])) {
    // Packed packages the manifest already has (an earlier run) follow the new tarballs too.
    const present = Object.keys(manifest[field] ?? {}).filter((name) => specs[name] !== undefined);
    for (const name of new Set([...present, ...(use[field] ?? [])])) {
      const spec = specs[name];
      if (spec === undefined) throw new Error(`${name} is not a public package of this repository (packed: ${Object.keys(specs).join(', ')})`);
      manifest[field] = { ...manifest[field], [name]: spec };
    }
  }
  manifest.overrides = { ...manifest.overrides, ...specs };
}
