// vox-bench end to end on the real CPU engine: a synthetic tiny model written into a fresh cache and
// reused, two repetitions, every output format, --sustained; then the HTML report opened in headless
// Chromium (Debian's chromium; CI installs it) to prove the charts are drawn with no network.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BenchReport } from "../../../src/commands/bench/types.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { CHROMIUM, CHROMIUM_QUIET_ARGS } from "../../helpers.js";

const bin = join(packageRoot(), "dist", "toolkit", "src", "bin", "vox-bench.js");
let dir = "";
let env: NodeJS.ProcessEnv = {};
const bench = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8", timeout: 300_000 });

describe("vox-bench end to end (CPU, synthetic tiny)", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "vox-bench-e2e-"));
    env = { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), VOX_REPORTS_DIR: join(dir, "reports") };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let report: BenchReport;
  it("writes the model once, runs, and prints a valid report", () => {
    const r = bench([
      "--synthetic",
      "tiny",
      "--backend",
      "cpu",
      "--seconds",
      "3.6",
      "--repeat",
      "2",
      "--warmup",
      "0",
      "--json",
      "--csv",
      "--markdown",
      "--html",
      "--sustained",
      "20",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "", "no progress output in --json mode");
    report = JSON.parse(r.stdout) as BenchReport;
    assert.deepEqual(schemaErrors("bench", report), []);
    assert.equal(report.model.source, "synthetic");
    assert.equal(report.settings.ignoreEos, true);
    const [res] = report.results;
    assert.equal(res!.samples.length, 2);
    assert.equal(res!.failures.length, 0);
    assert.ok(res!.stats!.xRealTime.median > 0);
    assert.ok(res!.derived!.decoderGBps! > 0 && res!.derived!.encoderTflop > 0);
    assert.ok(report.bandwidth[0]!.gbps! > 0);
    assert.equal(report.sustained[0]!.failure, null);
    assert.equal(report.sustained[0]!.quarters.length, 4);
    assert.ok(existsSync(join(dir, "cache", "vox", "synthetic-tiny-0", "complete.json")));
    const files = readdirSync(join(dir, "reports"))
      .map((f) => f.replace(/^bench-.*\./, ""))
      .sort();
    assert.deepEqual(files, ["csv", "html", "json", "md"]);
  });

  it("reuses the cached model and shows progress and a table", () => {
    const r = bench(["--synthetic", "tiny", "--backend", "cpu", "--seconds", "3.6", "--repeat", "2", "--warmup", "1"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /reusing synthetic tiny model/);
    assert.match(r.stderr, /run 2\/2: wall/);
    assert.match(r.stdout, /x real time/);
  });

  it("refuses cuda with the reason when the engine finds no GPU", (t) => {
    const info = spawnSync(join(packageRoot(), "engine", "build", "voxtral"), ["--info"], { encoding: "utf8" });
    if ((JSON.parse(info.stdout) as { cuda: { available: boolean } }).cuda.available)
      return t.skip("this machine has a usable GPU");
    const r = bench(["--synthetic", "tiny", "--backend", "cuda", "--seconds", "3.6", "--repeat", "1"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^vox-bench: error: --backend cuda, but the engine cannot use a GPU here: .+vox-doctor/m);
  });

  it("the HTML report draws its charts in headless Chromium", (t) => {
    if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} not installed (apt-get install -y chromium; CI installs it)`);
    const html = readdirSync(join(dir, "reports")).find((f) => f.endsWith(".html"))!;
    const profile = mkdtempSync(join(dir, "chromium-"));
    const r = spawnSync(
      CHROMIUM,
      [
        "--headless",
        ...CHROMIUM_QUIET_ARGS,
        `--user-data-dir=${profile}`,
        "--dump-dom",
        `file://${join(dir, "reports", html)}`,
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const dom = r.stdout;
    assert.match(dom, /data-charts-drawn="2"/, "the chart script ran");
    const svgs = dom.match(/<svg[^>]*role="img"[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 2, "two charts drawn as SVG");
    for (const svg of svgs)
      assert.ok((svg.match(/<rect class="bar/g) ?? []).length >= report.results.length, "one bar per backend x clip");
    assert.ok((svgs[0]!.match(/<path class="ref"/g) ?? []).length === 1, "1x real-time line");
    assert.ok((svgs[1]!.match(/<path class="marker"/g) ?? []).length >= 1, "bandwidth floor tick");
  });
});
