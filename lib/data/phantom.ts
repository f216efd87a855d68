// The built-in phantom: synthetic abdominal CT from a seed (docs/phantom.md).
//
// Each subject is a set of random anatomical parameters (body size, fat, organ sizes,
// positions, shape harmonics, HU per phase, noise). Every image, 3D or 2D, is made slice by
// slice by one axial rasteriser evaluated at a height z in the subject's body frame:
// millimetres, x toward the patient's right, y anterior, z superior, z = 0 at the T12/L1
// disc. Organ cross-sections are ellipses (with a few Fourier harmonics) whose centre and
// semi-axes are interpolated between knots along z; the knot values follow the facts in
// docs/design.md (case A's mid-kidney centroids and areas, organ z-ranges, median HU per phase).
// Volumes are written in RAS voxel order; single slices as 2D NIfTI, at varied levels.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Affine } from './geometry.js';
import { CLASS_ID } from './labels.js';
import * as nifti from './nifti.js';
import { Rng, hashSeed } from './random.js';

export type Phase = 'non-contrast' | 'portal-venous';
export const PHASES: readonly Phase[] = ['non-contrast', 'portal-venous'];

export interface PhantomOptions {
  /** Output folder (created); dataset.json and the images go there. */
  out: string;
  /** 3D volumes (default 8), one subject each, phases alternating (non-contrast first). */
  volumes?: number;
  /** 2D single slices (default 40), one subject each, none shared with the volumes. */
  slices?: number;
  seed?: number;
  /** Volume size [X, Y, Z] (default [64, 64, 48]). */
  volumeShape?: [number, number, number];
  /** Slice spacing of the volumes in mm (default 6); in-plane spacing follows the body size. */
  volumeZSpacing?: number;
  /** Single-slice size (default 128 x 128). */
  sliceSize?: number;
  /** Range of slice heights in mm relative to the T12/L1 disc (default [-100, 70]: about L4 to T10). */
  sliceLevels?: [number, number];
  /** Phase of the single slices (default 'non-contrast'; 'mixed' alternates). */
  slicePhase?: Phase | 'mixed';
}

export interface PhantomResult {
  /** Absolute path of the dataset.json written. */
  datasetFile: string;
  volumes: { subject: string; phase: Phase; image: string; label: string; shape: number[]; spacing: number[] }[];
  slices: { subject: string; level: string; z: number; image: string; label: string }[];
}

// ---------------------------------------------------------------------------------------------
// Subjects

/** Median HU per tissue and phase (organs from docs/design.md; the rest typical values). */
const HU: Record<string, Record<Phase, number>> = {
  spleen: { 'non-contrast': 35, 'portal-venous': 80 },
  kidneyR: { 'non-contrast': 12, 'portal-venous': 160 },
  kidneyL: { 'non-contrast': 17, 'portal-venous': 160 },
  liver: { 'non-contrast': 46, 'portal-venous': 93 },
  stomachWall: { 'non-contrast': 40, 'portal-venous': 90 },
  stomachContent: { 'non-contrast': 30, 'portal-venous': 30 },
  aorta: { 'non-contrast': 41, 'portal-venous': 151 },
  ivc: { 'non-contrast': 38, 'portal-venous': 120 },
  heart: { 'non-contrast': 40, 'portal-venous': 130 },
  muscle: { 'non-contrast': 45, 'portal-venous': 60 },
  bowel: { 'non-contrast': 30, 'portal-venous': 70 },
};

/** One organ: a label, knots along z (body frame, reference body) and random shape terms. */
interface OrganKnot {
  z: number;
  cx: number;
  cy: number;
  ax: number;
  ay: number;
  rot: number; // degrees, the ax axis from +x toward +y
}

interface Organ {
  name: string;
  label: number;
  knots: OrganKnot[];
  /** Harmonic amplitudes and phases of the radius (k = 2, 3). */
  harm: [number, number, number, number];
}

