// `npx vox-bench`: how fast is the engine here, per backend and clip length, with statistics.
// `npx vox-bench compare BASE.json NEW.json`: did it get slower. This file does the I/O and printing;
// the work is in the modules beside it (clips, run, assemble, derive, render, html, compare, sustained).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Argv } from "yargs";
import { rmTracked, trackedTempDir } from "../../lib/cleanup.js";
import { checkAudioFile, checkModelDir, checkPositive } from "../../lib/inputs.js";
import { engineModelFacts } from "../../lib/engine-info.js";
import { collectEnvironment, type Environment } from "../../lib/environment.js";
import { EngineUnavailableError, EXIT, InputError, UsageError, VoxError } from "../../lib/errors.js";
import { parseParams, type ModelParams } from "../../lib/model.js";
import { engineBinary } from "../../lib/paths.js";
import { prepareReportsDir, reportHeader, schemaErrors, writeReport } from "../../lib/report.js";
import { ensureSynthetic, type SyntheticSize } from "../../lib/synthetic.js";
import { bf16Bytes, engineTensors } from "../../lib/tensors.js";
import { assemble } from "./assemble.js";
import { measureBandwidth } from "./bandwidth.js";
import { audioClips, findSpeech, parseSeconds, writeClips } from "./clips.js";
import { compareReports, parseThreshold, renderCompare } from "./compare.js";
import { renderHtml } from "./html.js";
import { runLive } from "./live-run.js";
import { Progress } from "./progress.js";
import { csvRows, renderMarkdown, renderTable } from "./render.js";
import { runPlan, type Plan } from "./run.js";
import { runSustained } from "./sustained.js";
import type { Backend, BenchReport, ModelInfo, Sustained } from "./types.js";

export interface BenchArgs {
  model?: string;
  synthetic?: string;
  seed: number;
  backend: string;
  audio?: string[];
  seconds?: string;
  repeat: number;
  warmup: number;
  threads?: number;
  ignoreEos?: boolean;
  sustained?: number;
  timeout: number;
  json: boolean;
  csv: boolean;
  markdown: boolean;
  html: boolean;
  out?: string;
  live?: number;
}

export function benchOptions<T>(y: Argv<T>): Argv<T & BenchArgs> {
  return y
    .option("model", { type: "string", describe: "model folder (params.json, consolidated.safetensors, tekken.json)" })
    .option("synthetic", {
      type: "string",
      choices: ["full", "tiny"],
      describe: "bench a synthetic model (random BF16 weights; full = real shapes, ~8.9 GB, written once to the cache)",
    })
    .option("seed", { type: "number", default: 0, describe: "seed of the synthetic model" })
    .option("backend", {
      type: "string",
      default: "auto",
      describe: "comma-separated backends: cpu,cuda (auto: cuda when the engine finds a GPU, else cpu)",
    })
    .option("audio", { type: "string", array: true, describe: "16-bit PCM WAV files to bench on" })
    .option("seconds", { type: "string", describe: "clip lengths cut or looped from real speech (default 3.6,11,180)" })
    .option("repeat", { type: "number", default: 5, describe: "measured repetitions per backend and clip" })
    .option("warmup", { type: "number", default: 1, describe: "discarded runs before the measured ones" })
    .option("threads", { type: "number", describe: "engine CPU threads (engine default when absent)" })
    .option("ignore-eos", {
      type: "boolean",
      describe: "decode through EOS (default: on for --synthetic, off for a real model)",
    })
    .option("sustained", {
      type: "number",
      describe: "also one run of this many seconds per backend: ms/step, RSS and GPU memory per quarter",
    })
    .option("timeout", { type: "number", default: 3600, describe: "seconds before one engine run is killed" })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "print the report JSON on stdout (no table, no progress)",
    })
    .option("csv", { type: "boolean", default: false, describe: "also write reports/bench-<time>.csv" })
    .option("markdown", { type: "boolean", default: false, describe: "also write reports/bench-<time>.md" })
    .option("html", {
      type: "boolean",
      default: false,
      describe: "also write reports/bench-<time>.html (charts, works offline)",
    })
    .option("out", { type: "string", describe: "folder for the reports (default $VOX_REPORTS_DIR or ./reports)" })
    .option("live", {
      type: "number",
      describe: "N concurrent real-time sessions through vox serve: delta latency, steps behind, first delta (live.ts)",
    });
}

