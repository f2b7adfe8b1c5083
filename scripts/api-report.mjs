// @ts-check
/**
 * API reports (`pnpm check:api`, part of `pnpm test`): api-extractor writes the public surface
 * of every entry point of every public package (each `exports` subpath with `types`) to
 * `packages/<name>/api/<entry>.api.md`, and the check fails when the built `.d.ts` no longer
 * match the committed report — so a change to the public surface shows in review.
 *
 * After a deliberate change: `pnpm build && pnpm api:update`, then commit the reports.
 * Needs a build (`pnpm build`) first: it reads `dist/*.d.ts`.
 */
import { CompilerState, Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicPackages } from '../test/consumer-project/packing.mjs';

const update = process.argv.includes('--update');
const started = performance.now();

/** @typedef {{ label: string; config: ExtractorConfig; dts: string }} Entry */
/** @type {Entry[]} */
const entries = [];
const tempFolder = join(tmpdir(), 'kcl-ts-api-report');
mkdirSync(tempFolder, { recursive: true });

for (const pkg of await publicPackages()) {
  const exportsMap = /** @type {Record<string, unknown>} */ (pkg.manifest.exports ?? {});
  for (const [subpath, target] of Object.entries(exportsMap)) {
    const types = typeof target === 'object' && target !== null ? /** @type {{ types?: string }} */ (target).types : undefined;
    if (types === undefined) continue;
    const dts = join(pkg.dir, types);
    if (!existsSync(dts)) throw new Error(`${pkg.name}${subpath.slice(1)}: ${dts} is missing; run \`pnpm build\` first`);
    mkdirSync(join(pkg.dir, 'api'), { recursive: true });
    const unscoped = pkg.name.replace(/^@[^/]+\//, '');
    const reportName = subpath === '.' ? unscoped : `${unscoped}-${subpath.slice(2).replaceAll('/', '-')}`;
    const config = ExtractorConfig.prepare({
      packageJsonFullPath: join(pkg.dir, 'package.json'),
      configObjectFullPath: undefined,
      configObject: {
        projectFolder: pkg.dir,
        mainEntryPointFilePath: dts,
        compiler: {
          overrideTsconfig: {
            compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023', 'DOM'], strict: true, skipLibCheck: true, types: ['node'] },
          },
        },
        apiReport: { enabled: true, reportFileName: reportName, reportFolder: join(pkg.dir, 'api'), reportTempFolder: tempFolder, includeForgottenExports: false },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: 'warning' } },
          // Types an export uses without exporting them are marked in the report, not fatal.
          extractorMessageReporting: {
            default: { logLevel: 'warning' },
            'ae-missing-release-tag': { logLevel: 'none' },
            'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
            // Documentation and its links are checked by typedoc (`pnpm docs:check`).
            'ae-undocumented': { logLevel: 'none' },
            'ae-unresolved-link': { logLevel: 'none' },
          },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
        },
      },
    });
    entries.push({ label: `${pkg.name}${subpath.slice(1)}`, config, dts });
  }
}

// One compiler program for every entry point: the packages share most of their declarations.
const compilerState = CompilerState.create(entries[0].config, { additionalEntryPoints: entries.map((e) => e.dts) });
/** @type {string[]} */
const problems = [];
for (const { label, config } of entries) {
  /** @type {string[]} */
  const messages = [];
  const result = Extractor.invoke(config, {
    localBuild: update,
    compilerState,
    messageCallback: (message) => {
      message.handled = true;
      if (message.messageId.startsWith('console-')) return;
      if (message.logLevel === 'warning' || message.logLevel === 'error') messages.push(`  ${message.formatMessageWithLocation(config.projectFolder)}`);
    },
  });
  if (messages.length > 0) problems.push(`${label}:\n${messages.join('\n')}`);
  if (result.apiReportChanged) {
    const report = join(config.reportFolder, config.reportConfigs[0]?.fileName ?? '');
    problems.push(
      update
        ? `${label}: report updated (${report})`
        : `${label}: the public API differs from ${report}. If the change is meant, run \`pnpm build && pnpm api:update\` and commit the report (the new one is in ${config.reportTempFolder}).`,
    );
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const failed = problems.filter((p) => !p.includes('report updated'));
for (const p of problems) console.error(p);
if (failed.length > 0 && !update) {
  console.error(`check:api: ${failed.length} problem(s) in ${entries.length} entry points (${seconds} s)`);
  process.exit(1);
}
console.log(`check:api: ${entries.length} entry points of ${new Set(entries.map((e) => e.label.split('/').slice(0, 2).join('/'))).size} packages ${update ? 'written' : 'match their API reports'} (${seconds} s)`);
