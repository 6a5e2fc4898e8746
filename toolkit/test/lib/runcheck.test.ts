// judgeIdentical: runs that must give the reference tokens, with near ties of the reference's logits
// allowed only where asked. Mixed runs: one identical, one differing at a near tie, one differing where
// the reference was sure.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogitsMatrix } from "../../src/lib/logits.js";
import { judgeIdentical, top2Margin } from "../../src/lib/runcheck.js";

// 4 steps over a vocabulary of 3: step 2 is a near tie (margin 0.001), the others are clear (margin 2).
const logits: LogitsMatrix = {
  steps: 4,
  vocab: 3,
  data: Float32Array.from([3, 1, 0, 0, 3, 1, 1.001, 1, 0, 0, 1, 3]),
};
const ref = [0, 1, 0, 2];

test("top2Margin is the gap between the two largest logits of a step", () => {
  assert.equal(top2Margin(logits, 0), 2);
  assert.ok(Math.abs(top2Margin(logits, 2) - 0.001) < 1e-6);
});

test("without nearTie every difference fails", () => {
  const r = judgeIdentical("x", "runs", ref, [ref, [0, 1, 1, 2]]);
  assert.equal(r.status, "FAIL");
  assert.match(r.detail, /run 1: 1 differ, first at 2/);
});

test("a difference at a near tie is listed, one where the reference was sure fails", () => {
  const near = { logits, margin: 1e-2 };
  const tie = judgeIdentical("x", "runs", ref, [ref, [0, 1, 1, 2]], near);
  assert.equal(tie.status, "PASS");
  assert.match(
    tie.detail,
    /near ties below 0\.01, allowed: run 1: 1 differ, first at 2 \(reference top-2 margin 1\.00e-3\)/,
  );
  const mixed = judgeIdentical("x", "runs", ref, [ref, [0, 1, 1, 2], [0, 2, 0, 2]], near);
  assert.equal(mixed.status, "FAIL");
  assert.match(mixed.detail, /run 2: 1 differ, first at 1/);
  assert.deepEqual((mixed.values as { failures: string[] }).failures, ["run 2: 1 differ, first at 1"]);
});
