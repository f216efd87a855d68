import assert from 'node:assert/strict';
import { nestedSubsets, splitSubjects, entriesOf } from '../../../lib/data/splits.js';

const subjects = Array.from({ length: 707 }, (_, i) => `s${String(i).padStart(4, '0')}`);

describe('data: splits by subject', () => {
  it('counts as in the paper (295 / 117 / 295), disjoint, covering, seeded', () => {
    const split = splitSubjects(subjects, { train: 295, val: 117, test: 295 }, 1);
    assert.deepEqual([split.train.length, split.val.length, split.test.length], [295, 117, 295]);
    const all = [...split.train, ...split.val, ...split.test];
    assert.equal(new Set(all).size, 707);
    assert.deepEqual(splitSubjects([...subjects].reverse(), { train: 295, val: 117, test: 295 }, 1), split, 'independent of input order');
    assert.notDeepEqual(splitSubjects(subjects, { train: 295, val: 117, test: 295 }, 2).test, split.test);
  });

  it('fractions round val and test; train takes the rest; duplicates collapse', () => {
    const s = splitSubjects([...subjects.slice(0, 10), 's0000'], { train: 0.6, val: 0.2, test: 0.2 }, 0);
    assert.deepEqual([s.train.length, s.val.length, s.test.length], [6, 2, 2]);
    assert.throws(() => splitSubjects(subjects, { train: 1, val: 1, test: 1 }), /counts sum to 3 but there are 707/);
    assert.throws(() => splitSubjects(subjects, { train: 0.5, val: 0.6, test: -0.1 }), RangeError);
  });

  it('low-data subsets are nested: 100 in 150 in 200 in 250 in all', () => {
    const { train } = splitSubjects(subjects, { train: 295, val: 117, test: 295 }, 3);
    const subsets = nestedSubsets(train, [100, 150, 200, 250, 'all'], 4);
    const sizes = [100, 150, 200, 250, 'all'] as const;
    for (let i = 0; i + 1 < sizes.length; i++) {
      const small = subsets.get(sizes[i])!;
      const large = new Set(subsets.get(sizes[i + 1])!);
      assert.equal(small.length, sizes[i]);
      assert.ok(
        small.every((x) => large.has(x)),
        `${sizes[i]} inside ${sizes[i + 1]}`,
      );
    }
    assert.equal(subsets.get('all')!.length, 295);
    assert.deepEqual(nestedSubsets(train, [100], 4).get(100), subsets.get(100));
    assert.throws(() => nestedSubsets(train, [300]), /not a subset size/);
    assert.equal(entriesOf([{ subject: 's0001' }, { subject: 'x' }], ['x']).length, 1);
  });
});