/** Reference anatomy for a body of half-width 181 mm and half-depth 142 mm (case A). */
function referenceOrgans(): Omit<Organ, 'harm'>[] {
  const ellipsoid = (z0: number, z1: number, cx: number, cy: number, ax: number, ay: number, rot: number, steps = 8): OrganKnot[] => {
    // an ellipsoid-like profile between z0 and z1, sampled at knots
    const out: OrganKnot[] = [];
    for (let i = 0; i <= steps; i++) {
      const z = z0 + ((z1 - z0) * i) / steps;
      const t = (2 * (z - z0)) / (z1 - z0) - 1;
      const s = Math.sqrt(Math.max(0, 1 - t * t));
      out.push({ z, cx, cy, ax: ax * s, ay: ay * s, rot });
    }
    return out;
  };
  return [
    // the liver: a large right lobe and a thinner left lobe in front of the stomach
    {
      name: 'liver',
      label: CLASS_ID.liver,
      knots: [
        { z: -80, cx: 108, cy: 14, ax: 8, ay: 6, rot: 30 },
        { z: -60, cx: 102, cy: 18, ax: 35, ay: 22, rot: 30 },
        { z: -20, cx: 89, cy: 26, ax: 63, ay: 34, rot: 25 },
        { z: 20, cx: 84, cy: 16, ax: 70, ay: 56, rot: 20 },
        { z: 60, cx: 80, cy: 10, ax: 72, ay: 70, rot: 5 },
        { z: 100, cx: 72, cy: 6, ax: 74, ay: 70, rot: 0 },
        { z: 140, cx: 62, cy: 0, ax: 62, ay: 55, rot: 0 },
        { z: 168, cx: 55, cy: -4, ax: 20, ay: 16, rot: 0 },
      ],
    },
    {
      name: 'liver',
      label: CLASS_ID.liver,
      knots: [
        { z: 0, cx: 0, cy: 78, ax: 10, ay: 6, rot: -15 },
        { z: 30, cx: -10, cy: 74, ax: 48, ay: 18, rot: -15 },
        { z: 70, cx: -20, cy: 68, ax: 60, ay: 24, rot: -12 },
        { z: 110, cx: -18, cy: 58, ax: 50, ay: 26, rot: -5 },
        { z: 140, cx: -10, cy: 48, ax: 20, ay: 14, rot: 0 },
      ],
    },
    // the inferior vena cava (no class): beside the aorta, into the liver
    {
      name: 'ivc',
      label: CLASS_ID.background,
      knots: [
        { z: -118, cx: 20, cy: 8, ax: 11, ay: 8, rot: 0 },
        { z: 60, cx: 24, cy: 10, ax: 13, ay: 10, rot: 0 },
        { z: 120, cx: 20, cy: 8, ax: 13, ay: 10, rot: 0 },
      ],
    },
    // kidneys: long axis mostly antero-posterior, the hilum facing anteromedially
    { name: 'kidneyR', label: CLASS_ID.kidneyR, knots: ellipsoid(-95, 20, 69, -32, 34, 25, -65) },
    { name: 'kidneyL', label: CLASS_ID.kidneyL, knots: ellipsoid(-75, 40, -74, -35, 31, 21, 65) },
    {
      name: 'spleen',
      label: CLASS_ID.spleen,
      knots: ellipsoid(-50, 80, -121, -23, 42, 23, 105).map((k) => ({ ...k, cx: k.cx - 0.15 * (k.z + 20), cy: k.cy - 0.25 * (k.z + 20) })),
    },
    {
      name: 'stomach',
      label: CLASS_ID.stomach,
      knots: [
        { z: -45, cx: 5, cy: 86, ax: 6, ay: 4, rot: 10 },
        { z: -35, cx: 2, cy: 84, ax: 18, ay: 11, rot: 10 },
        { z: -20, cx: -7, cy: 81, ax: 27, ay: 16.5, rot: 10 },
        { z: 0, cx: -30, cy: 70, ax: 40, ay: 25, rot: 30 },
        { z: 40, cx: -60, cy: 42, ax: 45, ay: 34, rot: 45 },
        { z: 85, cx: -72, cy: 12, ax: 36, ay: 30, rot: 45 },
        { z: 110, cx: -74, cy: 2, ax: 14, ay: 12, rot: 45 },
      ],
    },
    {
      name: 'aorta',
      label: CLASS_ID.aorta,
      knots: [
        { z: -118, cx: -10, cy: 9, ax: 8.5, ay: 8.5, rot: 0 },
        { z: -20, cx: -12, cy: 7, ax: 9.6, ay: 9.6, rot: 0 },
        { z: 60, cx: -14, cy: 2, ax: 10.5, ay: 10.5, rot: 0 },
        { z: 200, cx: -22, cy: -6, ax: 12, ay: 12, rot: 0 },
      ],
    },
  ];
}

