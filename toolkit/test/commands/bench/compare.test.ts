// compare on a captured report (real CPU run on a fixture) and controlled variants of it; the CLI's
// exit code on a regression.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compareReports, parseThreshold, renderCompare } from "../../../src/commands/bench/compare.js";
import type { BenchReport } from "../../../src/commands/bench/types.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { fixture } from "../../helpers.js";

const captured = (): BenchReport => JSON.parse(readFileSync(fixture("bench", "report-cpu-tiny.json"), "utf8")) as BenchReport;

/** The captured report with the first result's wall times replaced. */
function withWall(wall: number[]): BenchReport {
  const r = captured();
  r.results[0]!.samples = r.results[0]!.samples.slice(0, wall.length).map((s, i) => ({ ...s, wallMs: wall[i]! }));
  return r;
}

const BASE = [100, 101, 99, 100, 100];

function verdict(next: number[]): string {
  const c = compareReports({ path: "a", report: withWall(BASE) }, { path: "b", report: withWall(next) }, { threshold: 0.05, alpha: 0.05 });
  return c.rows.find((r) => r.metric === "wallMs" && r.clip === "3.6s")!.verdict;
}

describe("bench compare", () => {
  it("parses thresholds", () => {
    assert.equal(parseThreshold("5%"), 0.05);
    assert.equal(parseThreshold("0.1"), 0.1);
    assert.throws(() => parseThreshold("5"), /--threshold/);
  });

  it("same report: every configuration and metric matched, nothing flagged", () => {
    const c = compareReports({ path: "a", report: captured() }, { path: "b", report: captured() }, { threshold: 0.05, alpha: 0.05 });
    assert.equal(c.rows.length, 2 * 5);
    assert.ok(c.rows.every((r) => r.verdict === "same" && r.ratio === 1 && r.p === 1));
    assert.deepEqual(schemaErrors("compare", c), []);
    assert.match(renderCompare(c), /0 regression\(s\), 0 improvement\(s\)/);
  });

  it("verdicts: regression, improvement, noise, same", () => {
    assert.equal(verdict([110, 111, 109, 110, 110]), "regression"); // +10 %, p ~ 1e-8
    assert.equal(verdict([90, 91, 89, 90, 90]), "improvement");
    assert.equal(verdict([80, 140, 110, 120, 90]), "noise"); // median +10 % but p = 0.50
    assert.equal(verdict([102, 103, 101, 102, 102]), "same"); // +2 %
  });

  it("Welch's numbers on the repetitions", () => {
    const c = compareReports({ path: "a", report: withWall(BASE) }, { path: "b", report: withWall([110, 111, 109, 110, 110]) }, { threshold: 0.05, alpha: 0.05 });
    const row = c.rows.find((r) => r.metric === "wallMs" && r.clip === "3.6s")!;
    // means 100 and 110, both variances 0.5: t = 10 / sqrt(0.2) = 22.36, df = 8
    assert.ok(Math.abs(row.t! - 10 / Math.sqrt(0.2)) < 1e-9);
    assert.ok(Math.abs(row.df! - 8) < 1e-9);
    assert.ok(row.p! < 1e-7);
    assert.equal(c.regressions, 1);
  });

  it("lists configurations present on one side only", () => {
    const next = captured();
    next.results = next.results.slice(0, 1);
    const c = compareReports({ path: "a", report: captured() }, { path: "b", report: next }, { threshold: 0.05, alpha: 0.05 });
    assert.deepEqual(c.unmatched, [{ backend: "cpu", clip: "11s", onlyIn: "base" }]);
  });

  it("CLI: exit 2 and REGRESSION on a slower report, 0 on the same, 65 on a non-report", () => {
    const dir = mkdtempSync(join(tmpdir(), "vox-compare-"));
    try {
      const base = join(dir, "base.json");
      const slow = join(dir, "slow.json");
      writeFileSync(base, JSON.stringify(withWall(BASE)));
      writeFileSync(slow, JSON.stringify(withWall([110, 111, 109, 110, 110])));
      const bin = join(packageRoot(), "dist", "toolkit", "src", "bin", "vox-bench.js");
      const env = { ...process.env, VOX_REPORTS_DIR: dir };
      const r = spawnSync(process.execPath, [bin, "compare", base, slow, "--threshold", "5%"], { env, encoding: "utf8" });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stdout, /REGRESSION/);
      const same = execFileSync(process.execPath, [bin, "compare", base, base, "--json"], { env, encoding: "utf8" });
      assert.equal((JSON.parse(same) as { regressions: number }).regressions, 0);
      const bad = spawnSync(process.execPath, [bin, "compare", base, join(packageRoot(), "package.json")], { env, encoding: "utf8" });
      assert.equal(bad.status, 65);
      assert.match(bad.stderr, /not a vox-bench report/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
