import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { parseArgs, type CommandSpec } from '../../lib/cli/args.js';
import { crc32 } from '../../lib/util/png.js';
import { CASE_A, REPO, requireRealCt, tempDir } from '../support/data-fixtures.js';
import { cli } from '../support/cli.js';

/** Checks a PNG's chunks and CRCs and returns its size and decoded RGB rows. */
function decodePng(bytes: Buffer): { width: number; height: number; pixels: Buffer } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (pos < bytes.length) {
    const len = bytes.readUInt32BE(pos);
    const type = bytes.subarray(pos + 4, pos + 8).toString('latin1');
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    assert.equal(bytes.readUInt32BE(pos + 8 + len), crc32(bytes.subarray(pos + 4, pos + 8 + len)), `${type} CRC`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8);
      assert.equal(data[9], 2);
    }
    if (type === 'IDAT') idat.push(data);
    types.push(type);
    pos += 12 + len;
  }
  assert.deepEqual([types[0], types[types.length - 1]], ['IHDR', 'IEND']);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, (width * 3 + 1) * height);
  return { width, height, pixels: raw };
}

describe('data: CLI (phantom, preview)', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.cleanup());

  it('help: the command list and each command', async () => {
    const main = await cli('--help');
    assert.equal(main.code, 0);
    assert.match(main.out, /phantom\s+Generate/);
    assert.match(main.out, /preview\s+Render/);
    const help = await cli('phantom', '--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /-o, --out DIR\s+Output folder \(created\) \(required\)/);
    assert.match(help.out, /--volumes N\s+Number of 3D volumes \(default: 8\)/);
    assert.match((await cli('help', 'preview')).out, /Usage: slice-distill preview FILE \[options\]/);
    assert.equal((await cli()).code, 2);
  });

  it('usage errors are clear and exit with 2', async () => {
    let r = await cli('phantom', '--out', tmp.dir, '--volume', '3');
    assert.equal(r.code, 2);
    assert.match(r.err, /slice-distill phantom: unknown option --volume \(did you mean --volumes\?\)/);
    assert.match(r.err, /Run 'slice-distill phantom --help'/);
    r = await cli('phantom');
    assert.match(r.err, /--out is required/);
    r = await cli('phantom', '--out', tmp.dir, '--seed', 'x');
    assert.match(r.err, /--seed expects an integer, got 'x'/);
    r = await cli('phantm');
    assert.match(r.err, /unknown command 'phantm' \(did you mean 'phantom'\?\)/);
    r = await cli('preview', 'a.nii', 'b.nii', '--out', 'x.png');
    assert.match(r.err, /unexpected argument 'b.nii'/);
    r = await cli('preview', path.join(tmp.dir, 'missing.nii.gz'), '--out', path.join(tmp.dir, 'x.png'));
    assert.equal(r.code, 1);
    assert.match(r.err, /NiftiError: .*missing\.nii\.gz: no such file/);
  });

  it('the parser: --flag=value, --no-flag, short aliases, repeated flags', () => {
    const spec: CommandSpec = {
      name: 't',
      summary: '',
      options: {
        n: { type: 'number', description: '' },
        v: { type: 'boolean', description: '', short: 'V' },
        s: { type: 'string', description: '', default: 'd' },
      },
      positionals: [{ name: 'x', description: '', required: false }],
      run: async () => 0,
    };
    assert.deepEqual(parseArgs(spec, ['--n=-1.5', '-V', 'pos']).options, { n: -1.5, v: true, s: 'd' });
    assert.equal(parseArgs(spec, ['--no-v']).options.v, false);
    assert.throws(() => parseArgs(spec, ['--n', '1', '--n', '2']), /given twice/);
    assert.throws(() => parseArgs(spec, ['--n']), /needs a value/);
  });

  it('phantom writes a dataset; preview renders a phantom slice with its labels', async () => {
    const out = path.join(tmp.dir, 'ph');
    const r = await cli('phantom', '--out', out, '--volumes', '2', '--slices', '3', '--seed', '4', '--volume-size', '48,48,32');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /wrote 2 volumes and 3 slices/);
    const json = JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8'));
    assert.equal(json.volumes.length, 2);
    const png = path.join(tmp.dir, 'ph.png');
    const p = await cli('preview', path.join(out, json.volumes[0].image), '--labels', path.join(out, json.volumes[0].label), '--out', png, '--size', '256');
    assert.equal(p.code, 0, p.err);
    assert.match(p.out, /labelled voxels: .*liver/);
    const img = decodePng(readFileSync(png));
    assert.equal(Math.max(img.width, img.height), 256);
    // coloured (overlay) pixels exist: some pixel with r != g
    let coloured = 0;
    for (let row = 0; row < img.height; row++) {
      const base = row * (img.width * 3 + 1) + 1;
      for (let c = 0; c < img.width; c++) if (img.pixels[base + 3 * c] !== img.pixels[base + 3 * c + 1]) coloured++;
    }
    assert.ok(coloured > 200, `${coloured} coloured pixels`);
    const bad = await cli('preview', path.join(out, json.volumes[0].image), '--labels', path.join(out, json.slices[0].label), '--out', png);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--labels has shape \[128, 128, 1\] but the image has \[48, 48, 32\]/);
  });

  it('preview of case A at a kidney level shows all six organs', async function () {
    requireRealCt(this);
    const png = path.join(tmp.dir, 'caseA.png');
    const r = await cli('preview', CASE_A.ct, '--labels', CASE_A.seg, '--z', '85', '--out', png);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /spleen \d+, right kidney \d+, left kidney \d+, liver \d+, stomach \d+, aorta \d+/);
    const img = decodePng(readFileSync(png));
    assert.deepEqual([img.width, img.height], [512, 424]);
  });

  it('runs as a program (node --import tsx lib/cli/main.ts)', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(REPO, 'lib', 'cli', 'main.ts'), '--help'], { cwd: REPO });
    assert.match(stdout, /Usage: slice-distill <command>/);
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', path.join(REPO, 'lib', 'cli', 'main.ts'), 'phantom', '--bogus'], { cwd: REPO }),
      (e: unknown) => {
        const err = e as { code: number; stderr: string };
        return err.code === 2 && /unknown option --bogus/.test(err.stderr);
      },
    );
    assert.ok(existsSync(path.join(REPO, 'lib', 'cli', 'commands', 'index.ts')));
  });
});
