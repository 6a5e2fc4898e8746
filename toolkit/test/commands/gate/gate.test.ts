// `vox gate` end to end with the real CPU engine: the repository's config passes; a fixture whose
// golden tokens are perturbed fails beyond the tolerance and passes within it; engine crashes and
// hangs are reported in words.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gateVerdict, type GateReport, type Stage } from "../../../src/commands/gate/run.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { fakeEngine, HANG, perturbedFixture, report, SEGFAULT, tempDir, vox } from "../vox-cli.js";

function config(entries: object[], extra: object = {}): string {
  const p = join(tempDir("vox-gate-"), "gate.json");
  writeFileSync(p, JSON.stringify({ build: { skip: true }, accuracy: entries, ...extra }));
  return p;
}

test("the repository's ci/gate.json passes on the CPU engine", async () => {
  const r = await vox([
    "gate",
    "--config",
    join(packageRoot(), "ci", "gate.json"),
    "--skip-build",
    "--candidate",
    "cpu",
  ]);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const g = report<GateReport>(r, "gate-");
  assert.deepEqual(schemaErrors("gate", g), []);
  assert.equal(g.stages.filter((s) => s.stage === "accuracy").length, 4);
  assert.ok(g.stages.every((s) => s.status === "pass" || s.stage === "build"));
  assert.ok(
    Object.keys(r.reports).some((n) => n.startsWith("accuracy-tiny-delay-golden-")),
    "each entry writes its own report",
  );
  assert.match(r.stdout, /gate PASS/);
});

test("perturbed golden tokens: FAIL beyond the tolerance, PASS within it", async () => {
  const model = perturbedFixture("tiny-real-windows", [30]);
  const over = await vox([
    "gate",
    "--config",
    config([{ name: "strict", model, baseline: "golden", tier: "strict", candidate: "cpu" }]),
  ]);
  assert.equal(over.exitCode, 2);
  const stage = report<GateReport>(over, "gate-").stages.find((s) => s.stage === "accuracy")!;
  assert.equal(stage.status, "fail");
  assert.match(stage.detail, /tokenDiff 0\.0175\d* > limit 0/);
  assert.match(over.stdout, /gate FAIL/);
  const within = await vox([
    "gate",
    "--config",
    config([
      { name: "loose", model, baseline: "golden", tier: "strict", candidate: "cpu", tolerance: { maxTokenDiff: 0.02 } },
    ]),
  ]);
  assert.equal(within.exitCode, 0, within.stdout);
  assert.equal(
    report<GateReport>(within, "gate-").stages.find((s) => s.stage === "accuracy")!.metrics!.tokenDiff,
    1 / 57,
  );
});

test("a crashing or hanging engine fails the gate with the reason in words", async () => {
  const model = join(packageRoot(), "checks", "fixtures", "tiny-real-windows");
  const entries = [{ name: "e", model, baseline: "golden", tier: "strict", candidate: "cpu" }];
  const crash = await vox(["gate", "--config", config(entries, { smoke: [{ model, backend: "cpu" }] })], {
    VOX_ENGINE: fakeEngine(SEGFAULT),
  });
  assert.equal(crash.exitCode, 2, crash.stderr);
  const stages = report<GateReport>(crash, "gate-").stages;
  assert.match(
    stages.find((s) => s.stage === "smoke")!.detail,
    /file: engine crashed: segmentation fault \(SIGSEGV, signal 11\)/,
  );
  assert.match(stages.find((s) => s.stage === "accuracy")!.detail, /segmentation fault/);
  const hang = await vox(["gate", "--config", config(entries, { timeoutSeconds: 1 })], {
    VOX_ENGINE: fakeEngine(HANG),
  });
  assert.equal(hang.exitCode, 2, hang.stderr);
  assert.match(
    report<GateReport>(hang, "gate-").stages.find((s) => s.stage === "accuracy")!.detail,
    /engine timed out after 1000 ms and was killed/,
  );
});

