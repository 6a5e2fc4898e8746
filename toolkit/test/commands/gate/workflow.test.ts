// ci/github/voxtral-gate.yml only uses flags that `vox gate` and `vox-doctor` really have, uploads
// the reports, and runs on a matrix of runner labels.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../../src/lib/paths.js";
import { vox } from "../vox-cli.js";

const workflow = readFileSync(join(packageRoot(), "ci", "github", "voxtral-gate.yml"), "utf8");

test("the workflow's vox gate flags exist", async () => {
  const line = workflow.split("\n").find((l) => /npx vox gate /.test(l));
  assert.ok(line, "the workflow runs npx vox gate");
  const flags = [...line.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!);
  assert.ok(flags.length >= 4);
  const help = (await vox(["gate", "--help"])).stdout;
  for (const f of flags) assert.ok(help.includes(f), `vox gate --help lacks ${f}`);
});

test("matrix over runner labels, reports uploaded even on failure", () => {
  assert.match(workflow, /runs-on: \$\{\{ matrix\.labels \}\}/);
  assert.match(workflow, /labels: \[self-hosted, [^\]]*gpu/);
  assert.match(workflow, /uses: actions\/upload-artifact@v4\n\s+with:\n\s+name: vox-reports-/);
  assert.match(workflow, /- name: Upload reports\n\s+if: always\(\)/);
});