interface Blob {
  x: number;
  y: number;
  z: number;
  rx: number;
  ry: number;
  rz: number;
  gas: boolean;
}

export interface Subject {
  id: string;
  /** Body half-width and half-depth (mm). */
  A: number;
  B: number;
  fat: number;
  wall: number;
  /** Shifts of the anatomy along z (mm) and of the diaphragm. */
  zShift: number;
  diaphragm: number;
  organs: Organ[];
  /** Per-tissue HU offsets of this subject. */
  huShift: Record<string, number>;
  noise: number;
  bowel: Blob[];
  gastricGas: boolean;
}

/** Random anatomical parameters of one subject. */
export function makeSubject(seed: number, id: string): Subject {
  const rng = new Rng(seed);
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  const A = clamp(rng.normal(181, 15), 145, 215);
  const B = clamp(rng.normal(142, 13), 112, 172);
  const sx = A / 181;
  const sy = B / 142;
  const organs: Organ[] = referenceOrgans().map((o) => {
    const scale = clamp(rng.normal(1, 0.07), 0.85, 1.15);
    const dx = rng.normal(0, 4);
    const dy = rng.normal(0, 4);
    const dz = rng.normal(0, 6);
    const drot = rng.normal(0, 6);
    const sizeScale = scale * Math.sqrt(Math.sqrt(sx * sy));
    const zScale = o.name === 'aorta' || o.name === 'ivc' ? 1 : clamp(rng.normal(1, 0.06), 0.88, 1.12);
    const zMid = (o.knots[0].z + o.knots[o.knots.length - 1].z) / 2;
    return {
      ...o,
      knots: o.knots.map((k) => ({
        z: o.name === 'aorta' || o.name === 'ivc' ? k.z : zMid + (k.z - zMid) * zScale + dz,
        cx: k.cx * sx + dx,
        cy: k.cy * sy + dy,
        ax: k.ax * sizeScale,
        ay: k.ay * sizeScale,
        rot: k.rot + drot,
      })),
      harm:
        o.name === 'aorta' || o.name === 'ivc'
          ? [0, 0, 0, 0]
          : [rng.uniform(0, 0.08), rng.uniform(0, 2 * Math.PI), rng.uniform(0, 0.05), rng.uniform(0, 2 * Math.PI)],
    };
  });
  const huShift: Record<string, number> = {};
  for (const k of Object.keys(HU)) huShift[k] = rng.normal(0, 5);
  huShift.fat = rng.normal(0, 6);
  huShift.bone = rng.normal(0, 40);
  const bowel: Blob[] = [];
  const nBowel = rng.intBetween(18, 30);
  for (let i = 0; i < nBowel; i++) {
    bowel.push({
      x: rng.uniform(-0.75, 0.75) * A,
      y: rng.uniform(-0.1, 0.75) * B,
      z: rng.uniform(-190, 15),
      rx: rng.uniform(10, 22),
      ry: rng.uniform(9, 18),
      rz: rng.uniform(15, 40),
      gas: rng.chance(0.3),
    });
  }
  return {
    id,
    A,
    B,
    fat: clamp(rng.normal(20, 7), 7, 40),
    wall: clamp(rng.normal(11, 2), 7, 15),
    zShift: rng.normal(0, 8),
    diaphragm: rng.normal(0, 10),
    organs,
    huShift,
    noise: rng.uniform(8, 14),
    bowel,
    gastricGas: rng.chance(0.5),
  };
}

/** The vertebral level at a body-frame height: T12/L1 disc at 0, a vertebra + disc every 32 mm. */
export function levelName(z: number): string {
  const k = Math.floor(-z / 32); // 0 = L1, 1 = L2, ..., -1 = T12
  if (k >= 0 && k <= 4) return `L${k + 1}`;
  if (k > 4) return `S${k - 4}`;
  return `T${12 + k + 1}`;
}

// ---------------------------------------------------------------------------------------------
// Rasterising one axial slice

interface Section {
  label: number;
  name: string;
  cx: number;
  cy: number;
  ax: number;
  ay: number;
  cos: number;
  sin: number;
  harm: [number, number, number, number];
  /** Fraction of the organ's z extent from its bottom (0) to its top (1) at this height. */
  t: number;
}

