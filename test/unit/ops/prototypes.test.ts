import assert from 'node:assert/strict';
import { ops, randn, scope, tensor, type Tensor } from '../../../lib/index.js';
import { fixturesOrSkip, maxAbsDiff, type Fixtures } from '../../support/python.js';

// Labels as int64 from plain numbers.
const labelsOf = (values: number[], shape: number[]): Tensor => tensor(BigInt64Array.from(values.map(BigInt)), shape);
const data = (t: Tensor): Float64Array => t.to('float64').toArray() as Float64Array;

interface Case {
  name: string;
  shape: number[];
  labels: number[];
  options: ops.DistOptions;
}

// Random labels in [0, 4) of 5 classes (class 4 always absent), with a twist per case.
function makeCases(): Case[] {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const labels = (n: number, k = 4) => Array.from({ length: n }, () => Math.floor(rnd() * k));
  const cases: Case[] = [];
  const s2 = [2, 5, 4, 5];
  const n2 = 2 * 20;
  cases.push({ name: '2D, absent classes', shape: s2, labels: labels(n2), options: {} });
  const bg = labels(n2);
  bg.fill(0, 0, 20);
  cases.push({ name: '2D, a background-only slice', shape: s2, labels: bg, options: { tau: 2, interWeight: 0.7, intraWeight: 1.3 } });
  cases.push({ name: '2D, one class present everywhere (no L_intra)', shape: s2, labels: new Array(n2).fill(2), options: {} });
  const ign = labels(n2);
  for (let i = 0; i < n2; i += 3) ign[i] = 255;
  cases.push({ name: '2D, ignore index', shape: s2, labels: ign, options: { ignoreIndex: 255 } });
  // samples with 1, 2, 3 and 4 present classes
  const byCount = [[1], [0, 3], [0, 1, 2], [0, 1, 2, 3]].flatMap((classes) => Array.from({ length: 20 }, (_, i) => classes[i % classes.length]!));
  const s4 = [4, 5, 4, 5];
  cases.push({ name: '2D, 1 / 2 / 3 / 4 present classes', shape: s4, labels: byCount, options: {} });
  cases.push({ name: "2D, 1 / 2 / 3 / 4 present classes, channels 'all'", shape: s4, labels: byCount, options: { channels: 'all' } });
  cases.push({ name: '2D, class 2 unseen by the teacher', shape: s4, labels: byCount, options: { teacherMask: [true, true, false, true, true], tau: 1.5 } });
  cases.push({ name: '3D, absent classes', shape: [2, 5, 3, 3, 4], labels: labels(2 * 36), options: { tau: 0.5 } });
  cases.push({
    name: "3D, channels 'all', class 0 unseen",
    shape: [2, 5, 3, 3, 4],
    labels: labels(2 * 36),
    options: { channels: 'all', teacherMask: [false, true, true, true, true] },
  });
  return cases;
}

/** Central finite differences of f at every element of x (float64). */
function numericGrad(f: (x: Tensor) => number, x: Float64Array, shape: number[], h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[i]! += h;
    minus[i]! -= h;
    g[i] = scope(() => (f(tensor(plus, shape)) - f(tensor(minus, shape))) / (2 * h));
  }
  return g;
}