test("a missing or invalid config is an input error with a fix", async () => {
  const r = await vox(["gate", "--config", "/nonexistent/gate.json"]);
  assert.equal(r.exitCode, 66);
  assert.match(r.stderr, /gate config \/nonexistent\/gate\.json not found\. Pass --config FILE/);
});

test("verdict over mixed stages: any fail or error fails and is named; skips alone do not pass", () => {
  const st = (stage: Stage["stage"], name: string, status: Stage["status"]): Stage => ({
    stage,
    name,
    status,
    detail: "",
    report: null,
    metrics: null,
  });
  const mixed = gateVerdict([
    st("build", "build cpu", "pass"),
    st("accuracy", "a", "pass"),
    st("accuracy", "b", "fail"),
  ]);
  assert.equal(mixed.status, "fail");
  assert.deepEqual(mixed.failing, ["accuracy b"]);
  assert.deepEqual(mixed.summary, { passed: 2, failed: 1, skipped: 0 });
  assert.equal(gateVerdict([st("smoke", "s", "error"), st("accuracy", "a", "pass")]).status, "fail");
  assert.equal(gateVerdict([st("build", "build", "skip"), st("accuracy", "a", "pass")]).status, "pass");
  assert.equal(gateVerdict([st("build", "build", "skip")]).status, "fail", "nothing ran");
});

test("one entry within tolerance and one beyond: the gate fails and names the failing entry", async () => {
  const bad = perturbedFixture("tiny-real-windows", [30]);
  const good = join(packageRoot(), "checks", "fixtures", "tiny-real-windows");
  const r = await vox([
    "gate",
    "--config",
    config([
      { name: "good", model: good, baseline: "golden", tier: "strict", candidate: "cpu" },
      { name: "bad", model: bad, baseline: "golden", tier: "strict", candidate: "cpu" },
    ]),
  ]);
  assert.equal(r.exitCode, 2, r.stdout + r.stderr);
  const stages = report<GateReport>(r, "gate-").stages.filter((s) => s.stage === "accuracy");
  assert.deepEqual(
    stages.map((s) => s.status),
    ["pass", "fail"],
  );
  assert.match(r.stdout, /gate FAIL: 1 passed, 1 failed \(failed: accuracy bad \(golden vs cpu, strict\)\)/);
  assert.ok(stages.every((s) => s.asked === "cpu" && s.ranOn?.join() === "cpu"));
  assert.match(stages[0]!.detail, /candidate ran on cpu/);
});

test("building for CUDA asks the auto entries for cuda: on a machine where CUDA cannot run the gate fails, saying so", async (t) => {
  const model = join(packageRoot(), "checks", "fixtures", "tiny-real-windows");
  const info = await vox(["doctor", "--backend", "cuda", "--json"]);
  const gpu =
    (JSON.parse(info.stdout) as { checks: Array<{ id: string; status: string }> }).checks.find(
      (c) => c.id === "libcuda",
    )?.status === "pass";
  if (gpu) {
    t.skip("this machine can run CUDA");
    return;
  }
  const cfg = config([{ name: "auto", model, baseline: "golden", tier: "strict" }], {
    smoke: [{ model, backend: "auto" }],
  });
  const r = await vox(["gate", "--config", cfg, "--skip-build", "--backend", "cuda"]);
  assert.equal(r.exitCode, 2, r.stdout + r.stderr);
  const g = report<GateReport>(r, "gate-");
  assert.deepEqual(schemaErrors("gate", g), []);
  for (const s of g.stages.filter((x) => x.stage !== "build")) {
    assert.ok(s.status === "fail" || s.status === "error", s.detail);
    assert.equal(s.asked, "cuda");
    assert.match(s.detail, /asked for cuda: the engine cannot use CUDA here/);
  }
  // The same config without the CUDA build passes on the CPU, and says where it ran.
  const cpu = await vox(["gate", "--config", cfg, "--skip-build"]);
  assert.equal(cpu.exitCode, 0, cpu.stdout + cpu.stderr);
  assert.ok(
    report<GateReport>(cpu, "gate-")
      .stages.filter((x) => x.stage !== "build")
      .every((s) => s.ranOn?.join() === "cpu" && /ran on cpu/.test(s.detail)),
  );
});
