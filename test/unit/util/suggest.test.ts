// lib/util/suggest.ts: the edit distance and the "did you mean" of the CLI and the config.
import assert from 'node:assert/strict';
import { editDistance, suggest } from '../../../lib/util/suggest.js';

describe('util: suggest', () => {
  it('counts insertions, deletions and substitutions', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('studnet', 'student'), 2);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });
  it('suggests the closest name only when it is a likely typo', () => {
    assert.equal(suggest('phantm', ['phantom', 'predict']), 'phantom');
    assert.equal(suggest('xyz', ['phantom', 'predict']), null);
  });
});
