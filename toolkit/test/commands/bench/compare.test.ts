// compare on a captured report (real CPU run on a fixture) and controlled variants of it; the CLI's
// exit code on a regression.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compareReports, holmSignificant, parseThreshold, renderCompare } from "../../../src/commands/bench/compare.js";
import type { BenchReport } from "../../../src/commands/bench/types.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { fixture } from "../../helpers.js";

const captured = (): BenchReport =>
  JSON.parse(readFileSync(fixture("bench", "report-cpu-tiny.json"), "utf8")) as BenchReport;

/** The captured report with the first result's wall times replaced. */
function withWall(wall: number[]): BenchReport {
  const r = captured();
  r.results[0]!.samples = r.results[0]!.samples.slice(0, wall.length).map((s, i) => ({ ...s, wallMs: wall[i]! }));
  return r;
}

const BASE = [100, 101, 99, 100, 100];

function verdict(next: number[]): string {
  const c = compareReports(
    { path: "a", report: withWall(BASE) },
    { path: "b", report: withWall(next) },
    { threshold: 0.05, alpha: 0.05 },
  );
  return c.rows.find((r) => r.metric === "wallMs" && r.clip === "3.6s")!.verdict;
}

describe("bench compare", () => {
  it("parses thresholds", () => {
    assert.equal(parseThreshold("5%"), 0.05);
    assert.equal(parseThreshold("0.1"), 0.1);
    assert.throws(() => parseThreshold("5"), /--threshold/);
  });

  it("same report: every configuration and metric matched, nothing flagged", () => {
    const c = compareReports(
      { path: "a", report: captured() },
      { path: "b", report: captured() },
      { threshold: 0.05, alpha: 0.05 },
    );
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
    const c = compareReports(
      { path: "a", report: withWall(BASE) },
      { path: "b", report: withWall([110, 111, 109, 110, 110]) },
      { threshold: 0.05, alpha: 0.05 },
    );
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
    const c = compareReports(
      { path: "a", report: captured() },
      { path: "b", report: next },
      { threshold: 0.05, alpha: 0.05 },
    );
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
      const r = spawnSync(process.execPath, [bin, "compare", base, slow, "--threshold", "5%"], {
        env,
        encoding: "utf8",
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stdout, /REGRESSION/);
      const same = execFileSync(process.execPath, [bin, "compare", base, base, "--json"], { env, encoding: "utf8" });
      assert.equal((JSON.parse(same) as { regressions: number }).regressions, 0);
      const bad = spawnSync(process.execPath, [bin, "compare", base, join(packageRoot(), "package.json")], {
        env,
        encoding: "utf8",
      });
      assert.equal(bad.status, 65);
      assert.match(bad.stderr, /not a vox-bench report/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("two real runs of the same build (committed fixtures): no change, although Welch alone flags two rows", () => {
    const load = (n: number) =>
      JSON.parse(readFileSync(fixture("bench", `same-build-${n}.json`), "utf8")) as BenchReport;
    const c = compareReports(
      { path: "1", report: load(1) },
      { path: "2", report: load(2) },
      { threshold: 0.05, alpha: 0.05 },
    );
    assert.equal(c.rows.length, 10);
    assert.equal(c.regressions + c.improvements, 0);
    assert.ok(
      c.rows.filter((r) => r.p !== null && r.p < 0.05 && Math.abs(r.ratio! - 1) > 0.05).length >= 1,
      "uncorrected, a row would be flagged",
    );
    assert.match(renderCompare(c), /no change: no median moved beyond 5\.0% with significance/);
  });

  it("synthetic sample sets: the same distribution is no change in (nearly) every trial; a 15 % slower one is a regression", () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const samples = (mu: number, n = 5) => Array.from({ length: n }, () => mu * (1 + 0.03 * normal()));
    const report = (mu: number): BenchReport => {
      const r = captured();
      for (const res of r.results)
        res.samples = res.samples.map((x) => ({
          ...x,
          wallMs: 0,
          msPerStep: 0,
          encoderAdapterMs: 0,
          prefillMs: 0,
          firstTokenMs: 0,
        }));
      for (const res of r.results) {
        const k = {
          wallMs: samples(mu),
          msPerStep: samples(mu / 100),
          encoderAdapterMs: samples(mu / 5),
          prefillMs: samples(mu / 50),
          firstTokenMs: samples(mu / 2),
        };
        res.samples = res.samples.map((x, i) => ({
          ...x,
          wallMs: k.wallMs[i]!,
          msPerStep: k.msPerStep[i]!,
          encoderAdapterMs: k.encoderAdapterMs[i]!,
          prefillMs: k.prefillMs[i]!,
          firstTokenMs: k.firstTokenMs[i]!,
        }));
      }
      return r;
    };
    let flagged = 0;
    let caught = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const same = compareReports(
        { path: "a", report: report(100) },
        { path: "b", report: report(100) },
        { threshold: 0.05, alpha: 0.05 },
      );
      if (same.regressions + same.improvements > 0) flagged++;
      const slow = compareReports(
        { path: "a", report: report(100) },
        { path: "b", report: report(115) },
        { threshold: 0.05, alpha: 0.05 },
      );
      if (slow.regressions > 0 && slow.improvements === 0) caught++;
    }
    assert.ok(flagged <= 0.05 * trials, `same distribution flagged in ${flagged} of ${trials} comparisons`);
    assert.ok(caught >= 0.95 * trials, `a 15 % slowdown caught in only ${caught} of ${trials}`);
  });

  it("Holm's step-down: each p against alpha / (tests left), stopping at the first that fails", () => {
    assert.deepEqual(holmSignificant([0.01, 0.04, null, 0.03], 0.05), [true, false, false, false]); // 0.01 < 0.05/3, 0.03 >= 0.05/2
    assert.deepEqual(holmSignificant([0.001, 0.02, 0.04], 0.05), [true, true, true]);
    assert.deepEqual(holmSignificant([0.2, 0.001], 0.05), [false, true]);
    assert.deepEqual(holmSignificant([], 0.05), []);
  });
});