describe('prototype and DIST ops', function () {
  const teacher = scope(() => randn([5, 5], { dtype: 'float64' }).mul(3));

  for (const c of makeCases()) {
    describe(c.name, function () {
      const labelShape = [c.shape[0]!, ...c.shape.slice(2)];
      const x0 = Float64Array.from({ length: c.shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 1.7) * 2);
      const labels = labelsOf(c.labels, labelShape);

      it('classPrototypes: fused equals the reference; gradcheck', function () {
        const logits = tensor(x0, c.shape, { requiresGrad: true });
        const f = ops.classPrototypes(logits, labels, 5, c.options);
        const r = ops.reference.classPrototypes(logits, labels, 5, c.options);
        assert.deepEqual(f.counts.toList(), r.counts.toList());
        assert.ok(maxAbsDiff(data(f.prototypes), data(r.prototypes)) < 1e-12);
        // a fixed random weighting of the prototypes as the scalar to differentiate
        const w = tensor(
          Float64Array.from({ length: f.prototypes.numel }, (_, i) => Math.cos(i)),
          f.prototypes.shape,
        );
        f.prototypes.mul(w).sum().backward();
        const numeric = numericGrad((x) => ops.classPrototypes(x, labels, 5, c.options).prototypes.mul(w).sum().item() as number, x0, c.shape);
        assert.ok(maxAbsDiff(data(logits.grad!), numeric) < 1e-6);
      });

      it('distLoss and protoDistLoss: fused equals the reference; gradcheck', function () {
        const logits = tensor(x0, c.shape, { requiresGrad: true });
        const fused = ops.protoDistLoss(logits, labels, teacher, c.options);
        fused.backward();
        const fusedGrad = data(logits.grad!);
        const ref = tensor(x0, c.shape, { requiresGrad: true });
        const reference = ops.reference.protoDistLoss(ref, labels, teacher, c.options);
        reference.backward();
        assert.ok(Math.abs((fused.item() as number) - (reference.item() as number)) < 1e-12, `${fused.item()} vs ${reference.item()}`);
        assert.ok(maxAbsDiff(fusedGrad, data(ref.grad!)) < 1e-10);
        const numeric = numericGrad((x) => ops.protoDistLoss(x, labels, teacher, c.options).item() as number, x0, c.shape);
        assert.ok(maxAbsDiff(fusedGrad, numeric) < 1e-6, `max diff ${maxAbsDiff(fusedGrad, numeric)}`);

        // the unfused pair gives the same loss and gradient
        const split = tensor(x0, c.shape, { requiresGrad: true });
        const p = ops.classPrototypes(split, labels, 5, c.options);
        const loss = ops.distLoss(p.prototypes, p.counts, teacher, c.options);
        loss.backward();
        assert.ok(Math.abs((loss.item() as number) - (fused.item() as number)) < 1e-12);
        assert.ok(maxAbsDiff(data(split.grad!), fusedGrad) < 1e-12);
        // distLoss alone against its reference, with gradients on the prototypes
        const protos = tensor(data(p.prototypes), p.prototypes.shape, { requiresGrad: true });
        const protosRef = tensor(data(p.prototypes), p.prototypes.shape, { requiresGrad: true });
        ops.distLoss(protos, p.counts, teacher, c.options).backward();
        ops.reference.distLoss(protosRef, p.counts, teacher, c.options).backward();
        assert.ok(maxAbsDiff(data(protos.grad!), data(protosRef.grad!)) < 1e-10);
      });
    });
  }

  it('L_intra needs 3 present classes (2 with channels all); an all-ignored batch gives 0', function () {
    const logits = tensor(
      Float64Array.from({ length: 2 * 5 * 4 }, (_, i) => Math.cos(i)),
      [2, 5, 2, 2],
    );
    const one = labelsOf(new Array(8).fill(3), [2, 2, 2]);
    const two = labelsOf([0, 3, 0, 3, 0, 3, 0, 3], [2, 2, 2]);
    const three = labelsOf([0, 3, 1, 3, 0, 3, 1, 0], [2, 2, 2]);
    for (const y of [one, two]) {
      // only the rows (L_inter) count: weighting the columns changes nothing
      assert.equal(ops.protoDistLoss(logits, y, teacher, { intraWeight: 0 }).item(), ops.protoDistLoss(logits, y, teacher).item());
      assert.equal(ops.protoDistLoss(logits, y, teacher, { interWeight: 0 }).item(), 0);
    }
    assert.equal(ops.protoDistLoss(logits, one, teacher, { interWeight: 0, channels: 'all' }).item(), 0);
    assert.ok((ops.protoDistLoss(logits, two, teacher, { interWeight: 0, channels: 'all' }).item() as number) > 0);
    assert.ok((ops.protoDistLoss(logits, three, teacher, { interWeight: 0 }).item() as number) > 0);
    const ignored = labelsOf(new Array(8).fill(9), [2, 2, 2]);
    assert.equal(ops.protoDistLoss(logits, ignored, teacher, { ignoreIndex: 9 }).item(), 0);
  });

  it("a student whose prototypes are the teacher's scores 0 over the present channels, not with all channels", function () {
    // teacher logits in the range measured on real teachers (-14..8): columns of absent classes
    // hold probabilities of 1e-6 .. 1e-10, below eps, and their correlation degenerates
    const C = 5;
    const t = Float64Array.from({ length: C * C }, (_, i) => (Math.floor(i / C) === i % C ? 8 : -14 + ((i * 7) % 5)));
    const tt = tensor(t, [C, C]);
    // one sample, pixels of classes 0, 1, 2 whose logits equal the teacher's rows
    const classes = [0, 1, 2, 0, 1, 2];
    const x = new Float64Array(C * classes.length);
    classes.forEach((k, i) => {
      for (let c = 0; c < C; c++) x[c * classes.length + i] = t[k * C + c]!;
    });
    const logits = tensor(x, [1, C, 1, classes.length]);
    const y = labelsOf(classes, [1, 1, classes.length]);
    assert.ok(Math.abs(ops.protoDistLoss(logits, y, tt).item() as number) < 1e-6); // eps only
    assert.ok((ops.protoDistLoss(logits, y, tt, { channels: 'all' }).item() as number) > 0.1);
  });

  it('classes the teacher never saw do not contribute: their pixels get no gradient', function () {
    const shape = [2, 5, 3, 4];
    const y = labelsOf(
      Array.from({ length: 24 }, (_, i) => i % 4),
      [2, 3, 4],
    );
    const x = tensor(
      Float64Array.from({ length: 120 }, (_, i) => Math.sin(i)),
      shape,
      { requiresGrad: true },
    );
    ops.protoDistLoss(x, y, teacher, { teacherMask: [true, true, false, true, true] }).backward();
    const g = data(x.grad!);
    const labels = Array.from(y.toArray() as BigInt64Array, Number);
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < 12; i++) {
        for (let c = 0; c < 5; c++) {
          const v = g[(b * 5 + c) * 12 + i]!;
          if (labels[b * 12 + i] === 2) assert.equal(v, 0);
        }
      }
    }
    assert.ok(g.some((v) => v !== 0));
    assert.throws(
      () => ops.protoDistLoss(x, y, teacher, { teacherMask: [true, false] }),
      (e: Error) => e instanceof RangeError && /teacherMask: expected 5 entries/.test(e.message),
    );
    assert.throws(
      () => ops.protoDistLoss(x, y, teacher, { channels: 'some' as 'all' }),
      (e: Error) => e instanceof RangeError && /channels/.test(e.message),
    );
  });

  // float32 on x86-64 takes the vector pass (float32 partials moved to float64 every 64 pixels
  // per copy): sizes across its chunks of 8192 pixels, with a tail, one and two registers of
  // channels, an ignore index and an out-of-range label; the last, a gradient over 4 MiB, takes
  // the streaming stores, with rows not 32-byte aligned (N * 4 % 32 = 24)
  for (const [B, C, H, W, ignore] of [
    [2, 7, 97, 101, undefined],
    [3, 12, 33, 70, 3],
    [4, 5, 16, 16, undefined],
    [3, 7, 250, 251, undefined],
  ] as const) {
    it(`float32 logits ${B}x${C}x${H}x${W}${ignore === undefined ? '' : ', ignore index'} give the float64 result to float precision`, function () {
      const n = B * H * W;
      const y = labelsOf(
        Array.from({ length: n }, (_, i) => (ignore !== undefined && i % 13 === 0 ? ignore : (i * 7 + Math.floor(i / 5)) % C)),
        [B, H, W],
      );
      const t = randn([C, C]).mul(3);
      const x = randn([B, C, H, W]).mul(4).add(1);
      const options: ops.DistOptions = ignore === undefined ? {} : { ignoreIndex: ignore };
      const f32 = ops.classPrototypes(x, y, C, options);
      const f64 = ops.classPrototypes(x.to('float64'), y, C, options);
      assert.deepEqual(f32.counts.toList(), f64.counts.toList());
      assert.ok(maxAbsDiff(data(f32.prototypes), data(f64.prototypes)) < 1e-6);
      const [a, b] = [x.detach().requiresGrad_(), x.to('float64').requiresGrad_()];
      const [la, lb] = [ops.protoDistLoss(a, y, t, options), ops.protoDistLoss(b, y, t, options)];
      la.backward();
      lb.backward();
      assert.ok(Math.abs((la.item() as number) - (lb.item() as number)) < 1e-6 * Math.abs(lb.item() as number));
      const scale = b.grad!.abs().max().item() as number;
      assert.ok(maxAbsDiff(data(a.grad!), data(b.grad!)) < 1e-6 * scale);
      const bad = labelsOf(
        Array.from({ length: n }, (_, i) => (i === n - 9 ? C + 2 : i % C)),
        [B, H, W],
      );
      assert.throws(
        () => ops.protoDistLoss(x, bad, t),
        (e: Error) => e instanceof RangeError && new RegExp(`value ${C + 2} is outside`).test(e.message),
      );
    });
  }

  it('shape, dtype and class-range errors are typed', function () {
    const x = randn([2, 5, 4, 4]);
    const y = labelsOf(new Array(32).fill(1), [2, 4, 4]);
    assert.throws(
      () => ops.protoDistLoss(x, labelsOf(new Array(32).fill(5), [2, 4, 4]), teacher),
      (e: Error) => e instanceof RangeError && /value 5 is outside \[0, 5\)/.test(e.message),
    );
    assert.throws(() => ops.classPrototypes(x, labelsOf(new Array(32).fill(-1), [2, 4, 4]), 5), /value -1/);
    assert.throws(
      () => ops.protoDistLoss(x, labelsOf(new Array(16).fill(1), [1, 4, 4]), teacher),
      (e: Error) => e instanceof RangeError && /labels: shape \[1, 4, 4\]/.test(e.message),
    );
    assert.throws(
      () => ops.protoDistLoss(x, y.to('float32'), teacher),
      (e: Error) => e instanceof TypeError && /integer/.test(e.message),
    );
    assert.throws(() => ops.protoDistLoss(y, y, teacher), TypeError);
    assert.throws(
      () => ops.protoDistLoss(x, y, randn([5, 4])),
      (e: Error) => e instanceof RangeError && /teacherPrototype: expected \[5, 5\]/.test(e.message),
    );
    assert.throws(
      () => ops.protoDistLoss(x, y, teacher, { tau: 0 }),
      (e: Error) => e instanceof RangeError && /tau/.test(e.message),
    );
    assert.throws(
      () => ops.distLoss(randn([2, 5, 5]), labelsOf([1, 1], [2, 1]), teacher),
      (e: Error) => e instanceof RangeError && /counts/.test(e.message),
    );
  });

  describe('against the Python reference of the semantics', function () {
    let fx: Fixtures;
    before(async function () {
      fx = await fixturesOrSkip(this);
    });

    it('native fused loss and gradient equal dist_reference.py (< 1e-6 relative)', function () {
      for (const c of fx.reference.dist) {
        const logits = tensor(new Float64Array(c.logits), c.shape, { requiresGrad: true });
        const labels = labelsOf(c.labels, [c.shape[0]!, ...c.shape.slice(2)]);
        const t = tensor(new Float64Array(c.teacher), [5, 5]);
        const options: ops.DistOptions = {
          tau: c.tau,
          interWeight: c.interWeight,
          intraWeight: c.intraWeight,
          ignoreIndex: c.ignoreIndex ?? undefined,
          channels: c.channels,
        };
        if (c.teacherMask) options.teacherMask = c.teacherMask;
        const loss = ops.protoDistLoss(logits, labels, t, options);
        loss.backward();
        assert.ok(Math.abs((loss.item() as number) - c.loss) <= 1e-6 * Math.abs(c.loss), `${loss.item()} vs ${c.loss}`);
        const scale = Math.max(...c.grad.map(Math.abs));
        assert.ok(maxAbsDiff(data(logits.grad!), c.grad) <= 1e-6 * scale);
      }
    });
  });
});