function sectionAt(o: Organ, z: number): Section | null {
  const k = o.knots;
  if (z < k[0].z || z > k[k.length - 1].z) return null;
  let i = 0;
  while (i < k.length - 2 && z > k[i + 1].z) i++;
  const a = k[i];
  const b = k[i + 1];
  const f = b.z === a.z ? 0 : (z - a.z) / (b.z - a.z);
  const lerp = (p: number, q: number): number => p + (q - p) * f;
  const ax = lerp(a.ax, b.ax);
  const ay = lerp(a.ay, b.ay);
  if (ax < 0.5 || ay < 0.5) return null;
  const rot = (lerp(a.rot, b.rot) * Math.PI) / 180;
  return {
    label: o.label,
    name: o.name,
    cx: lerp(a.cx, b.cx),
    cy: lerp(a.cy, b.cy),
    ax,
    ay,
    cos: Math.cos(rot),
    sin: Math.sin(rot),
    harm: o.harm,
    t: (z - k[0].z) / (k[k.length - 1].z - k[0].z),
  };
}

/** Normalised radius of a point in a section (< 1 inside), the shape harmonics applied. */
function sectionRadius(s: Section, x: number, y: number): number {
  const dx = x - s.cx;
  const dy = y - s.cy;
  const u = (dx * s.cos + dy * s.sin) / s.ax;
  const v = (-dx * s.sin + dy * s.cos) / s.ay;
  const r = Math.sqrt(u * u + v * v);
  if (r > 1.25) return r;
  const psi = Math.atan2(v, u);
  const bound = 1 + s.harm[0] * Math.cos(2 * psi + s.harm[1]) + s.harm[2] * Math.cos(3 * psi + s.harm[3]);
  return r / bound;
}

/** Along-axis coordinate of a point in a section, in units of ax (for hilum / gas placement). */
function sectionUV(s: Section, x: number, y: number): [number, number] {
  const dx = x - s.cx;
  const dy = y - s.cy;
  return [(dx * s.cos + dy * s.sin) / s.ax, (-dx * s.sin + dy * s.cos) / s.ay];
}

const SUPER = 2.4; // the body outline is a superellipse |x/A|^p + |y/B|^p = 1

function superellipse(x: number, y: number, a: number, b: number): number {
  return Math.pow(Math.abs(x) / a, SUPER) + Math.pow(Math.abs(y) / b, SUPER);
}

/** Everything about one axial level of a subject that does not depend on (x, y). */
interface Level {
  z: number;
  phase: Phase;
  s: Subject;
  sections: Section[];
  kidneySections: Section[];
  blobs: { x: number; y: number; rx: number; ry: number; gas: boolean }[];
  ribs: { x: number; y: number; r: number }[];
  disc: boolean;
  spineY: number;
  psoas: number;
}

function levelAt(s: Subject, zBody: number, phase: Phase): Level {
  const z = zBody - s.zShift; // the anatomy is shifted, the slice height is not
  const sections: Section[] = [];
  for (const o of s.organs) {
    const sec = sectionAt(o, z);
    if (sec) sections.push(sec);
  }
  // drawing priority: aorta, IVC, kidneys, spleen, stomach, liver (earlier wins)
  const order = ['aorta', 'ivc', 'kidneyR', 'kidneyL', 'spleen', 'stomach', 'liver'];
  sections.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  const blobs = s.bowel
    .filter((b) => Math.abs(z - b.z) < b.rz)
    .map((b) => {
      const f = Math.sqrt(1 - ((z - b.z) / b.rz) ** 2);
      return { x: b.x, y: b.y, rx: b.rx * f, ry: b.ry * f, gas: b.gas };
    });
  // rib cross-sections: from about L1 upward, covering more of the circumference higher up
  const ribs: { x: number; y: number; r: number }[] = [];
  if (z > -45) {
    const extent = Math.min(165, 70 + (z + 45) * 0.6); // degrees either side of posterior
    const phaseShift = (((z % 26) + 26) % 26) / 26;
    const ra = s.A - s.fat - s.wall * 0.5;
    const rb = s.B - s.fat - s.wall * 0.5;
    for (let side = -1; side <= 1; side += 2) {
      for (let deg = 28 + phaseShift * 22; deg < extent; deg += 22) {
        const ang = ((-90 + side * deg) * Math.PI) / 180;
        // a point on the superellipse in that direction
        const c = Math.cos(ang);
        const sn = Math.sin(ang);
        const t = 1 / Math.pow(Math.pow(Math.abs(c) / ra, SUPER) + Math.pow(Math.abs(sn) / rb, SUPER), 1 / SUPER);
        ribs.push({ x: c * t, y: sn * t, r: 5 });
      }
    }
  }
  const rel = ((-z % 32) + 32) % 32; // distance below the last disc
  return {
    z,
    phase,
    s,
    sections,
    kidneySections: sections.filter((x) => x.name === 'kidneyR' || x.name === 'kidneyL'),
    blobs,
    ribs,
    disc: rel < 7,
    spineY: -0.17 * s.B,
    psoas: z < -10 ? Math.min(22, 5 + (-10 - z) * 0.14) : 0,
  };
}

