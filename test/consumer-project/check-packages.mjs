// @ts-check
/**
 * Package checks of the test command (`pnpm check:packages`): packs every public package as
 * it would be published and checks the tarballs, not the workspace folders.
 *
 * - publint (`--strict`: its warnings fail too);
 * - @arethetypeswrong/cli with the `esm-only` profile: the packages are ESM-only (`type:
 *   module`, `exports` with `types` + `import` only), so the node10 and "node16 from CJS"
 *   resolutions are out of scope (Node ≥ 20.19 can still `require()` them: no top-level await);
 * - the rules below, which neither tool covers: no `workspace:` ranges, `exports` with
 *   `types` first, only `dist`, README and LICENSE shipped (no tests, no bench), source maps that carry
 *   their sources (the `src/` they name is not shipped), no declaration maps, the AWS SDK
 *   only as a peer, peers of @kcl-ts dependencies passed through, and the metadata fields.
 *
 * Exits 1 with the list of problems. Needs a build (`pnpm build`) first.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packPublicPackages, REPO_ROOT, run, unpack } from './packing.mjs';

/** @typedef {import('./packing.mjs').Manifest} Manifest */

/**
 * Every file below `dir`, as paths relative to it with `/` separators.
 * @param {string} dir
 * @returns {Promise<string[]>}
 */
async function listFiles(dir) {
  /** @type {string[]} */
  const files = [];
  /** @param {string} folder */
  const walk = async (folder) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(relative(dir, path).split('\\').join('/'));
    }
  };
  await walk(dir);
  return files.sort();
}

/**
 * The rules on one unpacked package.
 * @param {string} folder the package's folder under packages/
 * @param {string} root the unpacked tarball
 * @param {Map<string, Manifest>} manifests packed manifests of all public packages, by name
 * @returns {Promise<string[]>} problems
 */
