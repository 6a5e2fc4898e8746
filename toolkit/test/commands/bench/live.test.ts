// vox-bench --live N on the tiny-small-windows fixture model (CPU): N = 1 and 4 concurrent real-time
// sessions through vox serve. The report must match live.schema.json, hold one entry per stream with
// deltas and ordered percentiles, a timeline with one value per stream and every stream's deltas'
// percentiles per second (the worst second holding the run's max), the HTML with its chart; the
// text table names every stream. Timings are never asserted (they depend on the machine's load).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { LiveReport } from "../../../src/commands/bench/live-run.js";
import { percentile } from "../../../src/commands/bench/live.js";
import { fixturesDir, packageRoot } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";

function live(n: number): { status: number | null; stdout: string; stderr: string; report: LiveReport; html: string } {
  const out = mkdtempSync(join(tmpdir(), "vox-live-"));
  try {
    const r = spawnSync(
      process.execPath,
      [
        join(packageRoot(), "dist/toolkit/src/bin/vox-bench.js"),
        "--live",
        String(n),
        "--model",
        join(fixturesDir(), "tiny-small-windows"),
        "--backend",
        "cpu",
        "--out",
        out,
      ],
      { encoding: "utf8", timeout: 180_000 },
    );
    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith(".json"));
    const html = files.find((f) => f.endsWith(".html"));
    assert.ok(json && html, `reports written: ${files.join(", ")}\n${r.stderr}`);
    return {
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      report: JSON.parse(readFileSync(join(out, json), "utf8")) as LiveReport,
      html: readFileSync(join(out, html), "utf8"),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

for (const n of [1, 4]) {
  test(`--live ${n}: a schema-valid report with one entry per stream, a table and an HTML chart`, () => {
    const r = live(n);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(schemaErrors("live", r.report), []);
    assert.equal(r.report.settings.streams, n);
    assert.equal(r.report.streams.length, n);
    for (const s of r.report.streams) {
      assert.ok(s.deltas > 0, `stream ${s.index} got deltas`);
      assert.deepEqual(s.errors, []);
      assert.ok(s.latencyMs && s.latencyMs.p50 <= s.latencyMs.p95 && s.latencyMs.p95 <= s.latencyMs.max);
      assert.ok(s.latencyMs.p50 >= 0 && s.firstDeltaMs !== null && s.firstDeltaMs >= 0);
      assert.ok(s.behindSteps <= s.deltas);
    }
    // all streams sent the same audio to the same model: the same number of deltas
    assert.equal(new Set(r.report.streams.map((s) => s.deltas)).size, 1);
    assert.equal(
      r.report.pooled.deltas,
      r.report.streams.reduce((a, s) => a + s.deltas, 0),
    );
    assert.ok(r.report.timeline.length >= 3);
    for (const pt of r.report.timeline) {
      assert.equal(pt.latencyMs.length, n);
      // a second's pooled percentiles cover its streams' medians, and some stream had a delta in it
      const medians = pt.latencyMs.filter((x): x is number => x !== null);
      const p = pt.pooledMs;
      assert.equal(p === null, medians.length === 0, `second ${pt.second}: pooled ${JSON.stringify(p)}`);
      if (p) {
        assert.ok(p.p50 <= p.p95 && p.p95 <= p.max);
        assert.ok(Math.max(...medians) <= p.max && Math.min(...medians) <= p.p95);
      }
    }
    // every delta falls in one second: the worst second's max is the whole run's max
    const maxes = r.report.timeline.flatMap((pt) => (pt.pooledMs ? [pt.pooledMs.max] : []));
    assert.equal(Math.max(...maxes), r.report.pooled.latencyMs?.max);
    assert.match(r.stdout, /p50\/p95 ms of all streams' deltas per second of audio: 0: \d+\/\d+, 1: /);
    assert.match(r.html, /id="chart-latency"/);
    assert.match(r.html, /"id":"chart-latency"/);
    for (let i = 0; i < n; i++) assert.match(r.stdout, new RegExp(`│ ${i} `));
    assert.match(r.stdout, /pooled/);
  });
}

test("percentile is nearest-rank; a bad --live is a usage error", () => {
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 95), 5);
  assert.equal(percentile([7], 95), 7);
  assert.equal(
    percentile(
      Array.from({ length: 100 }, (_, i) => i + 1),
      95,
    ),
    95,
  );
  const r = spawnSync(process.execPath, [join(packageRoot(), "dist/toolkit/src/bin/vox-bench.js"), "--live", "0"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 64);
  assert.match(r.stderr, /^vox-bench: error: --live must be a number of streams from 1 to 256, got 0\./m);
});
