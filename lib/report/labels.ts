// What the report calls each arm, the same in the HTML report, the console tables and the demo.
import { BASELINE, CONTROL_VARIANT } from '../eval/comparisons.js';

export interface ArmNames {
  baseline?: string;
  control?: string;
}

/** 'pretrained' for the baseline, 'control (L_seg only)' for the control, 'distilled (TEACHER)' else. */
export function armLabel(variant: string, names: ArmNames = {}): string {
  if (variant === (names.baseline ?? BASELINE)) return 'pretrained';
  if (variant === (names.control ?? CONTROL_VARIANT)) return 'control (L_seg only)';
  return `distilled (${variant})`;
}

/** The labels of the given variants, for ReportData.labels and chart legends. */
export function armLabels(variants: Iterable<string>, names: ArmNames = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of variants) out[v] = armLabel(v, names);
  return out;
}

/** "distilled (unest) vs control (L_seg only)". */
export function comparisonLabel(c: { variant: string; baseline: string }, names: ArmNames = {}): string {
  return `${armLabel(c.variant, names)} vs ${armLabel(c.baseline, names)}`;
}
