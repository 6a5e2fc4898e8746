// The real fact set captured by `vox-doctor --save-facts` on the team's GPU machine (one H200,
// driver 580.159.04, CUDA 13.0 toolkit, cuBLAS 13.1, engine built there with `make cuda ARCH=native`).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { collectModel } from "../../../src/commands/doctor/collect.js";
import type { Facts } from "../../../src/commands/doctor/facts.js";
import { buildReport } from "../../../src/commands/doctor/report.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { fixture } from "../../helpers.js";
import { ALL_PASS, statuses, verdicts } from "./scenarios.js";

const load = (): Facts => JSON.parse(readFileSync(fixture("doctor", "h200-gpu-machine.facts.json"), "utf8")) as Facts;

test("H200 machine: everything passes but ffmpeg (not installed there)", () => {
  const v = verdicts(load());
  assert.deepEqual(statuses(load()), { ...ALL_PASS, ffmpeg: "warn", capture: "skip" });
  assert.match(
    v.gpu!.detail,
    /GPU 0: NVIDIA H200, cc 9\.0, driver 580\.159\.04 \(CUDA 13\.0\), 143771 MiB total, 143156 MiB free/,
  );
  assert.match(v.libcuda!.detail, /libcuda\.so\.1 -> \/usr\/local\/nvidia\/lib64\/libcuda\.so\.1 \(LD_LIBRARY_PATH\)/);
  assert.match(
    v.libcuda!.detail,
    /cuInit ok: \/usr\/local\/nvidia\/lib64\/libcuda\.so\.580\.159\.04, driver supports CUDA 13\.0, 1 device/,
  );
  assert.match(
    v.cublas!.detail,
    /libcublas\.so\.13 -> \/usr\/local\/cuda-13\.0\/targets\/x86_64-linux\/lib\/libcublas\.so\.13\.1\.0\.3 \(version 13\.1\.0\)/,
  );
  assert.match(v.engine!.detail, /backends cpu\+cuda; .*kernels sm_90$/);
});

test("H200 machine: the real model (9.3 GB with its KV cache) fits; the report is valid and exits 0", () => {
  const f = load();
  f.model = collectModel("/nonexistent-model");
  assert.match(
    verdicts(f).gpu!.detail,
    /model needs 9281 MiB \(weights 8449 MiB \+ KV cache 832 MiB, the real 4B model\)/,
  );
  const r = buildReport(load(), { backend: "auto", strict: false, toolkit: { version: "0.1.0", commit: null } });
  assert.deepEqual(schemaErrors("doctor", r), []);
  assert.equal(r.exitCode, 0);
  assert.deepEqual(r.environment.driver, { version: "580.159.04", cudaVersion: "13.0" });
  assert.equal(
    buildReport(load(), { backend: "auto", strict: true, toolkit: { version: "0.1.0", commit: null } }).exitCode,
    1,
  );
});

test("the same machine with its kernels stripped: an engine without sm_90 fails on the H200", () => {
  const f = load();
  const info = JSON.parse(f.engine.info!.stdout);
  f.engine.info!.stdout = JSON.stringify({ ...info, cuda_archs: ["sm_80", "sm_120"] });
  const e = verdicts(f).engine!;
  assert.equal(e.status, "fail");
  assert.match(e.detail, /no embedded kernel runs on GPU 0 \(NVIDIA H200, sm_90\); embedded: sm_80, sm_120/);
});
