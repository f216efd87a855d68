import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { compareResults, type EvaluationResult } from '../../../lib/eval/index.js';
import {
  boxPlotFromResults,
  boxPlotScene,
  boxPlotSvg,
  boxStats,
  buildTable,
  crc32,
  decodePng,
  encodePng,
  formatP,
  lineChartScene,
  lowDataFromResults,
  niceTicks,
  overlayRgba,
  renderReport,
  sceneToPng,
  windowToGray,
  writeReport,
  CLASS_COLORS,
  type ReportJson,
} from '../../../lib/report/index.js';

const ORGANS = ['spleen', 'right kidney', 'left kidney', 'liver', 'stomach', 'aorta'];

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** Synthetic per-subject Dice: `shift` raises every organ, some organs missing in some subjects. */
function fakeResult(model: string, variant: string, base: number, shift: number, seed: number, trainingSubjects?: number): EvaluationResult {
  const rnd = lcg(seed);
  const noise = lcg(1000 + seed * 7);
  return {
    model,
    variant,
    organs: ORGANS,
    trainingSubjects,
    perSubject: Array.from({ length: 14 }, (_, s) => ({
      subject: `sub-${String(s).padStart(3, '0')}`,
      dice: ORGANS.map((_, k) => {
        if ((s + k) % 9 === 0) return null;
        const subjectEffect = 0.1 * Math.sin(s * 1.7 + k);
        return Math.min(1, Math.max(0, base + subjectEffect + shift * (0.5 + rnd()) + 0.01 * (noise() - 0.5)));
      }),
    })),
  };
}

const RESULTS: EvaluationResult[] = [
  fakeResult('DeepLabv3', 'none', 0.8, 0, 1),
  fakeResult('DeepLabv3', 'UNesT', 0.8, 0.02, 2),
  fakeResult('DeepLabv3', 'UNesT <pv> & nc', 0.8, 0.01, 3),
  fakeResult('Swin-Unet', 'none', 0.81, 0, 4),
  fakeResult('Swin-Unet', 'UNesT', 0.81, 0.013, 5),
  fakeResult('MISSFormer', 'none', 0.84, 0, 6),
  fakeResult('MISSFormer', 'UNesT', 0.84, 0.004, 7),
  ...[100, 150, 200].flatMap((n, i) => [
    fakeResult('DeepLabv3', 'none', 0.74 + 0.02 * i, 0, 20 + i, n),
    fakeResult('DeepLabv3', 'UNesT', 0.74 + 0.02 * i, 0.02, 30 + i, n),
  ]),
];

/** Chunks of a PNG file, with CRCs checked. */
function chunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array }[] = [];
  let at = 8;
  while (at < png.length) {
    const length = view.getUint32(at);
    const type = Buffer.from(png.subarray(at + 4, at + 8)).toString('latin1');
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(crc32(png.subarray(at + 4, at + 8 + length)), view.getUint32(at + 8 + length), `CRC of ${type}`);
    out.push({ type, data });
    at += 12 + length;
  }
  return out;
}

