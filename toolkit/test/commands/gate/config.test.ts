// Gate config: the repository's ci/gate.json is valid and points at real fixtures; bad configs are
// refused with the schema's complaint.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { expandVars, loadGateConfig, normalizeConfig } from "../../../src/commands/gate/config.js";
import { packageRoot } from "../../../src/lib/paths.js";

test("ci/gate.json validates and its paths resolve next to the config", () => {
  const c = loadGateConfig(join(packageRoot(), "ci", "gate.json"));
  assert.ok(c.accuracy.length >= 3);
  for (const a of c.accuracy) assert.ok(existsSync(join(a.model, "params.json")), a.model);
  for (const s of c.smoke) assert.ok(existsSync(s.model), s.model);
  assert.equal(c.build.backend, "cpu");
});

test("defaults, report baselines resolved, keywords kept", () => {
  const c = normalizeConfig(
    {
      accuracy: [
        { name: "a", model: "m", baseline: "old/report.json", tier: "relaxed" },
        { name: "b", model: "/abs/m", baseline: "cpu", tier: "exact", candidate: "cuda", tolerance: { maxWer: 0.1 } },
      ],
    },
    "/cfg/ci/gate.json",
  );
  assert.equal(c.timeoutSeconds, 300);
  assert.deepEqual(c.build, { skip: false, backend: "cpu", arch: "native" });
  assert.equal(c.accuracy[0]!.model, "/cfg/ci/m");
  assert.equal(c.accuracy[0]!.baseline, "/cfg/ci/old/report.json");
  assert.equal(c.accuracy[0]!.candidate, "auto");
  assert.equal(c.accuracy[1]!.baseline, "cpu");
  assert.deepEqual(c.accuracy[1]!.tolerance, { maxWer: 0.1 });
});

test("invalid configs name the problem", () => {
  assert.throws(
    () => normalizeConfig({ accuracy: [{ name: "a", model: "m", baseline: "cpu" }] }, "g.json"),
    /g\.json is not a valid gate config: .*must have required property 'tier'/,
  );
  assert.throws(
    () => normalizeConfig({ accuracy: [{ name: "a", model: "m", baseline: "cpu", tier: "loose" }] }, "g.json"),
    /must be equal to one of the allowed values/,
  );
  assert.throws(() => normalizeConfig({ accuracy: [], extra: 1 }, "g.json"), /must NOT have additional properties/);
  const dup = { name: "a", model: "m", baseline: "cpu", tier: "strict" };
  assert.throws(() => normalizeConfig({ accuracy: [dup, dup] }, "g.json"), /"a" is used twice/);
});

test("${VAR} in paths expands from the environment; an unset variable is an error", () => {
  assert.equal(expandVars("${VOX_T_MODEL}/x", "g.json", { VOX_T_MODEL: "/models/voxtral" }), "/models/voxtral/x");
  assert.throws(() => expandVars("${VOX_T_UNSET}/x", "g.json", {}), /g\.json uses \$\{VOX_T_UNSET\}, which is not set/);
});
