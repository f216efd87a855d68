// The layers of lib/, lowest first: a module may import from its own layer and the layers
// below it, never from one above. lib/data sits below the native addon on purpose: the
// loader's worker threads run it, and they must never load the addon.
const LAYERS = [
  ['errors\\.ts', 'util'],
  ['data'],
  ['eval'],
  ['report'],
  ['native'],
  ['tensor', 'runtime\\.ts'],
  ['module', 'optim', 'losses', 'ops', 'models', 'distributed'],
  ['loader', 'train', 'infer'],
  ['pipeline'],
  ['cli', 'index\\.ts'],
];

const pathOf = (names) => `^lib/(${names.join('|')})($|/)`;

const upward = LAYERS.slice(0, -1).map((names, i) => ({
  name: `layer-${names[0].replace(/\\\\\.ts$/, '')}`,
  comment: `lib/{${names.join(', ')}} may not import from a layer above it`,
  severity: 'error',
  from: { path: pathOf(names) },
  to: { path: pathOf(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'pure-unit-tests',
      comment: 'the tests of the pure layers (npm run test:unit) run without the native addon',
      severity: 'error',
      from: { path: '^test/unit/(util|data|eval|report)/' },
      to: { path: pathOf(LAYERS.slice(LAYERS.findIndex((l) => l.includes('native'))).flat()) },
    },
    {
      name: 'no-circular',
      comment: 'import cycles between modules',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'lib-not-to-tests',
      comment: 'the library never imports tests, benchmarks or examples',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(test|bench|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
