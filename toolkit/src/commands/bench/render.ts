// Views of a validated bench report: the terminal table (cli-table3), CSV rows (one per backend x
// clip, medians and spreads plus the environment, for spreadsheets) and Markdown. Pure.
import Table from "cli-table3";
import type { Summary } from "../../lib/stats.js";
import type { BenchReport, Result, Sustained } from "./types.js";

const f = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
const ms = (s: Summary | null | undefined, digits = 1): string =>
  s ? `${f(s.median, digits)} ±${f(s.stddev, digits)}` : "–";

/** One line saying where it ran. */
export function environmentLine(r: BenchReport): string {
  const e = r.environment;
  const gpu =
    e.gpus.map((g) => `${g.name}${g.computeCapability ? ` (cc ${g.computeCapability})` : ""}`).join(", ") || "no GPU";
  const os = `${e.os.distro ?? e.os.platform} ${e.os.release}${e.os.wsl ? ` (WSL${e.os.wsl})` : ""}`;
  const cuda = e.driver.version
    ? `driver ${e.driver.version}, CUDA ${e.driver.cudaVersion ?? "?"}`
    : "no NVIDIA driver";
  return `${gpu}; ${cuda}; cuBLAS ${e.cuda.cublasVersion ?? "–"}; ${os}; ${e.os.cpu} x${e.os.cores}; engine ${e.engine.commit?.slice(0, 10) ?? "?"}`;
}

export const HEAD = [
  "backend",
  "clip",
  "runs",
  "load ms",
  "mel ms",
  "enc+adapt ms",
  "prefill ms",
  "ms/step",
  "1st token ms",
  "wall s",
  "x real time",
  "RSS MB",
  "GPU MB",
  "dec GB/s",
  "% copy",
  "enc TFLOP/s",
];

export function row(r: Result): string[] {
  const s = r.stats;
  const d = r.derived;
  const wall = s ? { ...s.wallMs, median: s.wallMs.median / 1000, stddev: s.wallMs.stddev / 1000 } : null;
  const outl = s ? s.wallMs.outliers.length + s.msPerStep.outliers.length : 0;
  return [
    r.backend,
    r.clip.name,
    `${r.samples.length}${r.failures.length ? ` (${r.failures.length} failed)` : ""}${outl ? ` ${outl} outl.` : ""}`,
    ms(s?.loadMs, 0),
    ms(s?.melMs),
    ms(s?.encoderAdapterMs),
    ms(s?.prefillMs),
    ms(s?.msPerStep, 2),
    ms(s?.firstTokenMs),
    ms(wall, 2),
    f(s?.xRealTime.median, s && s.xRealTime.median < 10 ? 2 : 1),
    f(s?.peakRssMb.max, 0),
    f(s?.gpuMemMb?.max, 0),
    f(d?.decoderGBps, 0),
    f(d?.pctOfCopy, 0),
    d?.encoderTflops ? (d.encoderTflops >= 1 ? d.encoderTflops.toFixed(1) : d.encoderTflops.toPrecision(2)) : "–",
  ];
}

export function renderTable(r: BenchReport): string {
  const t = new Table({ head: HEAD, style: { head: [], border: [] } });
  for (const res of r.results) t.push(row(res));
  const lines = [environmentLine(r), t.toString()];
  for (const b of r.bandwidth)
    lines.push(
      `copy bandwidth ${b.backend}: ${b.gbps ? `${b.gbps.toFixed(0)} GB/s (${b.method})` : `not measured: ${b.error}`}`,
    );
  for (const s of r.sustained) lines.push(sustainedLine(s));
  for (const n of r.notes) lines.push(`note: ${n}`);
  return `${lines.join("\n")}\n`;
}

export function sustainedLine(s: Sustained): string {
  if (s.failure) return `sustained ${s.backend} ${s.seconds} s: FAILED: ${s.failure}`;
  const q = (k: "msPerStep" | "rssMb" | "gpuMemMb", d: number) => s.quarters.map((x) => f(x[k], d)).join(" / ");
  const verdict = s.flat === null ? "not judged" : s.flat ? "flat" : "NOT flat";
  return `sustained ${s.backend} ${s.seconds} s by quarter: ms/step ${q("msPerStep", 2)}; RSS MB ${q("rssMb", 0)}; GPU MB ${q("gpuMemMb", 0)} (${verdict})`;
}

