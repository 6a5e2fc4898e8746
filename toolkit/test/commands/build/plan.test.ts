// The pure parts of `vox build`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { blocking, makeSteps, missingArchs, parseArchs, precheckIds } from "../../../src/commands/build/plan.js";

test("architecture lists: numbers, sm_ names, native from the GPUs, errors with a fix", () => {
  assert.deepEqual(parseArchs("90,80, sm_86,90", []), ["sm_80", "sm_86", "sm_90"]);
  assert.deepEqual(parseArchs("native", ["9.0", "8.6", "9.0"]), ["sm_86", "sm_90"]);
  assert.throws(
    () => parseArchs("native", []),
    (e: Error & { fix?: string }) => /needs a visible GPU/.test(e.message) && /--arch 80,86,89,90/.test(e.fix ?? ""),
  );
  assert.throws(() => parseArchs("ampere", []), /"ampere" is not an architecture/);
});

test("make steps: cpu alone, cuda adds the kernels with ARCH", () => {
  assert.deepEqual(makeSteps("cpu", [], "/e"), [{ name: "engine (cpu)", args: ["-C", "/e"] }]);
  assert.deepEqual(makeSteps("cuda", ["sm_80", "sm_90"], "/e")[1], {
    name: "kernels (sm_80 sm_90)",
    args: ["-C", "/e", "cuda", "ARCH=80 90"],
  });
  assert.deepEqual(missingArchs(["sm_80", "sm_120"], ["sm_80", "sm_90"]), ["sm_120"]);
});

test("pre-checks: fails stop every build; a toolkit warning (no nvcc) stops only CUDA builds", () => {
  assert.deepEqual(precheckIds("cpu"), ["platform", "cpu"]);
  assert.ok(precheckIds("all").includes("toolkit"));
  const v = [
    { id: "cpu", status: "pass" as const, detail: "", fix: null },
    { id: "toolkit", status: "warn" as const, detail: "nvcc not found", fix: "install" },
  ];
  assert.deepEqual(blocking(v, "cpu"), []);
  assert.deepEqual(
    blocking(v, "cuda").map((x) => x.id),
    ["toolkit"],
  );
  assert.deepEqual(
    blocking([{ id: "cpu", status: "fail", detail: "no cc", fix: "apt" }], "cpu").map((x) => x.id),
    ["cpu"],
  );
});
