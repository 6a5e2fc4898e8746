// The bench report as one HTML file with charts: times real time per backend and clip (whiskers:
// min..max over repetitions, dashed line: 1x = real time) and decoder ms per step against the
// bandwidth floor (red tick: decoder bytes per step / measured copy bandwidth). Pure.
import { escapeHtml, htmlTable, renderPage, type ChartSpec } from "../../lib/html.js";
import { bytesText, environmentLine, HEAD, row, sustainedLine } from "./render.js";
import type { BenchReport, Result } from "./types.js";

export function benchCharts(r: BenchReport): ChartSpec[] {
  const ok = r.results.filter((x) => x.stats !== null);
  const clips = [...new Set(ok.map((x) => x.clip.name))];
  /** A group per clip, a bar per backend: the metric's median, whiskers min..max, and the marker if any. */
  const groups = (metric: "xRealTime" | "msPerStep", marker: (x: Result) => number | null = () => null) =>
    clips.map((c) => ({
      label: c,
      bars: ok
        .filter((x) => x.clip.name === c)
        .map((x) => {
          const s = x.stats![metric];
          const m = marker(x);
          return {
            label: x.backend,
            value: s.median,
            range: [s.min, s.max] as [number, number],
            ...(m ? { marker: m } : {}),
          };
        }),
    }));
  const xrt: ChartSpec = {
    id: "chart-xrt",
    title: "Times real time (audio seconds / wall seconds), median",
    unit: "x real time",
    refs: [{ value: 1, label: "1x" }],
    groups: groups("xRealTime"),
  };
  const step: ChartSpec = {
    id: "chart-step",
    title: "Decoder ms per step, median, against the bandwidth floor",
    unit: "ms per step",
    markerLabel: "floor = decoder bytes per step / measured copy bandwidth",
    groups: groups("msPerStep", (x) => x.derived?.floorMsPerStep ?? null),
  };
  return [xrt, step];
}

export function renderHtml(r: BenchReport): string {
  const e = escapeHtml;
  const model =
    r.model.source === "synthetic"
      ? `synthetic ${r.model.size} model (seed ${r.model.seed}, random BF16 weights, --ignore-eos)`
      : r.model.dir;
  const samples = r.results.flatMap((x) =>
    x.samples.map((s, i) => [
      x.backend,
      x.clip.name,
      String(i + 1),
      s.wallMs.toFixed(1),
      s.loadMs.toFixed(1),
      s.encoderAdapterMs.toFixed(1),
      s.prefillMs.toFixed(1),
      s.msPerStep.toFixed(3),
      s.firstTokenMs.toFixed(1),
      s.xRealTime.toFixed(2),
      s.peakRssMb.toFixed(0),
      s.gpuMemMb === null ? "–" : s.gpuMemMb.toFixed(0),
      String(s.nSteps),
    ]),
  );
  const body = [
    `<h1>vox-bench — ${e(r.createdAt)}</h1>`,
    `<p><code>${e(r.command)}</code></p>`,
    `<p><b>Environment:</b> ${e(environmentLine(r))}</p>`,
    `<p><b>Model:</b> ${e(model)}; decoder reads ${bytesText(r.model.decoderBytesPerStep)} per step. ${r.settings.repeat} repetitions after ${r.settings.warmup} warm-up.</p>`,
    `<h2>Times real time</h2><div class="chart" id="chart-xrt"></div>`,
    `<h2>Decoder ms per step against the bandwidth floor</h2><div class="chart" id="chart-step"></div>`,
    `<h2>Results (median ±stddev)</h2>`,
    htmlTable(HEAD, r.results.map(row)),
    `<ul>${r.bandwidth.map((b) => `<li>copy bandwidth ${e(b.backend)}: ${b.gbps ? `${b.gbps.toFixed(0)} GB/s (${e(b.method)})` : `not measured: ${e(b.error ?? "")}`}</li>`).join("")}`,
    `${r.sustained.map((s) => `<li>${e(sustainedLine(s))}</li>`).join("")}${r.notes.map((n) => `<li class="note">${e(n)}</li>`).join("")}</ul>`,
    `<h2>Raw samples</h2>`,
    htmlTable(
      [
        "backend",
        "clip",
        "#",
        "wall ms",
        "load ms",
        "enc+adapt ms",
        "prefill ms",
        "ms/step",
        "1st token ms",
        "x real time",
        "RSS MB",
        "GPU MB",
        "steps",
      ],
      samples,
    ),
    `<details><summary>Full environment (JSON)</summary><pre>${e(JSON.stringify({ environment: r.environment, engineBuild: r.engineBuild }, null, 2))}</pre></details>`,
  ].join("\n");
  return renderPage({ title: `vox-bench ${r.createdAt}`, body, charts: benchCharts(r) });
}