/** CSV rows: one per backend x clip. */
export function csvRows(r: BenchReport): Array<Record<string, string | number | null>> {
  const e = r.environment;
  return r.results.map((res) => {
    const s = res.stats;
    const med = (x: Summary | null | undefined) => (x ? x.median : null);
    return {
      backend: res.backend,
      device: res.device,
      clip: res.clip.name,
      audio_s: res.clip.seconds,
      runs: res.samples.length,
      failures: res.failures.length,
      load_ms: med(s?.loadMs),
      mel_ms: med(s?.melMs),
      encoder_adapter_ms: med(s?.encoderAdapterMs),
      prefill_ms: med(s?.prefillMs),
      decode_ms: med(s?.decodeMs),
      ms_per_step: med(s?.msPerStep),
      ms_per_step_stddev: s ? s.msPerStep.stddev : null,
      first_token_ms: med(s?.firstTokenMs),
      wall_ms: med(s?.wallMs),
      wall_ms_stddev: s ? s.wallMs.stddev : null,
      wall_ms_min: s ? s.wallMs.min : null,
      x_real_time: med(s?.xRealTime),
      peak_rss_mb: s ? s.peakRssMb.max : null,
      gpu_mem_mb: s?.gpuMemMb ? s.gpuMemMb.max : null,
      decoder_gbps: res.derived?.decoderGBps ?? null,
      pct_of_copy: res.derived?.pctOfCopy ?? null,
      floor_ms_per_step: res.derived?.floorMsPerStep ?? null,
      encoder_tflops: res.derived?.encoderTflops ?? null,
      model: r.model.source === "synthetic" ? `synthetic-${r.model.size}-${r.model.seed}` : r.model.dir,
      gpu: e.gpus[0]?.name ?? null,
      driver: e.driver.version,
      cuda: e.driver.cudaVersion,
      engine_commit: e.engine.commit,
      created_at: r.createdAt,
    };
  });
}

const mdEscape = (s: string) => s.replace(/\|/g, "\\|");

export function renderMarkdown(r: BenchReport): string {
  const out = [
    `# vox-bench ${r.createdAt}`,
    "",
    `\`${mdEscape(r.command)}\``,
    "",
    `**Environment:** ${mdEscape(environmentLine(r))}`,
    "",
  ];
  const model = r.model.source === "synthetic" ? `synthetic ${r.model.size} (seed ${r.model.seed})` : r.model.dir;
  out.push(
    `**Model:** ${mdEscape(model)}; decoder reads ${bytesText(r.model.decoderBytesPerStep)} per step. Repetitions ${r.settings.repeat}, warm-up ${r.settings.warmup}${r.settings.ignoreEos ? ", --ignore-eos" : ""}. Values: median ±stddev.`,
    "",
  );
  out.push(`| ${HEAD.join(" | ")} |`, `|${HEAD.map(() => "---").join("|")}|`);
  for (const res of r.results) out.push(`| ${row(res).map(mdEscape).join(" | ")} |`);
  out.push("");
  for (const b of r.bandwidth)
    out.push(
      `- copy bandwidth ${b.backend}: ${b.gbps ? `${b.gbps.toFixed(0)} GB/s (${b.method})` : `not measured: ${mdEscape(b.error ?? "")}`}`,
    );
  for (const res of r.results)
    for (const fl of res.failures)
      out.push(
        `- FAILED ${res.backend} ${res.clip.name} ${fl.warmup ? "warm-up" : "run"} ${fl.repetition + 1}: ${mdEscape(fl.message)}`,
      );
  for (const s of r.sustained) out.push(`- ${mdEscape(sustainedLine(s))}`);
  for (const n of r.notes) out.push(`- note: ${mdEscape(n)}`);
  return `${out.join("\n")}\n`;
}

/** 6.86 GB, 663 kB: decimal units as the bandwidth figures use. */
export function bytesText(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e3).toFixed(0)} kB`;
}
