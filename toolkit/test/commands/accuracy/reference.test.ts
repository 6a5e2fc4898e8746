// vox accuracy against human transcripts (--reference, --manifest): WER/CER per file and pooled.
// The tiny models' text is meaningless, so the references are built from the engine's own output
// with a known number of edits: the expected WER is known by construction.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { CaseRecord, RunRecord } from "../../../src/commands/accuracy/compare.js";
import { pooled, readManifest, referenceCase } from "../../../src/commands/accuracy/reference.js";
import type { AccuracyReport } from "../../../src/commands/accuracy/run.js";
import { normalizeConfig } from "../../../src/commands/gate/config.js";
import { parseEngineJson, runEngine } from "../../../src/lib/engine.js";
import { InputError } from "../../../src/lib/errors.js";
import { readFixture } from "../../../src/lib/fixture.js";
import { fixturesDir } from "../../../src/lib/paths.js";
import { words } from "../../../src/lib/wer.js";
import { report, tempDir, vox } from "../vox-cli.js";

const run = (text: string): RunRecord => ({ text, tokens: [], backend: "cpu", dumpDir: null, timingsMs: null });

test("per file and pooled: total errors over total reference words, judged against maxWer", () => {
  const exact = referenceCase("a.wav", "The cat sat on the mat.", run("the cat sat on the mat"));
  const twoOff = referenceCase("b.wav", "one two three four five six seven", run("one TWO 3 four five six"));
  assert.equal(exact.wer!.rate, 0);
  assert.equal(twoOff.wer!.rate, 2 / 7); // "three" -> "3" substituted, "seven" deleted
  assert.equal(twoOff.wer!.substitutions + twoOff.wer!.deletions + twoOff.wer!.insertions, 2);
  assert.equal(
    twoOff.wer!.alignment,
    "REF: one two three four five six seven\nHYP: one two 3     four five six *****\n             S                   D",
  );
  const p = pooled([exact, twoOff], 0.2);
  assert.deepEqual(p.words, { errors: 2, referenceLength: 13, rate: 2 / 13 });
  assert.equal(p.status, "pass", "2/13 = 15 % is within 20 % though one file alone is 29 %");
  assert.equal(pooled([exact, twoOff], 0.15).status, "fail");
  assert.equal(pooled([exact, twoOff], null).status, "skip");
  const broken: CaseRecord = { ...exact, status: "error", error: "engine crashed", wer: null, cer: null };
  assert.deepEqual(
    pooled([broken, twoOff], 0.3).words,
    { errors: 2, referenceLength: 7, rate: 2 / 7 },
    "unmeasured files are not pooled",
  );
});

test("a manifest's mistakes: a line that is not JSON (65, its line number), a missing audio file (66)", () => {
  const dir = tempDir("vox-manifest-");
  const wav = join(fixturesDir(), "tiny-delay", "jfk.wav");
  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, `${JSON.stringify({ audio: wav, text: "x" })}\n\n{oops\n`);
  assert.throws(
    () => readManifest(bad),
    (e: unknown) => e instanceof InputError && e.exitCode === 65 && /line 3 is not JSON/.test(e.message),
  );
  const missing = join(dir, "missing.jsonl");
  writeFileSync(missing, `${JSON.stringify({ audio: "nope.wav", text: "x" })}\n`);
  assert.throws(
    () => readManifest(missing),
    (e: unknown) => e instanceof InputError && e.exitCode === 66 && /nope\.wav does not exist/.test(e.message),
  );
  writeFileSync(missing, `${JSON.stringify({ audio: wav })}\n`);
  assert.throws(() => readManifest(missing), /lacks a string "audio" or "text"/);
});