/** Height of the diaphragm above (x, y): domes on both sides, lower at the back. */
function diaphragmZ(s: Subject, x: number, y: number): number {
  return 158 + s.diaphragm + (x > 0 ? 10 : 0) - 0.006 * (Math.abs(x) - 60) ** 2 - 1.0 * Math.max(0, -y - 10);
}

/** HU (before blur and noise) and class at one point of a level. */
function classify(L: Level, x: number, y: number, out: { hu: number; label: number }): void {
  const s = L.s;
  const ph = L.phase;
  const hu = (tissue: string): number => HU[tissue][ph] + (s.huShift[tissue] ?? 0);
  out.label = CLASS_ID.background;
  if (superellipse(x, y, s.A, s.B) > 1) {
    out.hu = -1000;
    return;
  }
  const fatHU = -102 + s.huShift.fat;
  const inner1 = superellipse(x, y, s.A - s.fat, s.B - s.fat);
  if (inner1 > 1) {
    out.hu = fatHU;
    return;
  }
  // ribs sit in the muscle wall
  for (const r of L.ribs) {
    const dx = x - r.x;
    const dy = y - r.y;
    if (dx * dx + dy * dy < r.r * r.r) {
      out.hu = 450 + s.huShift.bone;
      return;
    }
  }
  if (superellipse(x, y, s.A - s.fat - s.wall, s.B - s.fat - s.wall) > 1) {
    out.hu = hu('muscle');
    return;
  }
  // spine: vertebral body (or disc), canal, posterior arch and spinous process
  const vy = L.spineY;
  const vr = 17 * Math.sqrt(s.A / 181);
  {
    const dx = x;
    const dy = y - vy;
    const d2 = dx * dx + dy * dy;
    if (d2 < vr * vr) {
      if (L.disc) out.hu = 85;
      else out.hu = d2 > (vr - 2.5) ** 2 ? 650 + s.huShift.bone : 210 + s.huShift.bone * 0.5;
      return;
    }
    const cy = vy - vr - 8;
    const c2 = x * x + (y - cy) ** 2;
    if (c2 < 8 * 8) {
      out.hu = 15; // spinal canal
      return;
    }
    if (c2 < 13 * 13 && y < vy - vr + 2) {
      out.hu = 550 + s.huShift.bone; // arch
      return;
    }
    if (Math.abs(x) < 4 && y < cy - 8 && y > cy - 32) {
      out.hu = 550 + s.huShift.bone; // spinous process
      return;
    }
    // the back muscles (erector spinae, multifidus): a half-ellipse from the back wall up
    // to the vertebral body, narrowing toward it
    const back = -(s.B - s.fat - s.wall);
    const ry = vy - back + 4;
    const ex = x / (vr + 48);
    const ey = (y - back) / ry;
    if (y < vy + 4 && ex * ex + ey * ey < 1) {
      out.hu = hu('muscle');
      return;
    }
    if (L.psoas > 0) {
      for (const side of [-1, 1]) {
        const ex = (x - side * (vr + L.psoas * 0.8)) / L.psoas;
        const ey = (y - vy) / (L.psoas * 0.9);
        if (ex * ex + ey * ey < 1) {
          out.hu = hu('muscle');
          return;
        }
      }
    }
  }
  const nearSpine = x * x + (y - vy) ** 2 < (vr + 9) ** 2;
  const dz = diaphragmZ(s, x, y);
  const aboveDiaphragm = L.z > dz;
  // organs, by priority
  for (const sec of L.sections) {
    if (sec.name !== 'aorta' && sec.name !== 'ivc' && (aboveDiaphragm || nearSpine)) continue;
    const r = sectionRadius(sec, x, y);
    if (r >= 1) continue;
    switch (sec.name) {
      case 'ivc':
        out.hu = hu('ivc');
        return;
      case 'aorta':
        out.label = CLASS_ID.aorta;
        out.hu = r > 0.85 && ph === 'non-contrast' ? 55 : hu('aorta');
        return;
      case 'kidneyR':
      case 'kidneyL': {
        // renal sinus fat at the hilum (the anteromedial end), in the middle third
        const [u, v] = sectionUV(sec, x, y);
        // the hilum direction (medial and anterior) in the section's normalised frame
        const hx = sec.name === 'kidneyR' ? -0.8 : 0.8;
        const hy = 0.6;
        let du = (hx * sec.cos + hy * sec.sin) / sec.ax;
        let dv = (-hx * sec.sin + hy * sec.cos) / sec.ay;
        const dn = Math.hypot(du, dv);
        du /= dn;
        dv /= dn;
        if (sec.t > 0.25 && sec.t < 0.78 && u * du + v * dv > 0.5 && r > 0.3) {
          out.hu = -70;
          return;
        }
        out.label = sec.label;
        if (ph === 'portal-venous') out.hu = (r > 0.72 ? 185 : 125) + (s.huShift[sec.name] ?? 0);
        else out.hu = hu(sec.name);
        return;
      }
      case 'spleen':
        out.label = CLASS_ID.spleen;
        out.hu = hu('spleen');
        return;
      case 'stomach': {
        out.label = CLASS_ID.stomach;
        const [, v] = sectionUV(sec, x, y);
        if (r > 0.82) out.hu = hu('stomachWall');
        else if (s.gastricGas && y > sec.cy + 0.7 * sec.ay && v > -2) out.hu = -850;
        else out.hu = hu('stomachContent') + (ph === 'portal-venous' ? 10 * Math.sin(x * 0.2) : 0);
        return;
      }
      case 'liver':
        out.label = CLASS_ID.liver;
        out.hu = hu('liver');
        return;
    }
  }
  if (aboveDiaphragm) {
    // heart at the front, lungs elsewhere
    const ex = (x + 20) / 62;
    const ey = (y - 35) / 55;
    if (L.z > 140 + s.diaphragm && ex * ex + ey * ey < 1) {
      out.hu = hu('heart');
      return;
    }
    out.hu = -860;
    return;
  }
  for (const b of L.blobs) {
    const ex = (x - b.x) / b.rx;
    const ey = (y - b.y) / b.ry;
    const e = ex * ex + ey * ey;
    if (e < 1) {
      out.hu = b.gas && e < 0.45 ? -900 : hu('bowel');
      return;
    }
  }
  out.hu = -92 + s.huShift.fat; // visceral fat
}

