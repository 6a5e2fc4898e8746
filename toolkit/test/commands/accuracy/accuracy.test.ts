// `vox accuracy` end to end: the real CPU engine on the bundled fixtures, perturbed golden tokens,
// and fake engines that crash or hang.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AccuracyReport } from "../../../src/commands/accuracy/run.js";
import { fixturesDir } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { fakeEngine, HANG, perturbedFixture, report, SEGFAULT, tempDir, vox } from "../vox-cli.js";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const fixture = (n: string) => `${fixturesDir()}/${n}`;

test("the CPU engine matches every fixture's golden outputs under the strict tier", async () => {
  for (const name of ["tiny-real-windows", "tiny-small-windows", "tiny-delay"]) {
    const r = await vox(["accuracy", "--model", fixture(name), "--candidate", "cpu", "--csv"]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const rep = report<AccuracyReport>(r, "accuracy-");
    assert.deepEqual(schemaErrors("accuracy", rep), []);
    const c = rep.cases[0]!;
    assert.equal(rep.baseline.kind, "golden");
    assert.equal(c.tokens?.differing, 0);
    assert.ok(c.logits && c.logits.comparedSteps > 0 && c.logits.top1Agreement === 1, "golden logits compared");
    assert.ok(
      existsSync(`${r.reportsDir}/${Object.keys(r.reports)[0]!.replace(/\.json$/, ".md")}`),
      "Markdown report written",
    );
    assert.ok(existsSync(`${r.reportsDir}/${Object.keys(r.reports)[0]!.replace(/\.json$/, ".csv")}`), "CSV written");
  }
});

test("CPU against CPU is exact (deterministic), and an earlier report works as the baseline", async () => {
  const first = await vox([
    "accuracy",
    "--model",
    fixture("tiny-delay"),
    "--baseline",
    "cpu",
    "--candidate",
    "cpu",
    "--tier",
    "exact",
    "--keep-dumps",
  ]);
  assert.equal(first.exitCode, 0, first.stdout + first.stderr);
  const path = `${first.reportsDir}/${Object.keys(first.reports)[0]!}`;
  const again = await vox([
    "accuracy",
    "--model",
    fixture("tiny-delay"),
    "--baseline",
    path,
    "--candidate",
    "cpu",
    "--tier",
    "exact",
  ]);
  assert.equal(again.exitCode, 0, again.stdout + again.stderr);
  const rep = report<AccuracyReport>(again, "accuracy-");
  assert.equal(rep.baseline.kind, "report");
  assert.ok(rep.cases[0]!.logits, "the kept dumps of the earlier report give logits");
});

test("perturbed golden tokens: 1 of 57 fails strict and passes relaxed (2 %); 3 of 57 fail relaxed", async () => {
  const one = perturbedFixture("tiny-real-windows", [10]);
  const strict = await vox(["accuracy", "--model", one, "--candidate", "cpu", "--tier", "strict"]);
  assert.equal(strict.exitCode, 2);
  assert.match(strict.stdout, /tokenDiff = 0\.0175\d* \(limit <= 0\)/);
  assert.match(strict.stdout, /@10 .*\[-7-\] \{\+\d+\+\}/, "the token diff is shown");
  const relaxed = await vox(["accuracy", "--model", one, "--candidate", "cpu", "--tier", "relaxed"]);
  assert.equal(relaxed.exitCode, 0, relaxed.stdout);
  const three = await vox([
    "accuracy",
    "--model",
    perturbedFixture("tiny-real-windows", [5, 20, 40]),
    "--candidate",
    "cpu",
    "--tier",
    "relaxed",
  ]);
  assert.equal(three.exitCode, 2);
  assert.equal(report<AccuracyReport>(three, "accuracy-").cases[0]!.tokens?.differing, 3);
});

test("an engine crash and an engine hang are reported in words", async () => {
  const crash = await vox(["accuracy", "--model", fixture("tiny-real-windows"), "--candidate", "cpu"], {
    VOX_ENGINE: fakeEngine(SEGFAULT),
  });
  assert.equal(crash.exitCode, 2, crash.stderr);
  const c = report<AccuracyReport>(crash, "accuracy-").cases[0]!;
  assert.equal(c.status, "error");
  assert.match(c.error ?? "", /candidate: cpu run: engine crashed: segmentation fault \(SIGSEGV, signal 11\)/);
  assert.match(crash.stdout, /segmentation fault/);
  const hang = await vox(
    ["accuracy", "--model", fixture("tiny-real-windows"), "--candidate", "cpu", "--timeout", "1"],
    { VOX_ENGINE: fakeEngine(HANG) },
  );
  assert.equal(hang.exitCode, 2, hang.stderr);
  assert.match(
    report<AccuracyReport>(hang, "accuracy-").cases[0]!.error ?? "",
    /engine timed out after 1000 ms and was killed/,
  );
});

test("bad options are usage errors with a fix", async () => {
  const notFixture = tempDir("vox-not-fixture-");
  for (const f of ["params.json", "consolidated.safetensors", "tekken.json"]) writeFileSync(join(notFixture, f), "");
  const r = await vox(["accuracy", "--model", notFixture, "--baseline", "golden"]);
  assert.equal(r.exitCode, 64);
  assert.match(r.stderr, /--baseline golden needs a fixture folder.*Use --baseline cpu/);
});
