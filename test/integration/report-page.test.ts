// The report as a reader sees it: its per-model Dice tables and training curves hold the values
// of results.json and train-log.jsonl, and, in headless Chromium at 1280 px, the page renders,
// every table is fully visible and every figure has non-blank pixels (the screenshot is kept
// as .scratch/report-1280.png for a look).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summarizeArm } from '../../lib/eval/arm-summary.js';
import { decodePng } from '../../lib/util/png.js';
import type { ReportJson } from '../../lib/report/html.js';
import { makeReport, MODELS, VARIANTS, type ReportFixture } from '../support/report-fixture.js';
import { projectRoot } from '../support/python.js';

const CHROMIUM = '/usr/bin/chromium';

/** Debian's chromium, installed where missing and possible (root with apt-get); null otherwise. */
function chromium(): string | null {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'ignore', timeout: 300_000 });
  } catch {
    try {
      execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 120_000 });
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'ignore', timeout: 300_000 });
    } catch {
      return null;
    }
  }
  return existsSync(CHROMIUM) ? CHROMIUM : null;
}

describe('report page: tables, training curves and a screenshot', function () {
  let root: string;
  let fx: ReportFixture;
  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'sd-report-page-'));
    fx = await makeReport(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('one Dice table per model holds the mean ± sd across seeds of results.json, with n', () => {
    const html = readFileSync(fx.html, 'utf8');
    assert.equal((html.match(/<table class="dice"/g) ?? []).length, MODELS.length);
    for (const model of MODELS) {
      for (const variant of VARIANTS) {
        const arm = summarizeArm(fx.evaluation.results.filter((r) => r.model === model && r.variant === variant));
        [...arm.perOrgan, arm.average].forEach((v, c) => {
          const column = c < arm.perOrgan.length ? fx.evaluation.organs[c]! : 'average';
          const m = new RegExp(`data-model="${model}" data-variant="${variant}" data-column="${column}"[^>]*>(?:<strong>)?([^<]*)<`).exec(html);
          const sd = c < arm.perOrgan.length ? arm.perOrganSd[c] : arm.averageSd;
          assert.equal(m?.[1], `${v!.toFixed(3)} ± ${sd!.toFixed(3)}`, `${model} ${variant} ${column}`);
        });
        assert.match(html, new RegExp(`data-model="${model}" data-variant="${variant}" data-column="n">8<`));
      }
    }
    assert.match(html, /<h2 id="boundary">/);
    assert.match(html, /<h2 id="comparisons"|class="comparisons"/);
  });

  it('training curves: one per arm shown, with the loss terms and validation Dice of its train-log.jsonl', () => {
    const json = JSON.parse(readFileSync(path.join(fx.dir, 'report.json'), 'utf8')) as ReportJson;
    const shown = fx.evaluation.models.filter((m) => m.seed === 0);
    assert.equal(json.trainingCurves.length, shown.length);
    for (const m of shown) {
      const log = fx.logs.get(m.checkpoint)!;
      const chart = json.trainingCurves.find(
        (c) =>
          c.title.startsWith(`${m.model}: `) &&
          (m.variant === 'unest' ? c.title.includes('unest') : !c.title.includes('unest')) &&
          c.title.includes(m.variant === 'none' ? 'pretrained' : m.variant === 'continued' ? 'control' : 'distilled'),
      )!;
      assert.ok(chart, `${m.model} ${m.variant}`);
      const series = Object.fromEntries(chart.series.map((s) => [s.name, s.points]));
      assert.deepEqual(
        series['validation Dice'],
        log.map((e) => ({ x: (e.epoch as number) + 1, y: e.valDice })),
      );
      assert.deepEqual(
        series.loss,
        log.map((e) => ({ x: (e.epoch as number) + 1, y: e.loss })),
      );
      if (m.variant === 'unest')
        for (const [name, key] of [
          ['L_seg', 'seg'],
          ['L_DIST', 'dist'],
          ['L_inter', 'distInter'],
          ['L_intra', 'distIntra'],
        ])
          assert.deepEqual(
            series[name!]!.map((p) => p.y),
            log.map((e) => e[key!]),
          );
      else assert.deepEqual(Object.keys(series).sort(), ['loss', 'validation Dice']);
    }
    const html = readFileSync(fx.html, 'utf8');
    assert.equal((html.match(/<figure id="training-/g) ?? []).length, shown.length);
  });

  it('box plots print n under each box', () => {
    const svg = readFileSync(path.join(fx.dir, 'boxplot-deeplabv3.svg'), 'utf8');
    // spleen: s0 has no value, so n = 7; the other organs 8
    assert.ok((svg.match(/>7</g) ?? []).length >= VARIANTS.length);
    assert.ok((svg.match(/>8</g) ?? []).length >= VARIANTS.length * 5);
  });

  it('renders in headless Chromium at 1280 px: tables fully visible, every figure non-blank', async function () {
    this.timeout(120_000);
    const exe = chromium();
    if (!exe) {
      console.log('    (skipped: no /usr/bin/chromium and it could not be installed with apt-get)');
      return this.skip();
    }
    let pw: typeof import('playwright-core');
    try {
      pw = await import('playwright-core');
    } catch {
      console.log('    (skipped: playwright-core is not installed)');
      return this.skip();
    }
    const profile = mkdtempSync(path.join(os.tmpdir(), 'sd-chromium-'));
    // a fresh profile per run (launchPersistentContext is Playwright's way to pass --user-data-dir)
    const browser = await pw.chromium.launchPersistentContext(profile, {
      executablePath: exe,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${fx.html}`);
      assert.match(await page.title(), /distillation/);
      const tables = await page.$$eval('table', (ts) =>
        ts.map((t) => {
          const r = t.getBoundingClientRect();
          const box = t.parentElement!;
          return { cls: t.className, left: r.left, right: r.right, scrolls: box.scrollWidth > box.clientWidth + 1 };
        }),
      );
      assert.ok(tables.length >= MODELS.length + 2);
      for (const t of tables) {
        assert.ok(t.left >= 0 && t.right <= 1280, `table.${t.cls} spans ${t.left}..${t.right} px`);
        assert.equal(t.scrolls, false, `table.${t.cls} needs scrolling at 1280 px`);
      }
      const figures = await page.$$('figure');
      assert.ok(figures.length >= MODELS.length + MODELS.length * VARIANTS.length, `${figures.length} figures`);
      for (const f of figures) {
        const shot = decodePng(new Uint8Array(await f.screenshot()));
        let ink = 0;
        for (let i = 0; i < shot.width * shot.height; i++) {
          const [r, g, b] = [shot.pixels[i * shot.channels]!, shot.pixels[i * shot.channels + 1]!, shot.pixels[i * shot.channels + 2]!];
          if (r < 230 || g < 230 || b < 230) ink++;
        }
        assert.ok(ink > 0.005 * shot.width * shot.height, `figure ${await f.getAttribute('id')}: ${ink} non-blank pixels of ${shot.width * shot.height}`);
      }
      const scratch = path.join(projectRoot, '.scratch');
      mkdirSync(scratch, { recursive: true });
      writeFileSync(path.join(scratch, 'report-1280.png'), await page.screenshot({ fullPage: true }));
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