/** The grid of one axial image: nx x ny pixels of (dx, dy) mm, centred on the body centre plus an offset. */
interface Grid {
  nx: number;
  ny: number;
  dx: number;
  dy: number;
  /** Body-frame position of pixel (0, 0). */
  x0: number;
  y0: number;
}

/** Rasterises one axial slice: HU (blurred, noisy, rounded) and labels, x fastest. */
function renderLevel(L: Level, g: Grid, rng: Rng): { hu: Float32Array; label: Uint8Array } {
  const n = g.nx * g.ny;
  const clean = new Float32Array(n);
  const label = new Uint8Array(n);
  const out = { hu: 0, label: 0 };
  for (let j = 0; j < g.ny; j++) {
    const y = g.y0 + j * g.dy;
    for (let i = 0; i < g.nx; i++) {
      classify(L, g.x0 + i * g.dx, y, out);
      clean[j * g.nx + i] = out.hu;
      label[j * g.nx + i] = out.label;
    }
  }
  // partial volume: a light [1 6 1] / 8 blur along x and y, then correlated noise of the subject's std
  const blurred = blur(clean, g.nx, g.ny, 0.125);
  const noise = new Float32Array(n);
  for (let i = 0; i < n; i++) noise[i] = rng.normal();
  const smooth = blur(noise, g.nx, g.ny, 0.25);
  const gain = L.s.noise / 0.375; // std of [1 2 1]/4 (x) [1 2 1]/4 white noise is 0.375
  const hu = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = blurred[i] + (clean[i] > -990 ? smooth[i] * gain : smooth[i] * 3);
    hu[i] = Math.round(Math.max(-1024, Math.min(3071, v)));
  }
  return { hu, label };
}

