// The report schemas of build, smoke, accuracy and gate, pinned: their required keys are part of
// the contract with CI users (ci/gate.json, dashboards, vox matrix). Change them on purpose only,
// with SCHEMA_VERSION bumped when old reports stop validating.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { join } from "node:path";
import type { GateReport } from "../../../src/commands/gate/run.js";
import { packageRoot, schemaPath } from "../../../src/lib/paths.js";
import { evaluate, toleranceFor, type Measured } from "../../../src/lib/tolerance.js";
import { schemaErrors, SCHEMA_VERSION } from "../../../src/lib/report.js";

const PINNED: Record<string, string[]> = {
  environment: ["toolkit", "engine", "gpus", "driver", "cuda", "os", "host"],
  "build-info": [
    "schemaVersion",
    "kind",
    "builtAt",
    "backend",
    "commit",
    "compiler",
    "nvcc",
    "cudaHome",
    "archsRequested",
    "archsEmbedded",
    "backends",
    "blas",
    "make",
    "flags",
  ],
  build: [
    "schemaVersion",
    "kind",
    "createdAt",
    "environment",
    "backend",
    "archs",
    "prechecks",
    "steps",
    "buildInfo",
    "status",
    "error",
  ],
  smoke: [
    "schemaVersion",
    "kind",
    "createdAt",
    "environment",
    "model",
    "audio",
    "backendRequested",
    "backendExpected",
    "checks",
    "summary",
    "status",
  ],
  accuracy: [
    "schemaVersion",
    "kind",
    "createdAt",
    "environment",
    "model",
    "baseline",
    "candidate",
    "tier",
    "tierMeaning",
    "tolerance",
    "cases",
    "summary",
    "status",
  ],
  gate: [
    "schemaVersion",
    "kind",
    "createdAt",
    "environment",
    "config",
    "candidateOverride",
    "stages",
    "summary",
    "status",
  ],
  "gate-config": ["accuracy"],
};

test("required keys of each schema are pinned, and each compiles under ajv strict mode", () => {
  for (const [name, required] of Object.entries(PINNED)) {
    const schema = JSON.parse(readFileSync(schemaPath(name), "utf8")) as { required: string[]; $id: string };
    assert.deepEqual(schema.required, required, `${name}.schema.json required keys changed`);
    assert.equal(schema.$id, `${name}.schema.json`);
    assert.ok(schemaErrors(name, {}).length > 0 || name === "gate-config");
  }
  assert.equal(SCHEMA_VERSION, 1);
});

test("accuracy case shape is pinned (what the Markdown report and gate metrics read)", () => {
  type Defs = { $defs: Record<string, { required: string[]; $ref?: string }> };
  const s = JSON.parse(readFileSync(schemaPath("accuracy"), "utf8")) as Defs;
  assert.deepEqual(s.$defs.case!.required, [
    "audio",
    "status",
    "error",
    "baseline",
    "candidate",
    "tokens",
    "wer",
    "cer",
    "logits",
    "verdicts",
  ]);
  // the report's tolerance is the tier's limits of checks/tolerances.json, defined once in its schema
  assert.equal(s.$defs.tolerance!.$ref, "tolerances.schema.json#/$defs/tierLimits");
  const t = JSON.parse(readFileSync(schemaPath("tolerances"), "utf8")) as Defs;
  assert.deepEqual(t.$defs.tierLimits!.required, ["maxTokenDiff", "maxWer", "maxCer", "minTop1", "maxKl", "maxRelErr"]);
});

// A real gate report from the H200 (vox gate --backend cuda --arch 90 --candidate cuda), recorded
// under the first strict KL limit (1e-3), which tiny-delay exceeded by 0.4 %.
const H200 = JSON.parse(
  readFileSync(join(packageRoot(), "toolkit", "test", "fixtures", "gate", "h200-gate-cuda.json"), "utf8"),
) as GateReport;

test("the H200 gate report validates; its CUDA metrics pass strict as calibrated and fail exact", () => {
  assert.deepEqual(schemaErrors("gate", H200), []);
  assert.equal(H200.environment.gpus[0]!.name, "NVIDIA H200");
  const accuracy = H200.stages.filter((s) => s.stage === "accuracy");
  assert.equal(accuracy.length, 4);
  for (const s of accuracy) {
    const m = s.metrics as unknown as Measured;
    assert.equal(evaluate(m, toleranceFor("strict")).pass, true, s.name);
    assert.equal(evaluate(m, toleranceFor("exact")).pass, false, s.name);
  }
  assert.equal(H200.stages.find((s) => s.stage === "smoke")!.status, "pass");
});

test("the header's version and time, status values and summary counts are defined once, in common.schema.json", () => {
  type Json = { [k: string]: Json } | Json[] | string | number | boolean | null;
  const read = (name: string) => JSON.parse(readFileSync(schemaPath(name), "utf8")) as Record<string, Json>;
  const common = read("common").$defs as Record<string, Record<string, Json>>;
  const shared = Object.values(common)
    .map((d) => d.enum)
    .filter((e) => e !== undefined)
    .map((e) => JSON.stringify(e));
  const enums = (j: Json): string[] =>
    j === null || typeof j !== "object"
      ? []
      : Array.isArray(j)
        ? j.flatMap(enums)
        : Object.entries(j).flatMap(([k, v]) => (k === "enum" ? [JSON.stringify(v)] : enums(v)));
  const times: Record<string, string> = { doctor: "generatedAt", "build-info": "builtAt" };
  const ref = (def: string) => ({ $ref: `common.schema.json#/$defs/${def}` });
  for (const name of [
    "accuracy",
    "bench",
    "build",
    "build-info",
    "compare",
    "doctor",
    "gate",
    "live",
    "matrix",
    "smoke",
  ]) {
    const s = read(name);
    const props = s.properties as Record<string, Json>;
    assert.deepEqual(props.schemaVersion, ref("schemaVersion"), name);
    if (name !== "matrix") assert.deepEqual(props[times[name] ?? "createdAt"], ref("timestamp"), name);
    assert.deepEqual(
      enums(s).filter((e) => shared.includes(e)),
      [],
      `${name}.schema.json repeats a status list of common.schema.json`,
    );
  }
  for (const name of ["smoke", "gate"])
    assert.deepEqual((read(name).properties as Record<string, Json>).summary, ref("counts"));
});
