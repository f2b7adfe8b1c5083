// @ts-check
/**
 * `pnpm pack:local <project> [package…] [--dev package…]`: installs kcl-ts from this clone
 * into an npm project, for as long as the packages are not on npm. Packs every public package
 * into `<project>/kcl-ts-packages/` and points the project's package.json at the tarballs
 * (the named packages as dependencies, `--dev` ones as devDependencies, all of them through
 * `overrides`); then run `npm install` there. Default: `@kcl-ts/kcl`. Run it again after a
 * pull, then `npm install`: the tarball names change with their content, so npm updates them.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { packPublicPackages, useTarballs } from '../test/consumer-project/packing.mjs';

const [target, ...rest] = process.argv.slice(2);
if (target === undefined || target.startsWith('-')) {
  console.error('usage: pnpm pack:local <npm project folder> [package…] [--dev package…]   (default package: @kcl-ts/kcl)');
  process.exit(2);
}
const project = resolve(process.env['INIT_CWD'] ?? process.cwd(), target);
const manifestFile = join(project, 'package.json');
if (!existsSync(manifestFile)) {
  console.error(`${manifestFile} does not exist: create the project first (npm init -y)`);
  process.exit(2);
}
const dev = rest.indexOf('--dev');
const dependencies = dev < 0 ? rest : rest.slice(0, dev);
const devDependencies = dev < 0 ? [] : rest.slice(dev + 1);

// Each tarball's name carries a digest of its content: npm reinstalls a `file:` tarball only
// when its spec changes, so after a pull, running this again and `npm install` updates them.
// Specs are absolute: npm reads a relative override of a package another package depends on
// from that package's folder. Nothing in the project changes until the names are checked and
// every package is packed.
const folder = join(project, 'kcl-ts-packages');
const scratch = await mkdtemp(join(tmpdir(), 'kcl-ts-pack-'));
try {
  const packed = await Promise.all(
    (await packPublicPackages(scratch)).map(async (p) => {
      const digest = createHash('sha256').update(await readFile(p.tarball)).digest('hex').slice(0, 12);
      return { ...p, packedAt: p.tarball, tarball: join(folder, basename(p.tarball).replace(/\.tgz$/, `-${digest}.tgz`)) };
    }),
  );
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
  useTarballs(manifest, packed, {
    dependencies: dependencies.length > 0 || devDependencies.length > 0 ? dependencies : ['@kcl-ts/kcl'],
    devDependencies,
    spec: (tarball) => `file:${tarball}`,
  });
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder);
  for (const p of packed) await copyFile(p.packedAt, p.tarball);
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`packed ${packed.map((p) => `${p.name}@${p.version}`).join(', ')} into ${folder}`);
  console.log(`${manifestFile} now installs them from there. Next, in ${project}:`);
  console.log('  npm install');
  console.log('  npm install @aws-sdk/client-kinesis @aws-sdk/client-dynamodb   # the peer dependencies, if not there yet');
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  await rm(scratch, { recursive: true, force: true });
}
