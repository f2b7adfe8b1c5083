// `pnpm check:layers` (part of `pnpm test`): the packages depend on each other one way.
//
//   processor ← leases ← shard-sync ← kcl ← cli
//   local                    (alone: the embedded emulators, no @kcl-ts dependency)
//   sinks                    (on processor and kcl)
//   demo, chaos, bench, sim, examples: private, on top of everything; no library imports them.
//
// Only library sources (`packages/*/src`) are held to the layering; tests may reach where they
// test. Nobody imports another package's built `dist/` by a relative path.
const LIBRARIES = ['processor', 'leases', 'shard-sync', 'kcl', 'cli', 'local', 'sinks'];
const PRIVATE = ['demo', 'chaos', 'bench', 'sim'];
const ALL = [...LIBRARIES, ...PRIVATE];

/** What each library's src may import, besides itself. */
const ALLOWED = {
  processor: [],
  leases: ['processor'],
  'shard-sync': ['processor', 'leases'],
  kcl: ['processor', 'leases', 'shard-sync'],
  cli: ['processor', 'leases', 'shard-sync', 'kcl'],
  local: [],
  sinks: ['processor', 'kcl'],
};

const alternation = (names) => `(${names.join('|')})`;

module.exports = {
  forbidden: [
    ...Object.entries(ALLOWED).map(([pkg, allowed]) => ({
      name: `layering-${pkg}`,
      comment: `packages/${pkg}/src may import only ${allowed.length ? allowed.join(', ') : 'itself'} among the workspace packages`,
      severity: 'error',
      from: { path: `^packages/${pkg}/src/` },
      to: { path: `^packages/${alternation(ALL.filter((p) => p !== pkg && !allowed.includes(p)))}/` },
    })),
    {
      name: 'no-library-imports-examples',
      comment: 'a library never imports an example',
      severity: 'error',
      from: { path: `^packages/${alternation(LIBRARIES)}/src/` },
      to: { path: '^examples/' },
    },
    {
      name: 'no-dist-reach-in',
      comment: "import a package by its name, not its built files by a relative path",
      severity: 'error',
      from: {},
      to: { path: '(^|/)dist/', dependencyTypes: ['local'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves (so the rules above see every edge)',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle inside library sources',
      severity: 'error',
      from: { path: `^packages/${alternation(LIBRARIES)}/src/` },
      to: { circular: true },
    },
  ],
  options: {
    // Built files are not crawled, but an import of one is still seen (no-dist-reach-in).
    doNotFollow: { path: '(^|/)(dist|node_modules)/' },
    // The consumer project's fixture is installed from packed tarballs outside the workspace.
    exclude: { path: '^test/consumer-project/fixture/' },
    tsPreCompilationDeps: true,
    // Its `paths` resolve @kcl-ts/* to the sources, as vitest does for the tests.
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default'],
    },
  },
};
