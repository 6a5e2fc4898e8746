// The pure comparison and its views, on synthetic runs with known differences.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareCase, errorCase, summarize, type RunRecord } from "../../../src/commands/accuracy/compare.js";
import { accuracyMarkdown, caseDetails } from "../../../src/commands/accuracy/render.js";
import type { AccuracyReport } from "../../../src/commands/accuracy/run.js";
import { toleranceFor } from "../../../src/lib/tolerance.js";

const run = (tokens: number[], text: string, backend: string | null = "cpu"): RunRecord => ({
  text,
  tokens,
  backend,
  dumpDir: null,
  timingsMs: null,
});
const base = run([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "the quick brown fox jumps");
/** base against a candidate with one token (at 4) and one word ("fox" -> "box") changed, under strict. */
const oneChanged = (audio: string) =>
  compareCase(
    audio,
    base,
    run([1, 2, 3, 4, 99, 6, 7, 8, 9, 10], "the quick brown box jumps"),
    toleranceFor("strict"),
    null,
  );

test("identical runs pass every tier with logits skipped when absent", () => {
  const c = compareCase(
    "a.wav",
    base,
    run([...base.tokens], "The quick, brown fox jumps."),
    toleranceFor("exact"),
    null,
  );
  assert.equal(c.status, "pass");
  assert.equal(c.tokens?.differing, 0);
  assert.equal(c.wer?.alignment, null);
  assert.deepEqual(
    c.verdicts.filter((v) => v.status === "skip").map((v) => v.metric),
    ["top1", "maxKl", "maxRelErr"],
  );
});

test("a changed token and word fail strict with the diff and alignment kept", () => {
  const c = oneChanged("a.wav");
  assert.equal(c.status, "fail");
  assert.equal(c.tokens?.fraction, 0.1);
  assert.equal(c.tokens?.firstDifference, 4);
  assert.deepEqual(c.tokens?.diff, ["@4  2 3 4 [-5-] {+99+} 6 7 8"]);
  assert.equal(c.wer?.rate, 0.2);
  assert.match(c.wer?.alignment ?? "", /REF: the quick brown fox jumps\nHYP: the quick brown box jumps\n +S/);
  const details = caseDetails(c).join("\n");
  assert.match(details, /tokenDiff = 0\.1 \(limit <= 0\)/);
  assert.match(details, /\[-5-\] \{\+99\+\}/);
  assert.equal(
    compareCase(
      "a.wav",
      base,
      run([1, 2, 3, 4, 99, 6, 7, 8, 9, 10], base.text),
      toleranceFor("relaxed", { maxTokenDiff: 0.1 }),
      null,
    ).status,
    "pass",
  );
});

test("logits are compared up to the first token difference; a vocab mismatch is an error case", () => {
  const V = 4;
  const rows = (n: number, hot: number[]) => ({
    steps: n,
    vocab: V,
    data: Float32Array.from({ length: n * V }, (_, i) => (i % V === hot[Math.floor(i / V)] ? 5 : 0)),
  });
  const b = rows(
    10,
    base.tokens.map((t) => t % V),
  );
  const cand = run([1, 2, 99, 4, 5, 6, 7, 8, 9, 10], base.text);
  const c = compareCase("a.wav", base, cand, toleranceFor("strict"), {
    baseline: b,
    candidate: rows(
      10,
      [1, 2, 3, 0, 1, 2, 3, 0, 1, 2].map((x, i) => (i >= 3 ? (x + 1) % V : x)),
    ),
    maxSteps: 64,
  });
  assert.equal(c.logits?.comparedSteps, 3);
  assert.equal(c.logits?.top1Agreement, 1);
  const bad = compareCase("a.wav", base, cand, toleranceFor("strict"), {
    baseline: b,
    candidate: { steps: 1, vocab: 3, data: new Float32Array(3) },
    maxSteps: 64,
  });
  assert.equal(bad.status, "error");
  assert.match(bad.error ?? "", /different vocab sizes/);
});

test("summary: errors dominate, then failures; no cases is a failure", () => {
  const pass = compareCase("a.wav", base, base, toleranceFor("exact"), null);
  assert.equal(summarize([pass]).status, "pass");
  assert.equal(summarize([pass, errorCase("b.wav", "engine crashed")]).status, "error");
  assert.equal(summarize([]).status, "fail");
});

test("the Markdown report shows the table, verdicts, token diff and text diff", () => {
  const c = oneChanged("dir/a.wav");
  const env = {
    engine: { commit: "abc" },
    toolkit: { commit: "def" },
    gpus: [],
  } as unknown as AccuracyReport["environment"];
  const md = accuracyMarkdown({
    schemaVersion: 1,
    kind: "accuracy",
    createdAt: "",
    environment: env,
    model: "m",
    baseline: { kind: "cpu", source: "s" },
    candidate: { backend: "cuda" },
    tier: "strict",
    tierMeaning: "x",
    tolerance: toleranceFor("strict"),
    cases: [c],
    ...summarize([c]),
  });
  assert.match(md, /^# vox accuracy: FAIL/);
  assert.match(md, /\| a\.wav \| 1\/10 \| 20\.00 % \|/);
  assert.match(md, /\| tokenDiff \| 0\.1 \| <= 0 \| fail \|/);
  assert.match(md, /```diff\n- the quick brown fox jumps\n\+ the quick brown box jumps\n```/);
});

test("mixed inputs: one passing and one failing case fail the report; one metric over its limit fails a case", () => {
  const pass = compareCase("a.wav", base, base, toleranceFor("strict"), null);
  const fail = compareCase(
    "b.wav",
    base,
    run([1, 2, 3, 4, 99, 6, 7, 8, 9, 10], base.text),
    toleranceFor("strict"),
    null,
  );
  assert.deepEqual(summarize([pass, fail]), { summary: { cases: 2, passed: 1, failed: 1, errors: 0 }, status: "fail" });
  assert.deepEqual(summarize([fail, pass]).status, "fail");
  // Tokens within a loosened limit, the words not: the case fails on WER alone.
  const words = compareCase(
    "c.wav",
    base,
    run([1, 2, 3, 4, 99, 6, 7, 8, 9, 10], "a quick brown box jumps over"),
    toleranceFor("strict", { maxTokenDiff: 0.1 }),
    null,
  );
  assert.equal(words.status, "fail");
  const failing = words.verdicts.filter((v) => v.status === "fail").map((v) => v.metric);
  assert.ok(failing.length > 0 && !failing.includes("tokenDiff"), `failing metrics: ${failing.join(", ")}`);
  assert.ok(words.verdicts.some((v) => v.metric === "tokenDiff" && v.status === "pass"));
});