/** Separable [w, 1 - 2w, w] blur along x and y (edges repeated). */
function blur(src: Float32Array, nx: number, ny: number, w: number): Float32Array {
  const c = 1 - 2 * w;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let j = 0; j < ny; j++) {
    const row = j * nx;
    for (let i = 0; i < nx; i++) {
      const l = src[row + Math.max(0, i - 1)];
      const r = src[row + Math.min(nx - 1, i + 1)];
      tmp[row + i] = w * l + c * src[row + i] + w * r;
    }
  }
  for (let j = 0; j < ny; j++) {
    const up = Math.max(0, j - 1) * nx;
    const dn = Math.min(ny - 1, j + 1) * nx;
    const row = j * nx;
    for (let i = 0; i < nx; i++) out[row + i] = w * tmp[up + i] + c * tmp[row + i] + w * tmp[dn + i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Images

export interface PhantomImagePair {
  image: nifti.NiftiImage;
  label: nifti.NiftiImage;
}

/**
 * A 3D volume of one subject in RAS order, int16 HU and uint8 labels. The in-plane spacing
 * fits the body in the field of view; z covers `shape[2] * zSpacing` mm below a top near the
 * liver dome.
 */
export function phantomVolume(subject: Subject, phase: Phase, seed: number, shape: [number, number, number] = [64, 64, 48], zSpacing = 6): PhantomImagePair {
  const rng = new Rng(seed);
  const [nx, ny, nz] = shape;
  const fov = 2 * Math.max(subject.A, subject.B * 1.15) * 1.08;
  const d = Math.round((fov / nx) * 100) / 100;
  const top = 150 + rng.normal(0, 8);
  const x0 = -((nx - 1) / 2) * d + rng.normal(0, 5);
  const y0 = -((ny - 1) / 2) * d + rng.normal(0, 5);
  const zStart = top - (nz - 1) * zSpacing;
  const hu = new Int16Array(nx * ny * nz);
  const label = new Uint8Array(nx * ny * nz);
  const grid: Grid = { nx, ny, dx: d, dy: d, x0, y0 };
  for (let k = 0; k < nz; k++) {
    const level = levelAt(subject, zStart + k * zSpacing, phase);
    const sl = renderLevel(level, grid, rng);
    hu.set(sl.hu, k * nx * ny);
    label.set(sl.label, k * nx * ny);
  }
  // world = body frame shifted by a table / scanner offset
  const origin = [x0 + 3.5, y0 - 160.25, zStart - 420];
  const affine: Affine = [
    [d, 0, 0, origin[0]],
    [0, d, 0, origin[1]],
    [0, 0, zSpacing, origin[2]],
    [0, 0, 0, 1],
  ];
  const spacing: [number, number, number] = [d, d, zSpacing];
  return {
    image: { data: hu, shape: [nx, ny, nz], spacing, affine },
    label: { data: label, shape: [nx, ny, nz], spacing, affine: affine.map((r) => [...r]) },
  };
}

/** A single axial slice of one subject at body-frame height z (mm from the T12/L1 disc). */
export function phantomSlice(subject: Subject, phase: Phase, z: number, seed: number, size = 128): PhantomImagePair {
  const rng = new Rng(seed);
  const fov = 2 * Math.max(subject.A, subject.B * 1.15) * rng.uniform(1.04, 1.2);
  const d = Math.round((fov / size) * 1000) / 1000;
  const x0 = -((size - 1) / 2) * d + rng.normal(0, 6);
  const y0 = -((size - 1) / 2) * d + rng.normal(0, 6);
  const level = levelAt(subject, z, phase);
  const sl = renderLevel(level, { nx: size, ny: size, dx: d, dy: d, x0, y0 }, rng);
  const affine: Affine = [
    [d, 0, 0, x0],
    [0, d, 0, y0 - 150],
    [0, 0, 5, z - 400],
    [0, 0, 0, 1],
  ];
  const spacing: [number, number, number] = [d, d, 5];
  return {
    image: { data: Int16Array.from(sl.hu), shape: [size, size, 1], spacing, affine },
    label: { data: sl.label, shape: [size, size, 1], spacing, affine: affine.map((r) => [...r]) },
  };
}

// ---------------------------------------------------------------------------------------------
// The dataset

/** Writes a phantom dataset folder: volumes/, slices/ and dataset.json. Deterministic in the seed. */
export async function generatePhantom(options: PhantomOptions): Promise<PhantomResult> {
  const nVolumes = options.volumes ?? 8;
  const nSlices = options.slices ?? 40;
  const seed = options.seed ?? 0;
  const shape = options.volumeShape ?? [64, 64, 48];
  const zSpacing = options.volumeZSpacing ?? 6;
  const sliceSize = options.sliceSize ?? 128;
  const [zLo, zHi] = options.sliceLevels ?? [-100, 70];
  const slicePhase = options.slicePhase ?? 'non-contrast';
  for (const [name, v] of [
    ['volumes', nVolumes],
    ['slices', nSlices],
    ['sliceSize', sliceSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name}: expected a non-negative integer, got ${v}`);
  }
  if (nVolumes + nSlices === 0) throw new RangeError('volumes, slices: at least one image is needed');
  if (!shape.every((v) => Number.isInteger(v) && v > 0)) throw new RangeError(`volumeShape: expected three positive integers, got [${shape.join(', ')}]`);
  const out = path.resolve(options.out);
  mkdirSync(path.join(out, 'volumes'), { recursive: true });
  mkdirSync(path.join(out, 'slices'), { recursive: true });
  const result: PhantomResult = { datasetFile: path.join(out, 'dataset.json'), volumes: [], slices: [] };
  const writes: Promise<void>[] = [];
  const put = (file: string, image: nifti.NiftiImage, descrip: string): void => {
    writes.push(nifti.write(file, image, { descrip, level: 6, ndim: image.shape[2] === 1 ? 2 : 3 }));
  };
  for (let v = 0; v < nVolumes; v++) {
    const id = `phantom-v${String(v).padStart(3, '0')}`;
    const phase: Phase = v % 2 === 0 ? 'non-contrast' : 'portal-venous';
    const subject = makeSubject(hashSeed(seed, 1, v), id);
    const pair = phantomVolume(subject, phase, hashSeed(seed, 2, v), shape, zSpacing);
    const tag = phase === 'non-contrast' ? 'nc' : 'pv';
    const image = `volumes/${id}_${tag}.nii.gz`;
    const label = `volumes/${id}_${tag}_seg.nii.gz`;
    put(path.join(out, image), pair.image, `slice-distill phantom CT ${phase}`);
    put(path.join(out, label), pair.label, 'slice-distill phantom labels');
    result.volumes.push({ subject: id, phase, image, label, shape: [...pair.image.shape], spacing: [...pair.image.spacing] });
  }
  const levelRng = new Rng(hashSeed(seed, 3));
  for (let i = 0; i < nSlices; i++) {
    const id = `phantom-s${String(i).padStart(3, '0')}`;
    const subject = makeSubject(hashSeed(seed, 4, i), id);
    // stratified heights so the levels cover the range evenly
    const z = zLo + ((i + levelRng.float()) / Math.max(1, nSlices)) * (zHi - zLo);
    const zr = Math.round(z * 10) / 10;
    const phase: Phase = slicePhase === 'mixed' ? PHASES[i % 2] : slicePhase;
    const pair = phantomSlice(subject, phase, zr, hashSeed(seed, 5, i), sliceSize);
    const image = `slices/${id}.nii.gz`;
    const label = `slices/${id}_seg.nii.gz`;
    put(path.join(out, image), pair.image, `slice-distill phantom CT ${phase} ${levelName(zr)}`);
    put(path.join(out, label), pair.label, 'slice-distill phantom labels');
    result.slices.push({ subject: id, level: levelName(zr), z: zr, image, label });
  }
  await Promise.all(writes);
  const json = {
    name: 'slice-distill phantom',
    description: `Synthetic abdominal CT, seed ${seed}: ${nVolumes} volumes (non-contrast / portal-venous alternating) and ${nSlices} unpaired single slices.`,
    classes: ['background', 'spleen', 'right kidney', 'left kidney', 'liver', 'stomach', 'aorta'],
    labelMap: { '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6 },
    volumes: result.volumes.map((v) => ({ image: v.image, label: v.label, subject: v.subject, phase: v.phase })),
    slices: result.slices.map((s) => ({ image: s.image, label: s.label, subject: s.subject, level: s.level })),
    'x-phantom': { seed, volumeShape: shape, volumeZSpacing: zSpacing, sliceSize, sliceLevels: [zLo, zHi], slicePhase },
  };
  writeFileSync(result.datasetFile, `${JSON.stringify(json, null, 2)}\n`);
  return result;
}
