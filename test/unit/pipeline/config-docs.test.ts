// docs/config.md against the configuration's declaration (lib/pipeline/config.ts CONFIG):
// every key documented, no documented key unknown, and each literal default as declared.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { leavesOf } from '../../../lib/pipeline/config-fields.js';
import { CONFIG } from '../../../lib/pipeline/config.js';
import { REPO_ROOT } from '../../support/paths.js';

interface Row {
  keys: string[];
  defaults: string[];
  text: string;
}

/** Splits on commas outside brackets and braces. */
function topLevel(cell: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of cell) {
    if ('[{'.includes(c)) depth++;
    if (']}'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  return [...out, cur.trim()];
}

function rows(): Row[] {
  const md = readFileSync(path.join(REPO_ROOT, 'docs', 'config.md'), 'utf8');
  return md
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((line) => {
      const [keyCell, defaultCell, ...rest] = line.slice(1, -1).split(' | ');
      const names = [...keyCell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      const prefix = names[0].includes('.') ? names[0].slice(0, names[0].lastIndexOf('.') + 1) : '';
      return { keys: names.map((n, i) => (i === 0 ? n : prefix + n)), defaults: topLevel(defaultCell.trim()), text: rest.join(' | ') };
    });
}

/** A documented default as a value, or undefined where it is prose ("none", "per architecture"). */
function literal(cell: string): { value: unknown } | undefined {
  const s = cell.replace(/^`|`$/g, '');
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/.test(s)) return { value: Number(s) };
  if (s === 'true' || s === 'false') return { value: s === 'true' };
  if (!/^"[^"]*"$/.test(s) && !/^\[.*\]$/.test(s)) return undefined;
  try {
    return { value: JSON.parse(s) };
  } catch {
    return undefined; // e.g. [seed]
  }
}

describe('docs/config.md and the configuration declaration', () => {
  const documented = rows();
  const declared = leavesOf(CONFIG as never);

  const isDocumented = (key: string): boolean => documented.some((r) => r.keys.includes(key));

  it("documents every key: in its own row, in its section's row, or named in a sibling row", () => {
    const undocumented = declared
      .map((d) => d.key)
      .filter((key) => {
        const sections = key.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'));
        if (sections.some(isDocumented)) return false;
        const parent = key.slice(0, key.lastIndexOf('.') + 1);
        const name = key.slice(parent.length);
        return !(parent && documented.some((r) => r.keys.some((k) => k.startsWith(parent)) && r.text.includes(`\`${name}\``)));
      });
    assert.deepEqual(undocumented, []);
  });

  it('documents no key the declaration lacks (dataset and runDir are the file-only keys)', () => {
    const sections = declared.flatMap((d) => d.key.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.')));
    const known = new Set([...sections, 'dataset', 'runDir']);
    assert.deepEqual(
      documented.flatMap((r) => r.keys).filter((k) => !known.has(k)),
      [],
    );
  });

  it('gives each literal default as declared', () => {
    let compared = 0;
    for (const row of documented) {
      row.keys.forEach((key, i) => {
        const lit = row.defaults[i] === undefined ? undefined : literal(row.defaults[i]);
        const d = declared.find((x) => x.key === key);
        if (!lit || !d) return;
        assert.deepEqual(lit.value, d.default, `${key}: docs say ${row.defaults[i]}`);
        compared++;
      });
    }
    assert.ok(compared >= 30, `only ${compared} defaults compared`);
  });
});