/** Checks signature, IHDR and the inflated IDAT size; returns the dimensions. */
function checkPng(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const cs = chunks(png);
  assert.equal(cs[0].type, 'IHDR');
  assert.equal(cs[cs.length - 1].type, 'IEND');
  const ihdr = new DataView(cs[0].data.buffer, cs[0].data.byteOffset, 13);
  const width = ihdr.getUint32(0);
  const height = ihdr.getUint32(4);
  assert.equal(cs[0].data[8], 8, 'bit depth');
  assert.equal(cs[0].data[9], 6, 'colour type RGBA');
  const raw = zlib.inflateSync(Buffer.concat(cs.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  assert.equal(raw.length, height * (1 + 4 * width), 'inflated IDAT size');
  return { width, height };
}

describe('report: charts and PNG', () => {
  it('box statistics (quantiles as numpy / R type 7, Tukey whiskers) and round ticks', () => {
    const b = boxStats([9, 1, 2, 3, 100, 4, 5, 6, 7, 8, null]);
    assert.ok(b);
    assert.equal(b.n, 10);
    assert.equal(b.q1, 3.25);
    assert.equal(b.median, 5.5);
    assert.equal(b.q3, 7.75);
    assert.equal(b.whiskerLow, 1);
    assert.equal(b.whiskerHigh, 9);
    assert.deepEqual(b.outliers, [100]);
    assert.equal(boxStats([null]), null);
    assert.deepEqual(niceTicks(0.62, 0.93, 6), [0.6, 0.7, 0.8, 0.9, 1]);
    assert.deepEqual(niceTicks(0.62, 0.93, 10), [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('PNG encoder round trip: every filter path decodes back to the pixels', () => {
    const w = 23;
    const h = 17;
    const rnd = lcg(5);
    const px = new Uint8Array(w * h * 4);
    for (let i = 0; i < px.length; i++) px[i] = i % 7 === 0 ? Math.floor(rnd() * 256) : (i * 3 + Math.floor(i / (w * 4))) & 0xff;
    const png = encodePng(px, w, h);
    assert.deepEqual(checkPng(png), { width: w, height: h });
    const back = decodePng(png);
    assert.equal(back.channels, 4);
    assert.deepEqual(back.pixels, px);
    // grey images too
    const grey = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    assert.deepEqual(decodePng(encodePng(grey, 4, 3, 1)).pixels, grey);
    // the standard CRC-32 check value
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.throws(() => encodePng(px, w + 1, h), { name: 'RangeError', message: /^pixels/ });
  });

  it('scenes render to PNG through resvg: lines, images pixel for pixel, text with the bundled font', () => {
    const tile = new Uint8Array(2 * 2 * 4);
    tile.set([0, 0, 255, 255, 0, 255, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]); // blue green / green blue
    const scene = {
      width: 60,
      height: 30,
      background: '#ffffff',
      title: 'probe',
      shapes: [
        { kind: 'line' as const, x1: 2, y1: 5, x2: 58, y2: 5, stroke: '#ff0000', strokeWidth: 2 },
        { kind: 'image' as const, x: 2, y: 10, width: 2, height: 2, png: encodePng(tile, 2, 2, 4) },
        { kind: 'text' as const, x: 10, y: 20, text: 'Dice', size: 12, color: '#000000' },
      ],
    };
    const png = decodePng(sceneToPng(scene, { scale: 1 }));
    assert.equal(png.width, 60);
    assert.equal(png.height, 30);
    const at = (x: number, y: number): number[] => [...png.pixels.subarray((y * 60 + x) * 4, (y * 60 + x) * 4 + 3)];
    assert.deepEqual(at(30, 5), [255, 0, 0], 'on the line');
    assert.deepEqual(at(30, 1), [255, 255, 255], 'off the line');
    assert.deepEqual(
      [at(2, 10), at(3, 10), at(2, 11), at(3, 11)],
      [
        [0, 0, 255],
        [0, 255, 0],
        [0, 255, 0],
        [0, 0, 255],
      ],
      'image pixels unsmoothed',
    );
    let ink = 0;
    for (let y = 12; y < 28; y++) for (let x = 10; x < 45; x++) if (at(x, y)[0] < 128) ink++;
    assert.ok(ink > 20, `the text is drawn (${ink} dark pixels)`);
    const twice = decodePng(sceneToPng(scene));
    assert.deepEqual([twice.width, twice.height], [120, 60], 'scale 2 by default');
  });

  it('box plot SVG has one box per series and group, and the PNG has the same layout size', () => {
    const data = boxPlotFromResults(
      RESULTS.filter((r) => r.trainingSubjects === undefined),
      'DeepLabv3',
      { names: { none: 'no distillation' } },
    );
    assert.equal(data.series.length, 3);
    assert.equal(data.series[0].name, 'no distillation');
    const svg = boxPlotSvg(data);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/fill-opacity="0.35"/g) ?? []).length, 3 * ORGANS.length);
    assert.ok(svg.includes('UNesT &lt;pv&gt; &amp; nc'), 'legend text escaped');
    const scene = boxPlotScene(data);
    const low = lineChartScene(lowDataFromResults(RESULTS));
    assert.equal(low.shapes.filter((s) => s.kind === 'polyline').length, 2);
    assert.ok(scene.width > 0 && low.width > 0);
  });

  it('CT windowing and label overlay colours', () => {
    assert.deepEqual([...windowToGray([-1000, -175, 37.5, 250, 3000], 'hu')], [0, 0, 128, 255, 255]);
    assert.deepEqual([...windowToGray([0, 0.5, 1])], [0, 128, 255]); // auto: already in [0, 1]
    const img = new Float32Array(25).fill(0.5);
    const labels = new Uint8Array(25);
    for (const i of [6, 7, 8, 11, 12, 13, 16, 17, 18]) labels[i] = 4; // a 3 x 3 liver square
    const o = overlayRgba(img, 5, 5, labels, { upscale: 1, alpha: 0.5 });
    const px = (i: number): number[] => [...o.rgba.subarray(i * 4, i * 4 + 4)];
    assert.deepEqual(px(0), [128, 128, 128, 255]);
    const liver = [0xe4, 0x57, 0x2e];
    assert.equal(CLASS_COLORS[4], '#e4572e');
    assert.deepEqual(px(12), [...liver.map((c) => Math.round(c * 0.5 + 128 * 0.5)), 255], 'interior: translucent');
    assert.deepEqual(px(6), [...liver, 255], 'edge: opaque outline');
  });
});

describe('report: HTML, JSON, CSV and figure files', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slice-distill-report-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a self-contained report whose table matches report.json and the Wilcoxon tests', async () => {
    const full = RESULTS.filter((r) => r.trainingSubjects === undefined);
    const size = 24;
    const image = Float32Array.from({ length: size * size }, (_, i) => -200 + (i % size) * 20);
    const truth = Uint8Array.from({ length: size * size }, (_, i) =>
      i % size > 4 && i % size < 12 && i / size > 6 && i / size < 14 ? 4 : i % size > 15 && i / size > 10 && i / size < 16 ? 1 : 0,
    );
    const pred = Uint8Array.from(truth, (v, i) => (i % size === 11 ? 0 : v));
    const { files } = await writeReport(dir, {
      title: 'Phantom evaluation <test>',
      table: RESULTS,
      tableOptions: { models: ['DeepLabv3', 'Swin-Unet', 'MISSFormer'] },
      labels: { none: 'no distillation' },
      boxPlots: ['DeepLabv3', 'Swin-Unet'].map((m) => ({ data: boxPlotFromResults(full, m) })),
      lowData: { data: lowDataFromResults(RESULTS), caption: 'DeepLabv3 with fewer training subjects' },
      overlays: [
        {
          data: {
            image,
            width: size,
            height: size,
            title: 'slice 1',
            upscale: 4,
            panels: [{ title: 'CT' }, { title: 'truth', labels: truth }, { title: 'prediction', labels: pred }],
          },
        },
      ],
      notes: ['Synthetic numbers for the test.'],
      manifest: { dataset: 'phantom', seed: 7, teacher: { model: 'UNesT tiny' } },
      generatedAt: '2026-01-01T00:00:00Z',
    });
    const names = (await readdir(dir)).sort();
    for (const f of ['report.html', 'report.json', 'table.csv', 'dice_per_subject.csv']) assert.ok(names.includes(f), f);
    assert.equal(files.length, names.length);

    const json = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as ReportJson;
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    assert.equal(json.format, 'slice-distill-report/1');
    assert.deepEqual(json.table.variants, ['none', 'UNesT', 'UNesT <pv> & nc']);
    assert.deepEqual(
      json.table.rows.map((r) => r.model),
      ['DeepLabv3', 'Swin-Unet', 'MISSFormer'],
    );
    // 4 figures (2 box plots, the curve, 1 overlay), each as PNG and SVG
    assert.equal(json.figures.length, 4);
    for (const f of json.figures) for (const file of f.files) assert.ok(names.includes(file), file);

    // self-contained: no scripts, nothing loaded from elsewhere
    assert.ok(!/<script/i.test(html));
    assert.ok(!/(src|href)="(?!data:)[a-z]+:/i.test(html), 'no external src / href');
    assert.ok(html.includes('Phantom evaluation &lt;test&gt;'));
    assert.equal((html.match(/<svg /g) ?? []).length, 3, 'charts inline as SVG');
    assert.equal((html.match(/src="data:image\/png;base64,/g) ?? []).length, 1, 'overlay as data URI');

    // every Dice cell of the HTML table shows the number of report.json, rounded to 3 decimals
    const cells = new Map<string, string>();
    for (const m of html.matchAll(/<td data-model="([^"]*)" data-variant="([^"]*)" data-column="([^"]*)"[^>]*>(.*?)<\/td>/g)) {
      cells.set(`${m[1]}|${m[2]}|${m[3]}`, m[4]);
    }
    const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const htmlCell = (model: string, variant: string, column: string): string | undefined => {
      for (const [k, v] of cells) {
        const [m, va, c] = k.split('|').map(unescape);
        if (m === model && va === variant && c === column) return v;
      }
      return undefined;
    };
    let checked = 0;
    for (const row of json.table.rows) {
      row.cells.forEach((cell, vi) => {
        if (!cell) {
          // Swin-Unet and MISSFormer have no third variant: their cells show a dash
          assert.equal(htmlCell(row.model, json.table.variants[vi], 'average'), '–');
          return;
        }
        [...cell.perOrgan, cell.average].forEach((value, c) => {
          const column = c < ORGANS.length ? ORGANS[c] : 'average';
          const text = htmlCell(row.model, cell.variant, column);
          assert.ok(text !== undefined, `cell ${row.model}/${cell.variant}/${column}`);
          const bold = /^<strong>.*<\/strong>$/.test(text);
          const shown = Number(text.replace(/<\/?strong>/g, ''));
          assert.ok(value !== null && Math.abs(shown - value) <= 0.0005 + 1e-12, `${row.model}/${cell.variant}/${column}: ${shown} vs ${value}`);
          assert.equal(bold, row.best[c].includes(vi), `bold ${row.model}/${cell.variant}/${column}`);
          checked++;
        });
        if (cell.variant !== 'none') {
          const p = htmlCell(row.model, cell.variant, 'p');
          assert.ok(cell.test);
          assert.ok(p !== undefined);
          assert.equal(unescape(p).replace('*', ''), formatP(cell.test.pValue));
          assert.equal(p?.endsWith('*'), cell.test.pValue < 0.05);
        }
      });
    }
    assert.equal(checked, (3 + 2 + 2) * (ORGANS.length + 1));

    // the table's p-values are the paired Wilcoxon tests on per-subject means; the full-data
    // run (no trainingSubjects) is used, not the low-data ones
    const base = RESULTS[0];
    const dist = RESULTS[1];
    const direct = compareResults(dist, base);
    const row0 = json.table.rows[0].cells[1];
    assert.ok(direct && row0?.test);
    assert.equal(row0.test.pValue, direct.pValue);
    assert.equal(row0.test.pairs, 14);
    assert.equal(row0.test.method, 'exact');
    assert.deepEqual(buildTable(RESULTS).rows[0].cells[1]?.average, row0.average);

    // table.csv carries the same numbers at full precision
    const csvLines = (await readFile(path.join(dir, 'table.csv'), 'utf8')).trim().split('\n');
    assert.equal(csvLines[0], `model,variant,${ORGANS.join(',')},average,subjects,p_vs_baseline,test_method,pairs,seeds,average_sd`);
    assert.equal(csvLines.length, 1 + 7);
    const second = csvLines[2].split(',');
    assert.equal(second[0], 'DeepLabv3');
    assert.equal(second[1], 'UNesT');
    assert.equal(Number(second[2]), json.table.rows[0].cells[1]?.perOrgan[0]);
    assert.equal(Number(second[9]), 14);
    assert.equal(Number(second[10]), row0.test.pValue);
    assert.deepEqual(second.slice(13), ['1', ''], 'one seed: no sd across seeds');
    assert.ok(
      csvLines.some((l) => l.startsWith('DeepLabv3,UNesT <pv> & nc,')),
      'no comma or quote: written as is',
    );
    const perSubject = (await readFile(path.join(dir, 'dice_per_subject.csv'), 'utf8')).trim().split('\n');
    assert.equal(perSubject.length, 1 + RESULTS.length * 14);

    // every PNG is valid and has the size its figure implies
    for (const f of json.figures) {
      const png = new Uint8Array(await readFile(path.join(dir, `${f.id}.png`)));
      const { width, height } = checkPng(png);
      const svg = await readFile(path.join(dir, `${f.id}.svg`), 'utf8');
      const m = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg);
      assert.ok(m, `${f.id}.svg has a size`);
      const k = f.kind === 'overlay' ? 1 : 2;
      assert.equal(width, Number(m[1]) * k, `${f.id} width`);
      assert.equal(height, Number(m[2]) * k, `${f.id} height`);
    }
    const overlay = json.figures.find((f) => f.kind === 'overlay');
    assert.ok(overlay);
    const decoded = decodePng(new Uint8Array(await readFile(path.join(dir, `${overlay.id}.png`))));
    assert.ok(decoded.width >= 3 * size * 4, 'three upscaled panels side by side');
  });

  it('renderReport accepts a prebuilt table and reports missing tests as n/a', () => {
    const table = buildTable([RESULTS[0], { ...RESULTS[1], perSubject: RESULTS[1].perSubject.map((s) => ({ ...s, subject: `other-${s.subject}` })) }]);
    assert.equal(table.rows[0].cells[1]?.test, null, 'no shared subjects: no test');
    const html = renderReport({ title: 'T', table, generatedAt: 'x' });
    assert.match(html, /data-column="p"[^>]*>n\/a<\/td>/);
    // figures may also be given bare, without the { id, caption, data } wrapper
    const bare = renderReport({ title: 'T', table, boxPlots: [boxPlotFromResults(RESULTS.slice(0, 2), 'DeepLabv3')], lowData: lowDataFromResults(RESULTS) });
    assert.equal((bare.match(/<svg /g) ?? []).length, 2);
    assert.throws(() => buildTable([RESULTS[0], RESULTS[0]]), { name: 'RangeError', message: /appears twice/ });
    assert.throws(() => buildTable([]), { name: 'RangeError' });
  });
});
