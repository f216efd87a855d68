import assert from 'node:assert/strict';
import type { Tensor } from '../../lib/index.js';

/** Asserts every element of `actual` is within `tol` of `expected` (flat or nested). */
export function assertClose(actual: Tensor | number[], expected: unknown, tol = 1e-6): void {
  const a = Array.isArray(actual) ? actual : (actual.toList() as unknown);
  const flatA = [a].flat(Infinity as 1) as number[];
  const flatE = [expected].flat(Infinity as 1) as number[];
  assert.equal(flatA.length, flatE.length, `length ${flatA.length} != ${flatE.length}`);
  flatA.forEach((v, i) => {
    assert.ok(Math.abs(v - flatE[i]) <= tol, `element ${i}: ${v} != ${flatE[i]} (tol ${tol})`);
  });
}

export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
