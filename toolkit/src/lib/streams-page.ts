// The streams-per-GPU page of gpu-check: tick time p50 / p95 against the number of streams stepped
// together (rowbench --streams lines), as a table and a chart with the 80 ms line a live step must keep.
import { escapeHtml, htmlTable, renderPage } from "./html.js";

/** One `rowbench --streams B` line. */
export interface StreamsTick {
  streams: number;
  rows_per_forward?: number;
  pos?: number;
  ms_p50: number;
  ms_p95: number;
  ms_max: number;
  mem_mb_per_stream: number /* at position pos (the KV rings grow with the position) */;
  mem_mb_per_stream_start?: number /* right after the prefill */;
}

export const TICK_BUDGET_MS = 80; // one token of audio: a live step must finish within it

/** The page: `title` names the run (device, engine commit). */
export function streamsPage(title: string, ticks: readonly StreamsTick[]): string {
  const rows = ticks.map((t) => [
    String(t.streams),
    t.ms_p50.toFixed(1),
    t.ms_p95.toFixed(1),
    t.ms_max.toFixed(1),
    t.mem_mb_per_stream.toFixed(0),
  ]);
  const within = ticks.filter((t) => t.ms_p95 <= TICK_BUDGET_MS).at(-1);
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>Every stream's KV window full (position ${ticks[0]?.pos ?? "?"}), forwards of up to ${ticks[0]?.rows_per_forward ?? "?"} rows. Largest B within ${TICK_BUDGET_MS} ms p95: ${within ? within.streams : "none"}.</p>`,
    '<div class="chart" id="ticks"></div>',
    htmlTable(["streams", "p50 ms", "p95 ms", "max ms", "GPU MB per stream"], rows),
  ].join("\n");
  return renderPage({
    title,
    body,
    charts: [
      {
        id: "ticks",
        title: "tick time against streams stepped together",
        unit: "ms",
        groups: ticks.map((t) => ({
          label: `B = ${t.streams}`,
          bars: [
            { label: "p50", value: t.ms_p50 },
            { label: "p95", value: t.ms_p95, range: [t.ms_p50, t.ms_max] },
          ],
        })),
        refs: [{ value: TICK_BUDGET_MS, label: `${TICK_BUDGET_MS} ms` }],
      },
    ],
  });
}
