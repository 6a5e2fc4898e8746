// `vox gate` end to end with the real CPU engine: the repository's config passes; a fixture whose
// golden tokens are perturbed fails beyond the tolerance and passes within it; engine crashes and
// hangs are reported in words.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { GateReport } from "../../../src/commands/gate/run.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { fakeEngine, HANG, perturbedFixture, report, SEGFAULT, tempDir, vox } from "../vox-cli.js";

function config(entries: object[], extra: object = {}): string {
  const p = join(tempDir("vox-gate-"), "gate.json");
  writeFileSync(p, JSON.stringify({ build: { skip: true }, accuracy: entries, ...extra }));
  return p;
}

test("the repository's ci/gate.json passes on the CPU engine", async () => {
  const r = await vox(["gate", "--config", join(packageRoot(), "ci", "gate.json"), "--skip-build", "--candidate", "cpu"]);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const g = report<GateReport>(r, "gate-");
  assert.deepEqual(schemaErrors("gate", g), []);
  assert.equal(g.stages.filter((s) => s.stage === "accuracy").length, 4);
  assert.ok(g.stages.every((s) => s.status === "pass" || s.stage === "build"));
  assert.ok(Object.keys(r.reports).some((n) => n.startsWith("accuracy-tiny-delay-golden-")), "each entry writes its own report");
  assert.match(r.stdout, /gate PASS/);
});

test("perturbed golden tokens: FAIL beyond the tolerance, PASS within it", async () => {
  const model = perturbedFixture("tiny-real-windows", [30]);
  const over = await vox(["gate", "--config", config([{ name: "strict", model, baseline: "golden", tier: "strict", candidate: "cpu" }])]);
  assert.equal(over.exitCode, 2);
  const stage = report<GateReport>(over, "gate-").stages.find((s) => s.stage === "accuracy")!;
  assert.equal(stage.status, "fail");
  assert.match(stage.detail, /tokenDiff 0\.0175\d* > limit 0/);
  assert.match(over.stdout, /gate FAIL/);
  const within = await vox(["gate", "--config", config([{ name: "loose", model, baseline: "golden", tier: "strict", candidate: "cpu", tolerance: { maxTokenDiff: 0.02 } }])]);
  assert.equal(within.exitCode, 0, within.stdout);
  assert.equal(report<GateReport>(within, "gate-").stages.find((s) => s.stage === "accuracy")!.metrics!.tokenDiff, 1 / 57);
});

test("a crashing or hanging engine fails the gate with the reason in words", async () => {
  const model = join(packageRoot(), "checks", "fixtures", "tiny-real-windows");
  const entries = [{ name: "e", model, baseline: "golden", tier: "strict", candidate: "cpu" }];
  const crash = await vox(["gate", "--config", config(entries, { smoke: [{ model, backend: "cpu" }] })], { VOX_ENGINE: fakeEngine(SEGFAULT) });
  assert.equal(crash.exitCode, 2, crash.stderr);
  const stages = report<GateReport>(crash, "gate-").stages;
  assert.match(stages.find((s) => s.stage === "smoke")!.detail, /file: engine crashed: segmentation fault \(SIGSEGV, signal 11\)/);
  assert.match(stages.find((s) => s.stage === "accuracy")!.detail, /segmentation fault/);
  const hang = await vox(["gate", "--config", config(entries, { timeoutSeconds: 1 })], { VOX_ENGINE: fakeEngine(HANG) });
  assert.equal(hang.exitCode, 2, hang.stderr);
  assert.match(report<GateReport>(hang, "gate-").stages.find((s) => s.stage === "accuracy")!.detail, /engine timed out after 1000 ms and was killed/);
});

test("a missing or invalid config is an input error with a fix", async () => {
  const r = await vox(["gate", "--config", "/nonexistent/gate.json"]);
  assert.equal(r.exitCode, 66);
  assert.match(r.stderr, /gate config \/nonexistent\/gate\.json not found\. Pass --config FILE/);
});
