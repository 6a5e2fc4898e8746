// Logit metrics on synthetic arrays with known answers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareLogits, klDivergence, maxRelErr, normRelErr, type LogitsMatrix } from "../../src/lib/logits.js";

function mat(rows: number[][]): LogitsMatrix {
  return { steps: rows.length, vocab: rows[0]!.length, data: Float32Array.from(rows.flat()) };
}

test("KL is 0 for equal rows and for a constant shift; matches a hand value", () => {
  const a = Float32Array.from([1, 2, 3]);
  assert.equal(klDivergence(a, a), 0);
  assert.ok(klDivergence(a, Float32Array.from([11, 12, 13])) < 1e-12);
  // p = softmax(0, ln 3) = (1/4, 3/4), q = (1/2, 1/2): KL = 1/4 ln(1/2) + 3/4 ln(3/2)
  const kl = klDivergence(Float32Array.from([0, Math.log(3)]), Float32Array.from([0, 0]));
  assert.ok(Math.abs(kl - (0.25 * Math.log(0.5) + 0.75 * Math.log(1.5))) < 1e-6);
});

test("maxRelErr is scaled by the baseline row's largest magnitude", () => {
  assert.equal(maxRelErr(Float32Array.from([2, -4]), Float32Array.from([2, -3])), 0.25);
  assert.equal(maxRelErr(Float32Array.from([0, 0]), Float32Array.from([0, 0])), 0);
});

test("normRelErr is scaled by the baseline's 2-norm, and differs from maxRelErr on the same pair", () => {
  const a = Float32Array.from([3, 4]);
  const b = Float32Array.from([3, 5]);
  assert.equal(normRelErr(a, b), 0.2); // |1| / 5
  assert.equal(maxRelErr(a, b), 0.25); // |1| / 4
  assert.equal(normRelErr(Float32Array.from([0, 0]), Float32Array.from([3, 4])), 5);
});

test("comparison stops after the first token difference and counts argmax flips", () => {
  const base = mat([
    [0, 5, 1],
    [3, 0, 0],
    [0, 0, 9],
    [1, 2, 3],
  ]);
  const cand = mat([
    [0, 5, 1],
    [0, 3, 0],
    [0, 0, 9],
    [9, 0, 0],
  ]);
  const all = compareLogits(base, cand);
  assert.equal(all.comparedSteps, 4);
  assert.deepEqual(all.top1Mismatches, [1, 3]);
  assert.equal(all.top1Agreement, 0.5);
  const cut = compareLogits(base, cand, { firstTokenDifference: 1 });
  assert.equal(cut.comparedSteps, 2);
  assert.equal(cut.maxKlStep, 1);
  assert.equal(compareLogits(base, cand, { maxSteps: 1 }).top1Agreement, 1);
  assert.throws(() => compareLogits(base, mat([[1, 2]])), /different vocab sizes/);
});
