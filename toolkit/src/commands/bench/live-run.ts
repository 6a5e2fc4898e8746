// `vox-bench --live N`: starts `vox serve` on a free loopback port, runs N real-time sessions at once
// (client.ts, paced), and writes the report (checks/schemas/live.schema.json: validated before it is
// written), a table and an HTML chart of latency over time. The numbers come from live.ts.
import Table from "cli-table3";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { collectEnvironment } from "../../lib/environment.js";
import { EngineUnavailableError, EXIT, InputError, UsageError } from "../../lib/errors.js";
import { isFixture, readFixture } from "../../lib/fixture.js";
import { escapeHtml, htmlTable, renderPage, type ChartSpec } from "../../lib/html.js";
import { engineBinary } from "../../lib/paths.js";
import { reportHeader, writeReport } from "../../lib/report.js";
import { ensureSynthetic, type SyntheticSize } from "../../lib/synthetic.js";
import { readWav } from "../../lib/wav.js";
import type { LiveSchema } from "../../generated/schemas.js";
import { type RealtimeRun, transcribeRealtime } from "../serve/client.js";
import { startServer } from "../serve/index.js";
import { CHUNK_MS, type LiveStream, type Percentiles, pooled, streamSummary, timeline } from "./live.js";
import { Progress } from "./progress.js";

export interface LiveArgs {
  live: number;
  model?: string;
  synthetic?: string;
  seed: number;
  backend: string;
  audio?: string[];
  json: boolean;
  out?: string;
}

/** The report (checks/schemas/live.schema.json), its type generated from the schema. */
export type LiveReport = LiveSchema;

const ms = (p: Percentiles | null, k: keyof Percentiles) => (p ? String(Math.round(p[k])) : "–");

/** A stream's cells up to its errors (the table counts them, the page lists them). */
const streamCells = (s: LiveStream) => [
  String(s.index),
  String(s.deltas),
  ms(s.latencyMs, "p50"),
  ms(s.latencyMs, "p95"),
  ms(s.latencyMs, "max"),
  ms(s.serverLatencyMs, "p50"),
  String(s.behindSteps),
  s.firstDeltaMs === null ? "–" : String(Math.round(s.firstDeltaMs)),
];

export function renderLiveTable(r: LiveReport): string {
  const t = new Table({
    head: ["stream", "deltas", "p50 ms", "p95 ms", "max ms", "server p50 ms", "behind", "first delta ms", "errors"],
    style: { head: [], border: [] },
  });
  for (const s of r.streams) t.push([...streamCells(s), String(s.errors.length)]);
  const p = r.pooled;
  t.push([
    "pooled",
    String(p.deltas),
    ms(p.latencyMs, "p50"),
    ms(p.latencyMs, "p95"),
    ms(p.latencyMs, "max"),
    "",
    String(p.behindSteps),
    p.firstDeltaMs ? `${Math.round(p.firstDeltaMs.median)} (median)` : "–",
    "",
  ]);
  const s = r.settings;
  return `vox-bench --live ${s.streams}: ${s.audioSeconds.toFixed(1)} s of audio per stream at real time (${CHUNK_MS} ms appends), delay ${s.delayMs} ms, ${s.backend} on ${s.device}\n${t.toString()}\n${perSecond(r)}\n`;
}

/** One line: p50 / p95 of every stream's deltas in each second of audio (where a session is late: its
 *  opening, its close, or a load that grows). */
export function perSecond(r: LiveReport): string {
  const cells = r.timeline.map((pt) => `${pt.second}: ${ms(pt.pooledMs, "p50")}/${ms(pt.pooledMs, "p95")}`);
  return `p50/p95 ms of all streams' deltas per second of audio: ${cells.join(", ")}`;
}

export function liveChart(r: LiveReport): ChartSpec {
  return {
    id: "chart-latency",
    title: "Delta latency over time: median per stream for each second of audio",
    unit: "ms",
    refs: [{ value: r.settings.delayMs, label: `delay ${r.settings.delayMs} ms` }],
    groups: r.timeline.map((pt) => ({
      label: `${pt.second} s`,
      bars: pt.latencyMs.flatMap((v, i) => (v === null ? [] : [{ label: `stream ${i}`, value: v }])),
    })),
  };
}

export function renderLiveHtml(r: LiveReport): string {
  const e = escapeHtml;
  const rows = r.streams.map((s) => [...streamCells(s), s.errors.join("; ")]);
  const body = [
    `<h1>vox-bench --live ${r.settings.streams} — ${e(r.createdAt)}</h1>`,
    `<p><code>${e(r.command)}</code></p>`,
    `<p>${e(`${r.settings.audioSeconds.toFixed(1)} s of ${r.settings.audio} per stream at real time (${CHUNK_MS} ms appends), delay ${r.settings.delayMs} ms, ${r.settings.backend} on ${r.settings.device}; model ${r.model.dir}`)}</p>`,
    `<p>Latency: receipt of a delta minus the send time of the append holding the last sample it covers. Behind: deltas received more than two steps (160 ms) after the audio that decides them (end_ms + delay) was sent.</p>`,
    `<h2>Latency over time</h2><div class="chart" id="chart-latency"></div>`,
    `<h2>Per stream</h2>`,
    htmlTable(
      ["stream", "deltas", "p50 ms", "p95 ms", "max ms", "server p50 ms", "behind", "first delta ms", "errors"],
      rows,
    ),
    `<p>${e(perSecond(r))}</p>`,
    `<p>Pooled: ${r.pooled.deltas} deltas, p50 ${ms(r.pooled.latencyMs, "p50")} ms, p95 ${ms(r.pooled.latencyMs, "p95")} ms, max ${ms(r.pooled.latencyMs, "max")} ms, ${r.pooled.behindSteps} behind.</p>`,
    r.notes.length ? `<ul>${r.notes.map((n) => `<li class="note">${e(n)}</li>`).join("")}</ul>` : "",
  ].join("\n");
  return renderPage({ title: `vox-bench --live ${r.createdAt}`, body, charts: [liveChart(r)] });
}

