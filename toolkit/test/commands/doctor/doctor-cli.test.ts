// The doctor end to end: the real command on this machine, reports from captured fact sets, the
// schema, --strict, --markdown redaction, --save-facts / --facts, collectors that throw or hang.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { collectFacts } from "../../../src/commands/doctor/collect.js";
import { renderMarkdown, renderTable, wrap } from "../../../src/commands/doctor/render.js";
import { buildReport, type DoctorReport } from "../../../src/commands/doctor/report.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { linuxH100, wslRtx4090 } from "./scenarios.js";
import { trackedTempDir } from "../../../src/lib/cleanup.js";

const BIN = join(packageRoot(), "dist", "toolkit", "src", "bin", "vox-doctor.js");
const TOOLKIT = { version: "0.1.0", commit: "0123456789abcdef0123456789abcdef01234567" };
const tmp = trackedTempDir("vox-doctor-");

function doctor(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: tmp, timeout: 120_000 });
}

test("the real command on this machine: a complete, schema-valid JSON report; exit 2 (no model here)", () => {
  const r = doctor(["--json"]);
  assert.equal(r.status, 2, r.stderr);
  const report = JSON.parse(r.stdout) as DoctorReport;
  assert.deepEqual(schemaErrors("doctor", report), []);
  assert.deepEqual(
    report.checks.map((c) => c.id),
    ["platform", "gpu", "libcuda", "cublas", "toolkit", "cpu", "ffmpeg", "capture", "engine", "model"],
  );
  assert.equal(report.checks.find((c) => c.id === "model")?.status, "fail");
  for (const c of report.checks)
    if (c.status === "warn" || c.status === "fail") assert.ok(c.fix && c.fix.length > 10, `${c.id} has a fix`);
  assert.equal(report.exitCode, 2);
});

test("the table ends with the summary line; usage errors exit 64", () => {
  const r = doctor(["--backend", "cpu", "--model", join(packageRoot(), "checks", "fixtures", "tiny-delay")]);
  assert.match(r.stdout, /\n\d+ passed, \d+ warnings?, \d+ failed, 4 skipped\n$/);
  assert.match(r.stdout, /│ - │ gpu/);
  const bad = doctor(["--backend", "gpu"]);
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /^vox-doctor: error: .*Choices: "auto", "cpu", "cuda"/);
  assert.equal(doctor(["--json", "--markdown"]).status, 64);
});

test("--save-facts then --facts replays the same verdicts", () => {
  const file = join(tmp, "facts.json");
  const first = doctor(["--json", "--save-facts", file]);
  const replay = doctor(["--json", "--facts", file]);
  const a = JSON.parse(first.stdout) as DoctorReport;
  const b = JSON.parse(replay.stdout) as DoctorReport;
  assert.deepEqual(
    b.checks.map((c) => [c.id, c.status, c.detail]),
    a.checks.map((c) => [c.id, c.status, c.detail]),
  );
  assert.equal(JSON.parse(readFileSync(file, "utf8")).factsVersion, 1);
  const missing = doctor(["--facts", join(tmp, "nope.json")]);
  assert.equal(missing.status, 66);
  assert.match(missing.stderr, /cannot read fact set/);
  writeFileSync(join(tmp, "broken.json"), "{");
  const broken = doctor(["--facts", join(tmp, "broken.json")]);
  assert.equal(broken.status, 65, "an existing file that is not JSON is bad input, not missing input");
  assert.match(broken.stderr, /cannot read fact set .*broken\.json/);
});

test("healthy fact sets: exit 0; --strict turns warnings into exit 1; failures exit 2", () => {
  const ok = buildReport(linuxH100(), { backend: "auto", strict: true, toolkit: TOOLKIT });
  assert.deepEqual(ok.summary, { passed: 10, warnings: 0, failed: 0, skipped: 0 });
  assert.equal(ok.exitCode, 0);
  assert.deepEqual(schemaErrors("doctor", ok), []);
  assert.match(renderTable(ok), /\n10 passed, 0 warnings, 0 failed$/);
  const f = wslRtx4090();
  f.ffmpeg = { path: null, version: null };
  assert.equal(buildReport(f, { backend: "auto", strict: false, toolkit: TOOLKIT }).exitCode, 0);
  assert.equal(buildReport(f, { backend: "auto", strict: true, toolkit: TOOLKIT }).exitCode, 1);
  f.nvidiaSmi = null;
  assert.equal(buildReport(f, { backend: "auto", strict: false, toolkit: TOOLKIT }).exitCode, 2);
});

test("the environment block carries GPU, driver, CUDA and OS facts from the fact set", () => {
  const e = buildReport(wslRtx4090(), { backend: "auto", strict: false, toolkit: TOOLKIT }).environment;
  assert.deepEqual(e.gpus, [{ index: 0, name: "NVIDIA GeForce RTX 4090", computeCapability: "8.9", totalMb: 24564 }]);
  assert.deepEqual(e.driver, { version: "576.88", cudaVersion: "12.9" });
  assert.equal(e.os.wsl, 2);
  assert.equal(e.engine.commit, "abc1234");
  assert.equal(e.cuda.nvccVersion, "12.4");
});

test("--markdown removes the host name, GPU UUIDs and the home folder", () => {
  const f = linuxH100();
  f.nvidiaSmi!.stdout = f.nvidiaSmi!.stdout.replace("81003", "100");
  const report = buildReport(f, { backend: "auto", strict: false, toolkit: TOOLKIT });
  report.checks[0]!.detail += " on gpu-node-17 (GPU-3f9a2c1e-7b4d-4e8a-9c61-2d5f8e0a1b7c)";
  const md = renderMarkdown(report, "gpu-node-17", "/home/ada");
  assert.doesNotMatch(md, /gpu-node-17|3f9a2c1e|\/home\/ada/);
  assert.match(md, /<host> \(GPU-<uuid>\)/);
  assert.match(md, /~\/vox\/engine\/build\/voxtral/);
  assert.match(md, /\| ! warn \| gpu \| GPU 0 has 100 MiB free/);
  assert.match(md, /\*\*9 passed, 1 warning, 0 failed\*\*/);
});

test("a collector that throws or hangs is recorded; the others still collect", async () => {
  const f = await collectFacts(
    { modelDir: "/nonexistent", timeoutMs: 200 },
    {
      async broken() {
        throw new Error("ldconfig exploded");
      },
      async hang() {
        await new Promise((r) => setTimeout(r, 5000).unref());
      },
      async platform(facts) {
        facts.platform.glibc = "9.99";
      },
    },
  );
  assert.equal(f.collectorErrors.broken, "ldconfig exploded");
  assert.match(f.collectorErrors.hang!, /collector hang timed out after 200 ms/);
  assert.equal(f.platform.glibc, "9.99");
});

test("table cells wrap at spaces and cut paths longer than a line", () => {
  assert.equal(wrap("aa bb cc", 5), "aa bb\ncc");
  assert.equal(wrap("x /a/very/long/path", 6), "x\n/a/ver\ny/long\n/path");
  assert.equal(wrap("one\ntwo", 10), "one\ntwo");
});