test("vox accuracy --reference and --manifest on the real engine: WER known by construction, pooled, --max-wer", async () => {
  const model = join(fixturesDir(), "tiny-delay");
  const wav = join(model, "jfk.wav");
  const delay = String(readFixture(model).delayMs); // what vox accuracy runs the fixture with
  const hyp = words(
    parseEngineJson<{ text: string }>(
      await runEngine(["-d", model, "-i", wav, "--backend", "cpu", "--delay-ms", delay, "--json"]),
    ).text,
  );
  assert.ok(hyp.length >= 2, `the fixture's text has words: ${hyp.join(" ")}`);
  // One word substituted and one extra reference word: 2 errors over hyp.length + 1 reference words.
  const refWords = [...hyp];
  refWords[1] = "zzzz";
  refWords.push("extra");
  const dir = tempDir("vox-reference-");
  writeFileSync(join(dir, "jfk.txt"), `${refWords.join(" ")}\n`);
  const expected = 2 / refWords.length;
  // At the limit the pooled WER passes (exit 0); just under it, it fails the run (exit 2).
  const limits = [
    { maxWer: expected, exitCode: 0, status: "pass" },
    { maxWer: expected * 0.99, exitCode: 2, status: "fail" },
  ] as const;
  const ref = join(dir, "jfk.txt");
  for (const { maxWer, exitCode, status } of limits) {
    const out = await vox([
      "accuracy",
      "--model",
      model,
      "--audio",
      wav,
      "--reference",
      ref,
      "--candidate",
      "cpu",
      "--max-wer",
      String(maxWer),
    ]);
    assert.equal(out.exitCode, exitCode, out.stderr + out.stdout);
    const r = report<AccuracyReport>(out, "accuracy-");
    assert.equal(r.status, status);
    assert.equal(r.baseline.kind, "reference");
    assert.equal(r.cases[0]!.wer!.rate, expected);
    assert.deepEqual(r.pooled, {
      words: { errors: 2, referenceLength: refWords.length, rate: expected },
      chars: r.pooled!.chars,
      maxWer,
      status,
    });
    assert.match(out.stdout, /pooled WER \d+\.\d\d % \(2 errors \/ \d+ reference words\)/);
  }
  // Manifest: the same file twice, once with its exact text: 2 errors over 2 × hyp.length + 1 words.
  writeFileSync(join(dir, "..", `${dir.split("/").at(-1)}-jfk.wav`), Buffer.alloc(0));
  writeFileSync(join(dir, "set.jsonl"), JSON.stringify({ audio: `../${dir.split("/").at(-1)}-jfk.wav`, text: "x" }));
  const m = await vox(["accuracy", "--model", model, "--manifest", join(dir, "set.jsonl"), "--candidate", "cpu"]);
  rmSync(join(dir, "..", `${dir.split("/").at(-1)}-jfk.wav`));
  assert.equal(m.exitCode, 65, `an audio path is relative to the manifest (here an empty file): ${m.stderr}`);
  assert.match(m.stderr, /manifest line 1: audio .*-jfk\.wav is empty/);
  writeFileSync(
    join(dir, "set.jsonl"),
    [
      { audio: wav, text: hyp.join(" ") },
      { audio: wav, text: refWords.join(" ") },
    ]
      .map((o) => JSON.stringify(o))
      .join("\n"),
  );
  const m2 = await vox(["accuracy", "--model", model, "--manifest", join(dir, "set.jsonl"), "--candidate", "cpu"]);
  assert.equal(m2.exitCode, 0, m2.stderr);
  const r2 = report<AccuracyReport>(m2, "accuracy-");
  assert.deepEqual(
    r2.cases.map((c) => c.wer!.rate),
    [0, expected],
  );
  assert.deepEqual(r2.pooled!.words, {
    errors: 2,
    referenceLength: 2 * hyp.length + 1,
    rate: 2 / (2 * hyp.length + 1),
  });
  assert.equal(r2.pooled!.status, "skip");
  const mixed = await vox(["accuracy", "--model", model, "--manifest", join(dir, "set.jsonl"), "--baseline", "cpu"]);
  assert.equal(mixed.exitCode, 64);
});

test("gate config: a reference entry needs its manifest; maxWer and the manifest path come through", () => {
  const base = { name: "wer", model: "m", tier: "strict" };
  assert.throws(
    () => normalizeConfig({ accuracy: [{ ...base, baseline: "reference" }] }, "/ci/gate.json"),
    /needs both "baseline": "reference" and "manifest"/,
  );
  assert.throws(
    () => normalizeConfig({ accuracy: [{ ...base, baseline: "cpu", manifest: "x.jsonl" }] }, "/ci/gate.json"),
    /needs both/,
  );
  const c = normalizeConfig(
    { accuracy: [{ ...base, baseline: "reference", manifest: "samples/set.jsonl", maxWer: 0.12 }] },
    "/ci/gate.json",
  );
  assert.equal(c.accuracy[0]!.manifest, "/ci/samples/set.jsonl");
  assert.equal(c.accuracy[0]!.maxWer, 0.12);
  assert.equal(c.accuracy[0]!.baseline, "reference");
});