export async function runLive(a: LiveArgs): Promise<number> {
  if (!Number.isInteger(a.live) || a.live < 1 || a.live > 256)
    throw new UsageError(`--live must be a number of streams from 1 to 256, got ${a.live}`);
  if (a.model && a.synthetic) throw new UsageError("--model and --synthetic exclude each other", "Pick one model.");
  if (a.backend !== "auto" && a.backend !== "cpu" && a.backend !== "cuda")
    throw new UsageError(`--live takes one backend (auto, cpu or cuda), got ${a.backend}`);
  const progress = new Progress(!a.json);
  const engine = engineBinary();
  if (!existsSync(engine)) throw new EngineUnavailableError(`engine binary ${engine} does not exist`);
  progress.status("collecting environment facts ...");
  const environment = await collectEnvironment(engine);
  let dir: string;
  let source: "dir" | "synthetic" = "dir";
  if (a.synthetic) {
    const { dir: d } = await ensureSynthetic({
      size: a.synthetic as SyntheticSize,
      seed: a.seed,
      engine,
      engineCommit: environment.engine.commit,
    });
    dir = d;
    source = "synthetic";
  } else {
    dir = resolve(a.model ?? "voxtral-model");
    if (!existsSync(join(dir, "params.json")))
      throw new InputError(
        `no model in ${dir} (params.json missing)`,
        "Pass --model DIR, or --synthetic tiny|full.",
        true,
      );
  }
  const audio = a.audio?.[0] ?? (isFixture(dir) ? readFixture(dir).audio : null);
  if (!audio)
    throw new UsageError(
      "--live needs speech to send",
      "Pass --audio FILE.wav (16 kHz mono 16-bit), or a fixture model (it brings its clip).",
    );
  if (!existsSync(audio)) throw new InputError(`audio file ${audio} does not exist`, "Pass --audio FILE.wav.", true);
  const wav = readWav(audio);
  if (wav.sampleRate !== 16000)
    throw new InputError(
      `${audio} is ${wav.sampleRate} Hz; --live sends 16 kHz PCM16`,
      "Convert it: ffmpeg -i IN -ar 16000 -ac 1 -c:a pcm_s16le out.wav",
    );
  const pcm = new Uint8Array(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength);
  progress.status(`starting vox serve on ${dir} ...`);
  const delayMs = isFixture(dir) ? readFixture(dir).delayMs : undefined;
  const { server, ready, addr, delay } = await startServer({
    model: dir,
    backend: a.backend as "auto" | "cpu" | "cuda",
    delayMs,
    host: "127.0.0.1",
    port: 0,
    maxSessions: a.live + 1,
    apiKey: null,
    maxBodyBytes: 1 << 20,
  });
  let runs: RealtimeRun[];
  try {
    progress.status(`${a.live} stream(s) at real time, ${(wav.samples.length / 16000).toFixed(1)} s each ...`);
    const url = `ws://127.0.0.1:${addr.port}/v1/realtime`;
    runs = await Promise.all(
      Array.from({ length: a.live }, () =>
        transcribeRealtime({
          url,
          model: server.models[0]!,
          pcm,
          paced: true,
          chunkBytes: (16_000 * CHUNK_MS * 2) / 1000,
        }),
      ),
    );
  } finally {
    await server.close(5000);
  }
  const streams = runs.map((r, i) => streamSummary(r, i, delay));
  const notes: string[] = [];
  if (streams.some((s) => s.errors.length > 0)) notes.push("some streams got error events (see errors)");
  if (isFixture(dir))
    notes.push(
      "a tiny fixture model: its text is meaningless; the latencies show the serving path, not the real model's speed",
    );
  const report: LiveReport = {
    ...reportHeader("live", null),
    command: ["vox-bench", ...process.argv.slice(2)].join(" "),
    environment,
    model: { dir, source },
    settings: {
      streams: a.live,
      chunkMs: CHUNK_MS,
      delayMs: delay,
      audio: resolve(audio),
      audioSeconds: wav.samples.length / 16000,
      backend: ready.backend as "cpu" | "cuda",
      device: String(ready.device),
    },
    streams,
    pooled: pooled(runs, streams),
    timeline: timeline(runs),
    notes,
  };
  const written = writeReport("live", report, {
    command: "bench-live",
    outDir: a.out,
    extra: { html: renderLiveHtml },
  });
  if (a.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderLiveTable(report));
  progress.log(`report: ${[written.json, ...Object.values(written.extra)].join(", ")}`);
  return streams.some((s) => s.errors.length > 0 || s.deltas === 0) ? EXIT.failed : EXIT.ok;
}