/** "auto" | "cpu,cuda" -> the backends, checked against what the engine has. */
function resolveBackends(spec: string, env: Environment): Backend[] {
  if (spec === "auto") return [env.cuda.available ? "cuda" : "cpu"];
  const list = [
    ...new Set(
      spec
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  for (const b of list)
    if (b !== "cpu" && b !== "cuda")
      throw new UsageError(`unknown backend "${b}" in --backend ${spec}`, "Use --backend cpu, cuda or cpu,cuda.");
  if (list.length === 0) throw new UsageError("--backend names no backend", "Use --backend cpu, cuda or cpu,cuda.");
  if (list.includes("cuda") && !env.cuda.available) {
    throw new VoxError(
      `--backend cuda, but the engine cannot use a GPU here: ${env.cuda.reason ?? "no CUDA device"}`,
      "Run npx vox-doctor for what to fix, or bench --backend cpu.",
      EXIT.failed,
    );
  }
  return list as Backend[];
}

function checkArgs(a: BenchArgs): void {
  if (a.model && a.synthetic) throw new UsageError("--model and --synthetic exclude each other", "Pick one model.");
  if (a.audio && a.seconds)
    throw new UsageError(
      "--audio and --seconds exclude each other",
      "Bench given files (--audio) or made clips (--seconds).",
    );
  for (const [k, v, min] of [
    ["repeat", a.repeat, 1],
    ["warmup", a.warmup, 0],
    ["seed", a.seed, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${k} must be an integer >= ${min}, got ${v}`);
  }
  if (a.sustained !== undefined && !(a.sustained > 0))
    throw new UsageError(`--sustained must be a positive number of seconds, got ${a.sustained}`);
  checkPositive("--timeout", a.timeout);
  checkPositive("--threads", a.threads, true);
  if (a.seconds !== undefined) parseSeconds(a.seconds);
  if (a.model !== undefined) checkModelDir(a.model);
  for (const f of a.audio ?? []) checkAudioFile(f, "--audio");
}

function readBuildInfo(engine: string): Record<string, unknown> | null {
  const p = join(dirname(engine), "build-info.json");
  try {
    return JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export async function runBench(a: BenchArgs): Promise<number> {
  if (a.live !== undefined) return runLive({ ...a, live: a.live });
  // Every flag, input and the report folder before any work (the synthetic model alone is ~9 GB to write).
  checkArgs(a);
  prepareReportsDir(a.out, "--out");
  const progress = new Progress(!a.json);
  const engine = engineBinary();
  if (!existsSync(engine)) throw new EngineUnavailableError(`engine binary ${engine} does not exist`);
  progress.status("collecting environment facts ...");
  const environment = await collectEnvironment(engine);
  if (!environment.engine.available)
    throw new EngineUnavailableError(`voxtral --info failed: ${environment.engine.error ?? "no answer"}`);
  const backends = resolveBackends(a.backend, environment);

  let modelDir: string;
  let model: Omit<ModelInfo, "weightsBytes" | "decoderBytesPerStep">;
  if (a.synthetic) {
    const size = a.synthetic as SyntheticSize;
    progress.status(`synthetic ${size} model (seed ${a.seed}) ...`);
    const { dir, written } = await ensureSynthetic({
      size,
      seed: a.seed,
      engine,
      engineCommit: environment.engine.commit,
      onProgress: (done, total) => progress.status(`writing synthetic ${size} model: ${Progress.bar(done, total)}`),
    });
    progress.log(`${written ? "wrote" : "reusing"} synthetic ${size} model in ${dir}`);
    modelDir = dir;
    model = { source: "synthetic", dir, size, seed: a.seed };
  } else {
    modelDir = resolve(a.model ?? "voxtral-model");
    if (a.model === undefined && !existsSync(modelDir)) {
      throw new InputError(
        `no model in ${modelDir}`,
        "Pass --model DIR with the downloaded model, or bench without a download: --synthetic full.",
        true,
      );
    }
    checkModelDir(modelDir);
    model = { source: "dir", dir: modelDir, size: null, seed: null };
  }
  const paramsText = readFileSync(join(modelDir, "params.json"), "utf8");
  let params: ModelParams;
  try {
    params = parseParams(paramsText);
  } catch (e) {
    throw new InputError(
      (e as Error).message,
      "Check the model's params.json (npx vox-doctor --model DIR validates the folder).",
    );
  }
  const encWindow =
    (JSON.parse(paramsText) as { multimodal?: { whisper_model_args?: { encoder_args?: { sliding_window?: number } } } })
      .multimodal?.whisper_model_args?.encoder_args?.sliding_window ?? 750;
  let bytesPerStep: number;
  let weightsBytes: number;
  try {
    bytesPerStep = (await engineModelFacts(modelDir, engine)).decoder_bytes_per_step;
    weightsBytes = bf16Bytes(await engineTensors({ modelDir }, engine));
  } catch (e) {
    throw new InputError(
      (e as Error).message,
      "Check the model's params.json (npx vox-doctor --model DIR validates the folder).",
    );
  }

  const tmp = trackedTempDir("vox-bench-");
  try {
    const clips = a.audio
      ? audioClips(a.audio)
      : writeClips(parseSeconds(a.seconds ?? "3.6,11,180"), findSpeech(), tmp);
    const plan: Plan = {
      model: modelDir,
      backends,
      clips,
      repeat: a.repeat,
      warmup: a.warmup,
      ignoreEos: a.ignoreEos ?? a.synthetic !== undefined,
      threads: a.threads ?? null,
      engine,
      timeoutMs: a.timeout * 1000,
    };
    const notes: string[] = [];
    const bandwidth = [];
    for (const b of backends) {
      progress.status(`measuring ${b} copy bandwidth ...`);
      const bw = await measureBandwidth(b, engine);
      bandwidth.push(bw);
      progress.log(
        bw.gbps
          ? `${b} copy bandwidth: ${bw.gbps.toFixed(0)} GB/s (${bw.method})`
          : `${b} copy bandwidth not measured: ${bw.error}`,
      );
      if (bw.gbps === null) notes.push(`${b} copy bandwidth not measured (${bw.error}): no % of copy and no floor.`);
    }
    const raw = await runPlan(plan, progress);
    const sustained: Sustained[] = [];
    if (a.sustained !== undefined) {
      const [long] = a.audio ? [] : writeClips([a.sustained], findSpeech(), tmp);
      const path = long?.path ?? clips[0]!.path;
      for (const b of backends) {
        progress.status(`sustained ${b}: ${a.sustained} s of audio ...`);
        const s = await runSustained(plan, b, path, long?.clip.seconds ?? clips[0]!.clip.seconds);
        sustained.push(s);
        if (s.stepTimes === "unavailable" && !s.failure)
          notes.push(
            "ms/step per quarter needs per-step times from the engine (--json step_ms); this engine gives none.",
          );
      }
    }
    const report: BenchReport = {
      ...reportHeader("bench", environment),
      command: ["vox-bench", ...process.argv.slice(2)].join(" "),
      engineBuild: readBuildInfo(engine),
      model: { ...model, weightsBytes, decoderBytesPerStep: bytesPerStep },
      settings: { repeat: a.repeat, warmup: a.warmup, backends, ignoreEos: plan.ignoreEos, threads: plan.threads },
      bandwidth,
      results: assemble(raw, { params, encoderWindow: encWindow, bytesPerStep, bandwidth }),
      sustained,
      notes: [...new Set(notes)],
    };
    const extra: Record<string, (r: BenchReport) => string> = {};
    if (a.markdown) extra.md = renderMarkdown;
    if (a.html) extra.html = renderHtml;
    const written = writeReport("bench", report, { command: "bench", outDir: a.out, csv: a.csv, rows: csvRows, extra });
    if (a.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(renderTable(report));
    progress.log(`report: ${[written.json, written.csv, ...Object.values(written.extra)].filter(Boolean).join(", ")}`);
    const failed = report.results.some((r) => r.failures.length > 0) || sustained.some((s) => s.failure);
    return failed ? EXIT.failed : EXIT.ok;
  } finally {
    rmTracked(tmp);
  }
}

export interface CompareArgs {
  base: string;
  new: string;
  threshold: string;
  alpha: number;
  json: boolean;
  out?: string;
}

export function compareOptions<T>(y: Argv<T>): Argv<T & CompareArgs> {
  return y
    .positional("base", { type: "string", demandOption: true, describe: "the reference bench report (JSON)" })
    .positional("new", { type: "string", demandOption: true, describe: "the bench report to judge (JSON)" })
    .option("threshold", { type: "string", default: "5%", describe: "median change that counts (5% or 0.05)" })
    .option("alpha", { type: "number", default: 0.05, describe: "significance level of Welch's t-test" })
    .option("json", { type: "boolean", default: false, describe: "print the comparison JSON on stdout" })
    .option("out", {
      type: "string",
      describe: "folder for the compare report (default $VOX_REPORTS_DIR or ./reports)",
    }) as Argv<T & CompareArgs>;
}

/** Reads a bench report and checks it against the schema (a wrong file is the user's input error). */
function loadBenchReport(path: string): BenchReport {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(
      `cannot read ${path} as JSON (${(e as Error).message})`,
      "Pass the .json written by vox-bench.",
      !existsSync(path),
    );
  }
  const errors = schemaErrors("bench", data);
  if (errors.length > 0)
    throw new InputError(
      `${path} is not a vox-bench report: ${errors.slice(0, 3).join("; ")}`,
      "Pass the .json written by vox-bench (reports/bench-<time>.json).",
    );
  return data as BenchReport;
}

export async function runCompare(a: CompareArgs): Promise<number> {
  const threshold = parseThreshold(a.threshold);
  if (!(a.alpha > 0 && a.alpha < 1)) throw new UsageError(`--alpha must be between 0 and 1, got ${a.alpha}`);
  prepareReportsDir(a.out, "--out");
  const c = compareReports(
    { path: a.base, report: loadBenchReport(a.base) },
    { path: a.new, report: loadBenchReport(a.new) },
    { threshold, alpha: a.alpha },
  );
  if (c.rows.length === 0) {
    throw new InputError(
      "the two reports share no backend x clip with measurements",
      "Compare reports made with the same --backend and --seconds/--audio.",
    );
  }
  const written = writeReport("compare", c, { command: "compare", outDir: a.out });
  if (a.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
  else {
    process.stdout.write(renderCompare(c));
    console.error(`report: ${written.json}`);
  }
  return c.regressions > 0 ? EXIT.failed : EXIT.ok;
}
