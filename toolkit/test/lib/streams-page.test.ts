// The streams-per-GPU page: the largest B within the 80 ms budget from mixed ticks (some within, some
// past it), one table row and two chart bars per B, the budget line in the chart data.
import assert from "node:assert/strict";
import { test } from "node:test";
import { streamsPage } from "../../src/lib/streams-page.js";

const tick = (streams: number, p50: number, p95: number) => ({
  streams,
  rows_per_forward: 64,
  pos: 8231,
  ms_p50: p50,
  ms_p95: p95,
  ms_max: p95 + 1,
  mem_mb_per_stream: 850,
});

test("the largest B within 80 ms p95 is named; every B has a row and two bars", () => {
  const html = streamsPage("streams on X", [tick(1, 3, 4), tick(64, 70, 79.9), tick(128, 79, 80.5)]);
  assert.match(html, /Largest B within 80 ms p95: 64\./);
  assert.equal((html.match(/<tr><td>/g) ?? []).length, 3);
  const data = JSON.parse(html.match(/<script type="application\/json" id="chart-data">(.*?)<\/script>/s)![1]!);
  assert.deepEqual(
    data[0].groups.map((g: { label: string; bars: unknown[] }) => [g.label, g.bars.length]),
    [
      ["B = 1", 2],
      ["B = 64", 2],
      ["B = 128", 2],
    ],
  );
  assert.deepEqual(data[0].refs, [{ value: 80, label: "80 ms" }]);
  assert.match(streamsPage("none", [tick(8, 90, 95)]), /Largest B within 80 ms p95: none\./);
});
