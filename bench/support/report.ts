// The run's output: one table per case on stdout, the targets, and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildInfo, getNumThreads } from '../../lib/index.js';
import type { Bench, Row } from './context.js';

const fmt = (v: number | string | null | undefined): string =>
  v === null || v === undefined ? '-' : typeof v === 'string' ? v : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
const pairs = (o: Record<string, number | string | null>): string =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');

function memoryCell(r: Row): string {
  const m = r.memory;
  let s = `${fmt(m.tsPeakRssMiB)}${m.pyPeakRssMiB === undefined ? '' : ` / ${fmt(m.pyPeakRssMiB)}`}`;
  if (m.tsGpuMiB !== undefined) s += ` | GPU ${fmt(m.tsGpuMiB)} / ${fmt(m.pyGpuMiB)} (py alloc ${fmt(m.pyCudaPeakAllocatedMiB)})`;
  return s;
}

export function printCase(title: string, rows: readonly Row[], seconds: number): void {
  const table = rows.map((r) => [r.name, r.unit, pairs(r.ts), pairs(r.py) || '-', pairs(r.ratios) || '-', pairs(r.metrics) || '-', memoryCell(r)]);
  const head = ['', 'unit', 'TS median', 'Python median', 'ratios', 'other', 'peak RSS MiB TS / Py'];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...table.map((row) => row[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  console.log(`\n== ${title} (${seconds.toFixed(0)} s)`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of table) console.log(line(row));
}

export function machine(bench: Bench) {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGiB: os.totalmem() / 2 ** 30,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    threads: getNumThreads(),
    versions: {
      node: process.version,
      torchAddon: buildInfo().torchVersion,
      addonCuda: buildInfo().cudaBuild,
      python: bench.pythonInfo?.python ?? null,
      torchPython: bench.pythonInfo?.torch ?? null,
    },
    device: bench.options.device,
    gpu: bench.pythonInfo?.gpu ?? null,
  };
}

export function writeResults(bench: Bench, extra: Record<string, unknown>): string {
  const { options } = bench;
  const name = `${options.cases.length ? options.cases.join('-') : 'all'}-${options.device.replace(':', '')}${options.quick ? '-quick' : ''}.json`;
  const file = options.out ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'results', name);
  const json = {
    bench: 'slice-distill',
    ...extra,
    options,
    machine: machine(bench),
    cases: Object.fromEntries(bench.rows),
    targets: bench.targets,
    notes: bench.notes,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
  return file;
}

export function printTargets(bench: Bench): void {
  if (bench.targets.length === 0) return;
  console.log('\n== targets (docs/design.md, Performance)');
  for (const t of bench.targets) console.log(`${t.met ? 'met   ' : 'MISSED'} ${t.case}: ${t.row}: ${t.metric} = ${fmt(t.value)} (goal ${t.goal})`);
}
