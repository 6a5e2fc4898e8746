// `vox build --backend cpu` end to end: pre-checks, make (a no-op after npm test's build), the
// validated build-info.json beside the binary and the build report.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { BuildReport } from "../../../src/commands/build/run.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { report, vox } from "../vox-cli.js";

test("a CPU build passes its pre-checks, runs make and writes build-info.json", async () => {
  const r = await vox(["build", "--backend", "cpu", "--csv"]);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const rep = report<BuildReport>(r, "build-");
  assert.deepEqual(schemaErrors("build", rep), []);
  assert.deepEqual(
    rep.prechecks.map((p) => p.id),
    ["platform", "cpu"],
  );
  assert.equal(rep.steps[0]!.command, `make -C ${join(packageRoot(), "engine")}`);
  const info = JSON.parse(readFileSync(join(packageRoot(), "engine", "build", "build-info.json"), "utf8")) as Record<
    string,
    unknown
  >;
  assert.deepEqual(schemaErrors("build-info", info), []);
  assert.ok((info.backends as string[]).includes("cpu"));
  assert.match(String(info.compiler), /gcc|clang|cc/i);
  assert.match(r.stdout, /build passed/);
});
