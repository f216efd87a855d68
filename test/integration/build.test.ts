import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildInfo, getNumThreads, setNumThreads } from '../../lib/index.js';
import { REPO_ROOT } from '../support/paths.js';

const root = REPO_ROOT + path.sep;
const resolver = path.join(root, 'scripts', 'libtorch.mjs');
// where discovery cached its answer (scripts/libtorch.mjs honours the same variable)
const discoveryCache = process.env.SLICE_DISTILL_LIBTORCH_CACHE || path.join(root, '.libtorch.json');

function runResolver(env: Record<string, string>): ReturnType<typeof spawnSync> {
  const cache = path.join(mkdtempSync(path.join(os.tmpdir(), 'sd-libtorch-')), 'cache.json');
  return spawnSync(process.execPath, [resolver], {
    encoding: 'utf8',
    env: { ...process.env, SLICE_DISTILL_LIBTORCH_CACHE: cache, ...env },
  });
}

describe('build and LibTorch discovery', () => {
  const builds: [string, string][] = [
    ['cmake-js', path.join(root, 'build-cmake', 'Release', 'slice_distill.node')],
    ['node-gyp', path.join(root, 'build', 'Release', 'slice_distill.node')],
  ];
  for (const [name, addon] of builds) {
    it(`the ${name} addon loads and computes`, function () {
      if (!existsSync(addon)) {
        console.log(`      (skipped: ${path.relative(root, addon)} is not built; npm run build:${name === 'cmake-js' ? 'cmake' : 'gyp'})`);
        this.skip();
      }
      const script = `
        import * as sd from ${JSON.stringify(path.join(root, 'lib', 'index.ts'))};
        const y = sd.tensor([[1, 2], [3, 4]]).matmul(sd.tensor([1, 1]));
        console.log(JSON.stringify({ y: y.toList(), info: sd.buildInfo() }));
      `;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, SLICE_DISTILL_ADDON: addon },
      });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      assert.deepEqual(out.y, [3, 7]);
      assert.equal(out.info.addonPath, addon);
      assert.ok(statSync(addon).size > 0);
    });
  }

  it('the addon links the LibTorch that discovery found', () => {
    const cached = JSON.parse(readFileSync(discoveryCache, 'utf8')).libtorch;
    const info = buildInfo();
    assert.equal(info.torchVersion.split('+')[0], String(cached.version).split('+')[0]);
    assert.equal(info.cudaBuild, cached.cuda);
    const ldd = spawnSync('ldd', [info.addonPath], { encoding: 'utf8' });
    if (ldd.status === 0) assert.match(ldd.stdout, new RegExp(`libtorch_cpu\\.so => ${cached.libDir}`));
  });

  it("the addon's own kernels split work over LibTorch's threads", function () {
    // built without OpenMP, at::parallel_for in native/ops runs every range on one thread
    const cached = JSON.parse(readFileSync(discoveryCache, 'utf8')).libtorch;
    const threads = getNumThreads();
    if (!cached.openmpRuntime || threads < 2) this.skip(); // nothing to split over
    assert.equal(buildInfo().kernelThreads, threads);
    setNumThreads(1);
    try {
      assert.equal(buildInfo().kernelThreads, 1);
    } finally {
      setNumThreads(threads);
    }
  });

  it('LIBTORCH pointing at a LibTorch folder wins', () => {
    const cached = JSON.parse(readFileSync(discoveryCache, 'utf8')).libtorch;
    const r = runResolver({ LIBTORCH: cached.root });
    assert.equal(r.status, 0, String(r.stderr));
    const found = JSON.parse(String(r.stdout));
    assert.equal(found.source, 'LIBTORCH');
    assert.equal(found.root, cached.root);
  });

  it('names every place it tried when LibTorch cannot be found', () => {
    const emptyVenv = mkdtempSync(path.join(os.tmpdir(), 'sd-novenv-'));
    const r = runResolver({
      LIBTORCH: '/nonexistent/libtorch',
      PYTHON: '/nonexistent/python3',
      SLICE_DISTILL_VENV: emptyVenv,
      SLICE_DISTILL_NO_VENV: '1',
    });
    const stderr = String(r.stderr);
    assert.notEqual(r.status, 0);
    assert.match(stderr, /could not find LibTorch/);
    assert.match(stderr, /LIBTORCH=\/nonexistent\/libtorch: .*is not a LibTorch folder/);
    assert.match(stderr, /torch of \/nonexistent\/python3/);
    assert.match(stderr, /SLICE_DISTILL_NO_VENV/);
    assert.doesNotMatch(stderr, /at resolveLibtorch|node:internal/, 'a message, not a stack trace');
  });
});