describe('PrototypeAccumulator', function () {
  // one volume [1, CH=2, D=2, H=1, W=3]; slice 0 labels [0, 1, 1], slice 1 labels [0, 0, 2]
  const logits = tensor(Float32Array.from([1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60]), [1, 2, 2, 1, 3]);
  const labels = labelsOf([0, 1, 1, 0, 0, 2], [1, 2, 1, 3]);
  // channel c, slice z, pixel i = logits[0, c, z, 0, i]
  // slice 0: class 0 -> (1, 10); class 1 -> ((2+3)/2, (20+30)/2) = (2.5, 25)
  // slice 1: class 0 -> ((4+5)/2, (40+50)/2) = (4.5, 45); class 2 -> (6, 60)

  it('slice-mean averages the per-slice class means over the slices with the class', function () {
    const acc = new ops.PrototypeAccumulator({ numClasses: 4 });
    acc.add(logits, labels);
    const r = acc.result();
    assert.deepEqual(r.prototype.toList(), [
      [2.75, 27.5],
      [2.5, 25],
      [6, 60],
      [0, 0],
    ]);
    assert.deepEqual(r.sliceCounts, [2, 1, 1, 0]);
    assert.deepEqual(r.voxelCounts, [3, 2, 1, 0]);
    assert.deepEqual(r.missing, [3]);
    assert.equal(r.slices, 2);
  });

  it('voxel-weighted averages over all voxels of the class', function () {
    const acc = new ops.PrototypeAccumulator({ numClasses: 4, mode: 'voxel-weighted' });
    acc.add(logits, labels);
    const r = acc.result();
    assert.deepEqual(r.prototype.toList(), [
      [10 / 3, 100 / 3],
      [2.5, 25],
      [6, 60],
      [0, 0],
    ]);
    assert.deepEqual(r.counts, [3, 2, 1, 0]);
  });

  it('slice by slice equals volume at once; saves and loads with provenance', async function () {
    const acc = new ops.PrototypeAccumulator({ numClasses: 4 });
    for (let z = 0; z < 2; z++) acc.add(logits.select(2, z), labels.select(1, z));
    assert.deepEqual(acc.result().prototype.toList(), [
      [2.75, 27.5],
      [2.5, 25],
      [6, 60],
      [0, 0],
    ]);
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = `${mkdtempSync(`${tmpdir()}/sd-proto-`)}/teacher.json`;
    await acc.save(file, { teacher: 'unest-tiny', dataset: 'unit' });
    const back = await ops.PrototypeAccumulator.load(file);
    assert.deepEqual(back.prototype.toList(), [
      [2.75, 27.5],
      [2.5, 25],
      [6, 60],
      [0, 0],
    ]);
    assert.deepEqual(back.provenance, { teacher: 'unest-tiny', dataset: 'unit' });
    assert.equal(back.mode, 'slice-mean');
  });

  it('equals averaging classPrototypes slice by slice on a random batch of volumes', function () {
    const x = randn([2, 3, 4, 5, 6], { dtype: 'float64' });
    const y = labelsOf(
      Array.from({ length: 2 * 4 * 30 }, (_, i) => (i * 13) % 3),
      [2, 4, 5, 6],
    );
    const acc = new ops.PrototypeAccumulator({ numClasses: 3 });
    acc.add(x, y);
    const sums = new Float64Array(9);
    const counts = new Float64Array(3);
    for (let b = 0; b < 2; b++) {
      for (let z = 0; z < 4; z++) {
        const p = ops.classPrototypes(x.select(0, b).select(1, z).unsqueeze(0), y.select(0, b).select(0, z).unsqueeze(0), 3);
        const pv = data(p.prototypes);
        const n = p.counts.toList() as number[][];
        for (let k = 0; k < 3; k++) {
          if (Number(n[0]![k]) === 0) continue;
          counts[k]! += 1;
          for (let c = 0; c < 3; c++) sums[k * 3 + c]! += pv[k * 3 + c]!;
        }
      }
    }
    const expected = Array.from(sums, (v, i) => v / counts[Math.floor(i / 3)]!);
    assert.ok(maxAbsDiff(data(acc.result().prototype), expected) < 1e-12);
  });

  it('bad input is typed', function () {
    assert.throws(() => new ops.PrototypeAccumulator({ numClasses: 0 }), RangeError);
    assert.throws(() => new ops.PrototypeAccumulator({ numClasses: 3, mode: 'median' as 'slice-mean' }), RangeError);
    const acc = new ops.PrototypeAccumulator({ numClasses: 2 });
    assert.throws(() => acc.result(), /nothing was added/);
    assert.throws(
      () => acc.add(logits, labels),
      (e: Error) => e instanceof RangeError && /value 2 is outside \[0, 2\)/.test(e.message),
    );
  });
});