export async function checkPackage(folder, root, manifests) {
  /** @type {string[]} */
  const problems = [];
  /** @type {Manifest} */
  const m = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const files = await listFiles(root);
  const shipped = new Set(files);

  for (const field of /** @type {const} */ (['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'])) {
    for (const [dep, range] of Object.entries(m[field] ?? {})) {
      if (range.startsWith('workspace:')) problems.push(`${field}.${dep} is still "${range}" in the packed manifest`);
    }
  }

  if (m.type !== 'module') problems.push('type must be "module"');
  if (m.sideEffects !== false) problems.push('sideEffects must be false');
  if (!m.license) problems.push('license is missing');
  if (!Array.isArray(m.keywords) || m.keywords.length === 0) problems.push('keywords are missing');
  if (!m.engines?.['node']) problems.push('engines.node is missing');
  if (!m.repository?.url || m.repository.directory !== `packages/${folder}`) {
    problems.push(`repository must have a url and directory "packages/${folder}", got ${JSON.stringify(m.repository)}`);
  }

  // exports: every condition object lists `types` first, and every target is shipped.
  /** @param {unknown} node @param {string} where */
  const walkExports = (node, where) => {
    if (typeof node === 'string') {
      if (!shipped.has(node.replace(/^\.\//, ''))) problems.push(`${where} points at ${node}, which is not in the tarball`);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const keys = Object.keys(node);
    const conditions = keys.filter((k) => !k.startsWith('.'));
    if (conditions.length > 0 && conditions.includes('types') && conditions[0] !== 'types') {
      problems.push(`${where}: "types" must be the first condition, got ${conditions.join(', ')}`);
    }
    if (conditions.length > 0 && !conditions.includes('types') && !keys.every((k) => k === 'default')) {
      const target = /** @type {Record<string, unknown>} */ (node)['import'];
      if (typeof target === 'string' && target.endsWith('.js')) problems.push(`${where} has no "types" condition`);
    }
    for (const key of keys) walkExports(/** @type {Record<string, unknown>} */ (node)[key], `${where}.${key}`);
  };
  if (m.exports === undefined) problems.push('exports is missing');
  else walkExports(m.exports, 'exports');

  // Only dist and the README; nothing that is a test, a benchmark or a map into missing sources.
  for (const file of files) {
    if (file !== 'package.json' && file !== 'README.md' && !/^LICENSE/.test(file) && !file.startsWith('dist/')) {
      problems.push(`ships ${file} (only dist/ and README.md are meant to be published)`);
    }
    if (/(^|\/)(test|tests|__tests__|bench)\//.test(file) || /\.(test|spec)\.[cm]?[jt]s/.test(file)) problems.push(`ships ${file} (tests and benchmarks stay out)`);
    if (file.endsWith('.d.ts.map')) problems.push(`ships ${file}: declaration maps point into src/, which is not shipped`);
  }
  if (!shipped.has('README.md')) problems.push('README.md is missing');
  if (!shipped.has('LICENSE')) problems.push(`LICENSE is missing (the manifest declares ${m.license ?? 'no license'})`);
  for (const file of files.filter((f) => /\.[cm]?js$/.test(f))) {
    const text = await readFile(join(root, file), 'utf8');
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
    if (url === undefined || url.startsWith('data:')) continue;
    const mapFile = join(file, '..', url).split('\\').join('/');
    if (!shipped.has(mapFile)) {
      problems.push(`${file} names the source map ${url}, which is not shipped`);
      continue;
    }
    /** @type {{ sources?: string[]; sourcesContent?: (string | null)[] }} */
    const map = JSON.parse(await readFile(join(root, mapFile), 'utf8'));
    const sources = map.sources ?? [];
    const contents = map.sourcesContent ?? [];
    if (sources.some((_, i) => typeof contents[i] !== 'string')) {
      problems.push(`${mapFile} names sources (${sources.join(', ')}) without carrying their content (set inlineSources)`);
    }
  }

  for (const [name, target] of Object.entries(m.bin ?? {})) {
    const file = target.replace(/^\.\//, '');
    if (!shipped.has(file)) problems.push(`bin ${name} → ${target} is not in the tarball`);
    else if (!(await readFile(join(root, file), 'utf8')).startsWith('#!/usr/bin/env node')) problems.push(`bin ${name} → ${target} has no "#!/usr/bin/env node" line`);
  }

  // Peers: the AWS SDK is never a hard dependency (users pass their own clients); optional
  // peers are marked in peerDependenciesMeta; a peer of a @kcl-ts dependency is a peer here too.
  const peers = m.peerDependencies ?? {};
  for (const dep of Object.keys(m.dependencies ?? {})) {
    if (dep.startsWith('@aws-sdk/')) problems.push(`${dep} must be a peerDependency, not a dependency`);
  }
  for (const [dep, meta] of Object.entries(m.peerDependenciesMeta ?? {})) {
    if (!(dep in peers)) problems.push(`peerDependenciesMeta.${dep} has no peerDependencies entry`);
    if (meta.optional !== true) problems.push(`peerDependenciesMeta.${dep} should only mark optional peers`);
  }
  for (const dep of Object.keys(m.dependencies ?? {})) {
    const inner = manifests.get(dep);
    if (inner === undefined) continue;
    for (const [peer, range] of Object.entries(inner.peerDependencies ?? {})) {
      const optional = inner.peerDependenciesMeta?.[peer]?.optional === true;
      if (!optional && !(peer in peers)) problems.push(`depends on ${dep}, which needs the peer ${peer}@${range}: declare it as a peer here too`);
    }
  }
  return problems;
}

/**
 * Runs a CLI check on a tarball; resolves with its output as a problem, or undefined.
 * @param {string} bin @param {string[]} args
 * @returns {Promise<string | undefined>}
 */
async function tool(bin, args) {
  try {
    await run(join(REPO_ROOT, 'node_modules', '.bin', bin), args, { env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function main() {
  const started = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'kcl-ts-check-packages-'));
  try {
    const packed = await packPublicPackages(join(work, 'tarballs'));
    const unpacked = await Promise.all(packed.map(async (p) => ({ ...p, root: await unpack(p.tarball, join(work, 'unpacked', p.folder)) })));
    /** @type {Map<string, Manifest>} */
    const manifests = new Map();
    for (const p of unpacked) manifests.set(p.name, JSON.parse(await readFile(join(p.root, 'package.json'), 'utf8')));

    const results = await Promise.all(
      unpacked.map(async (p) => {
        const [rules, publint, attw] = await Promise.all([
          checkPackage(p.folder, p.root, manifests),
          tool('publint', [p.tarball, '--strict']),
          tool('attw', [p.tarball, '--profile', 'esm-only', '--format', 'ascii']),
        ]);
        return { name: p.name, problems: [...rules, ...(publint ? [`publint:\n${publint}`] : []), ...(attw ? [`attw:\n${attw}`] : [])] };
      }),
    );
    const failed = results.filter((r) => r.problems.length > 0);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (failed.length > 0) {
      for (const r of failed) process.stderr.write(`\n${r.name}:\n${r.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      process.stderr.write(`\ncheck:packages: ${failed.length} of ${results.length} packages have problems (${seconds} s)\n`);
      process.exitCode = 1;
    } else {
      process.stdout.write(`check:packages: ${results.map((r) => r.name).join(', ')}: publint, attw (esm-only) and manifest rules pass (${seconds} s)\n`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!existsSync(join(REPO_ROOT, 'packages', 'kcl', 'dist', 'index.js'))) {
    process.stderr.write('check:packages: no dist/ yet; run `pnpm build` first\n');
    process.exitCode = 1;
  } else {
    await main();
  }
}
