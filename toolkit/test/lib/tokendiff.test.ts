// Token-id diffs: replacement hunks count once, insertions and deletions by length.
import assert from "node:assert/strict";
import { test } from "node:test";
import { diffTokens, formatTokenDiff } from "../../src/lib/tokendiff.js";

test("identical sequences", () => {
  const d = diffTokens([1, 2, 3], [1, 2, 3]);
  assert.equal(d.differing, 0);
  assert.equal(d.fraction, 0);
  assert.equal(d.firstDifference, null);
  assert.deepEqual(d.hunks, []);
});

test("one swapped id is one differing token", () => {
  const base = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const d = diffTokens(base, [10, 11, 12, 99, 14, 15, 16, 17, 18, 19]);
  assert.equal(d.differing, 1);
  assert.equal(d.fraction, 0.1);
  assert.equal(d.firstDifference, 3);
  assert.equal(d.common, 9);
  assert.deepEqual(formatTokenDiff(base, d, 2), ["@3  11 12 [-13-] {+99+} 14 15"]);
});

test("insertions, deletions and length changes", () => {
  const d = diffTokens([1, 2, 3, 4], [1, 2, 3, 4, 5, 6]);
  assert.equal(d.differing, 2);
  assert.equal(d.firstDifference, 4);
  assert.equal(d.fraction, 0.5);
  const e = diffTokens([1, 2, 3, 4], [1, 4]);
  assert.equal(e.differing, 2);
  assert.deepEqual(e.hunks, [{ baselineIndex: 1, candidateIndex: 1, removed: [2, 3], added: [] }]);
  assert.equal(diffTokens([], [7]).fraction, 1);
});
