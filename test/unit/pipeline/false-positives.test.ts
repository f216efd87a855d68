// The false-positive tables: false-positives.csv rows, the totals appended to summary.csv and
// the report's HTML section, all from per-subject results with false positives.
import assert from 'node:assert/strict';
import type { EvaluationResult } from '../../../lib/eval/results.js';
import { falsePositivesCsv, withFalsePositiveTotals } from '../../../lib/pipeline/false-positives.js';
import { falsePositivesHtml } from '../../../lib/report/false-positives.js';
import { buildReport } from '../../../lib/report/html.js';
import { csv } from '../../../lib/util/csv.js';

const organs = ['spleen', 'liver'];
const none: EvaluationResult = {
  model: 'DeepLabv3',
  variant: 'none',
  organs,
  trainingSubjects: 10,
  perSubject: [
    {
      subject: 'a',
      dice: [0.5, 0.9],
      slices: 3,
      falsePositives: [
        { slices: 2, areaMm2: 12.5 },
        { slices: 0, areaMm2: 0 },
      ],
    },
    {
      subject: 'b',
      dice: [null, 0.8],
      slices: 1,
      falsePositives: [
        { slices: 1, areaMm2: 0.84 },
        { slices: 1, areaMm2: 3 },
      ],
    },
  ],
};
const unest: EvaluationResult = {
  ...none,
  variant: 'unest',
  perSubject: [
    {
      subject: 'a',
      dice: [0.6, 0.9],
      slices: 3,
      falsePositives: [
        { slices: 0, areaMm2: 0 },
        { slices: 0, areaMm2: 0 },
      ],
    },
  ],
};

describe('report: false positives per organ', () => {
  it('false-positives.csv: one row per subject and organ with any, in mm2', () => {
    assert.deepEqual(falsePositivesCsv([none, unest]).trim().split('\n'), [
      'model,variant,training_subjects,seed,subject,organ,slices,area_mm2',
      'DeepLabv3,none,10,,a,spleen,2,12.5',
      'DeepLabv3,none,10,,b,spleen,1,0.84',
      'DeepLabv3,none,10,,b,liver,1,3',
    ]);
    // repeated arms stay apart by seed
    assert.match(falsePositivesCsv([{ ...none, seed: 7 }]), /\nDeepLabv3,none,10,7,a,spleen,2,12\.5\n/);
  });

  it('summary.csv keeps its columns and gains the per-organ totals', () => {
    const summary = csv([
      ['model', 'variant', 'mean'],
      ['DeepLabv3', 'none', 0.7],
      ['DeepLabv3', 'unest', 0.75],
    ]);
    const rows = withFalsePositiveTotals(summary, [none, unest]).trim().split('\n');
    assert.deepEqual(rows, [
      'model,variant,mean,fp_slices_spleen,fp_slices_liver,fp_area_mm2_spleen,fp_area_mm2_liver',
      'DeepLabv3,none,0.7,3,1,13.34,3',
      'DeepLabv3,unest,0.75,0,0,0,0',
    ]);
    // a summary of another shape is left alone rather than misaligned
    assert.equal(withFalsePositiveTotals(summary, [none]), summary);
  });

  it('the HTML section: slices / mm2 per model, variant and organ; absent for results without false positives', () => {
    const html = falsePositivesHtml([none, unest], { label: (s) => (s === 'none' ? 'no distillation' : s) });
    const cell = (variant: string, organ: string): string | undefined =>
      new RegExp(`data-variant="${variant}" data-organ="${organ}"[^>]*>([^<]*)<`).exec(html)?.[1];
    assert.equal(cell('none', 'spleen'), '3 / 13.3');
    assert.equal(cell('none', 'liver'), '1 / 3.0');
    assert.equal(cell('unest', 'spleen'), '0 / 0.0');
    assert.match(falsePositivesHtml([{ ...none, seed: 7 }]), /<th>Seed<\/th>.*data-seed="7"/s);
    assert.match(html, /no distillation/);
    assert.equal(falsePositivesHtml([{ ...none, perSubject: [{ subject: 'a', dice: [0.5, 0.9] }] }]), '');
    // wired into the report page
    const page = buildReport({ title: 't', table: [none, unest], generatedAt: 'now' }).html;
    assert.match(page, /<h2 id="false-positives">False positives per organ<\/h2>/);
    assert.ok(page.includes('3 / 13.3'));
  });
});
