// Views of the captured report: table, CSV rows, Markdown, HTML (structure; the browser test draws it).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { renderHtml, benchCharts } from "../../../src/commands/bench/html.js";
import { csvRows, renderMarkdown, renderTable } from "../../../src/commands/bench/render.js";
import type { BenchReport } from "../../../src/commands/bench/types.js";
import { fixture } from "../../helpers.js";

const report = (): BenchReport =>
  JSON.parse(readFileSync(fixture("bench", "report-cpu-tiny.json"), "utf8")) as BenchReport;

describe("bench render", () => {
  it("table shows every result and the environment", () => {
    const t = renderTable(report());
    assert.match(t, /3\.6s/);
    assert.match(t, /11s/);
    assert.match(t, /engine [0-9a-f]{10}/);
    assert.match(t, /copy bandwidth cpu: \d+ GB\/s/);
  });

  it("CSV rows carry medians and the environment", () => {
    const r = report();
    const rows = csvRows(r);
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.ms_per_step, r.results[0]!.stats!.msPerStep.median);
    assert.equal(rows[0]!.engine_commit, r.environment.engine.commit);
    assert.equal(rows[1]!.clip, "11s");
  });

  it("Markdown has one table row per result", () => {
    const md = renderMarkdown(report());
    assert.equal(md.split("\n").filter((l) => l.startsWith("| cpu |")).length, 2);
  });

  it("HTML is self-contained and embeds both charts' data", () => {
    const html = renderHtml(report());
    assert.doesNotMatch(
      html,
      /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
      "no network references",
    );
    const charts = benchCharts(report());
    assert.deepEqual(
      charts.map((c) => c.id),
      ["chart-xrt", "chart-step"],
    );
    assert.equal(charts[0]!.groups.flatMap((g) => g.bars).length, 2);
    assert.ok(
      charts[1]!.groups.every((g) => g.bars.every((b) => typeof b.marker === "number")),
      "floor markers present",
    );
    assert.match(html, /id="chart-xrt"/);
  });

  it("a script-closing string in the data cannot break out of the JSON block", () => {
    const r = report();
    r.results[0]!.clip.name = "</script><script>alert(1)</script>";
    const html = renderHtml(r);
    assert.equal(html.split("</script>").length - 1, 2, "only the two real script ends");
  });
});
