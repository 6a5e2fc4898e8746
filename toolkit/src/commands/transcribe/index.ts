// `vox transcribe FILE... | - | --mic`: speech in, text out, as it is decided. Each input streams
// through its own engine process (`voxtral --stdin --events`), one after another; the text of each
// token is printed the moment its event arrives, and at the end the transcript is rendered in the
// formats asked for (text, json, verbose_json, srt, vtt), to stdout or to --output-dir.
// With no arguments it runs the bundled tiny test model on its own audio, so a fresh checkout can
// show the whole pipeline working; the engine is built first (once) when it is missing.
import { join } from "node:path";
import type { Argv } from "yargs";
import { ensureEngineBuilt } from "../../lib/build-lock.js";
import { chooseCapture, collectCaptureFacts } from "../../lib/capture.js";
import { EXIT, InputError, UsageError, VoxError } from "../../lib/errors.js";
import { timedToken, type EngineEvent } from "../../lib/events.js";
import { isFixture, readFixture } from "../../lib/fixture.js";
import { checkModelDir, checkPositive } from "../../lib/inputs.js";
import { ensureWritableDir } from "../../lib/output.js";
import { fixturesDir } from "../../lib/paths.js";
import { transcribeLive, type LiveOutcome } from "../../lib/transcribe.js";
import { buildTranscript, renderTranscript, type OutputFormat } from "../../lib/transcript.js";
import { ffmpegProblem, micInput, openInput, RAW_BYTES_PER_MS, resolveFileInputs, type Input } from "./inputs.js";
import { ArrivalClock, micSummary, summarizeLatency } from "./latency.js";
import { outputPath, writeOutputs } from "./outputs.js";
import { clearProgress, drawProgress, progressLine } from "./progress.js";
import type { BackendChoice } from "../../lib/backend.js";

/** The bundled model used when --model is not given (a tiny random model: its text is meaningless). */
export const DEFAULT_MODEL = "tiny-delay";

/** --model and --backend as vox transcribe and vox serve declare them. */
export const MODEL_OPTION = {
  type: "string",
  describe: `model folder (default: the bundled test model checks/fixtures/${DEFAULT_MODEL})`,
} as const;
export const BACKEND_OPTION = {
  choices: ["auto", "cpu", "cuda"],
  default: "auto",
  describe: "engine backend",
} as const;

/** --format names: OpenAI's, with txt as the file extension's spelling of text. */
const FORMAT_CHOICES = ["txt", "text", "json", "verbose_json", "srt", "vtt"] as const;
type FormatChoice = (typeof FORMAT_CHOICES)[number];
const toFormat = (f: FormatChoice): OutputFormat => (f === "txt" ? "text" : f);

export interface TranscribeArgs {
  audio?: string[];
  model?: string;
  backend: BackendChoice;
  "delay-ms"?: number;
  json: boolean;
  format?: FormatChoice[];
  "output-dir"?: string;
  quiet: boolean;
  mic: boolean;
  "mic-device"?: string;
  "mic-input"?: string;
  timeout: number;
}

export function transcribeOptions<T>(y: Argv<T>): Argv<T & TranscribeArgs> {
  return y
    .positional("audio", {
      type: "string",
      array: true,
      describe:
        "audio files (any format ffmpeg reads; WAV needs no ffmpeg), or - for stdin; default: the bundled model's clip",
    })
    .option("model", MODEL_OPTION)
    .option("backend", BACKEND_OPTION)
    .option("delay-ms", {
      type: "number",
      describe: "transcription delay, 80..2400 ms (default: the fixture's, else 480)",
    })
    .option("format", {
      type: "string",
      array: true,
      choices: FORMAT_CHOICES,
      describe: "output format(s): txt, json, verbose_json, srt, vtt (several need --output-dir)",
    })
    .option("output-dir", { type: "string", describe: "write <input name>.<ext> per input and format into DIR" })
    .option("quiet", { type: "boolean", default: false, describe: "no progress line on stderr" })
    .option("mic", {
      type: "boolean",
      default: false,
      describe: "transcribe the microphone until Ctrl-C (PulseAudio, WSLg's included, else ALSA)",
    })
    .option("mic-device", { type: "string", describe: "PulseAudio source or ALSA device for --mic (default: default)" })
    .option("mic-input", {
      type: "string",
      hidden: true,
      describe: "testing: an ffmpeg source standing in for the microphone (lavfi:GRAPH or a file, read in real time)",
    })
    .option("json", {
      type: "boolean",
      default: false,
      describe: "print the engine's JSON result per input (text, tokens, token_times_ms, timings)",
    })
    .option("timeout", {
      type: "number",
      default: 3600 * 24,
      describe: "seconds before an engine run is stopped",
    }) as unknown as Argv<T & TranscribeArgs>;
}

interface Plan {
  model: string;
  delayMs?: number;
  bundled: boolean;
  inputs: Input[];
  /** formats for --output-dir */
  files: OutputFormat[];
  /** what goes to stdout: live text, one rendered format after each input, or the engine's JSON */
  stdout: "live" | OutputFormat | "engine-json";
}

/** Model, inputs and outputs from the arguments, checked before any engine starts. */
async function plan(a: TranscribeArgs): Promise<Plan> {
  const model = checkModelDir(a.model ?? join(fixturesDir(), DEFAULT_MODEL));
  const fx = isFixture(model) ? readFixture(model) : null;
  const names = a.audio ?? [];
  if (a.mic && names.length > 0) throw new UsageError("--mic transcribes the microphone: give no audio files with it");
  if (!a.mic && (a["mic-device"] !== undefined || a["mic-input"] !== undefined))
    throw new UsageError("--mic-device needs --mic");
  let inputs: Input[];
  if (a.mic) inputs = [await resolveMic(a)];
  else if (names.length > 0) inputs = await resolveFileInputs(names);
  else if (fx) inputs = await resolveFileInputs([fx.audio]);
  else
    throw new InputError(
      `no audio file given for ${model}`,
      "Pass the audio: vox transcribe FILE... --model DIR (or - for stdin, --mic for the microphone).",
      true,
    );
  const formats = [...new Set((a.format ?? []).map(toFormat))];
  const outDir = a["output-dir"];
  if (outDir === undefined && formats.length > 1) {
    throw new UsageError(
      `${formats.length} formats need --output-dir (stdout takes one)`,
      "Add --output-dir DIR, or keep one --format.",
    );
  }
  if (a.json && formats.length > 0 && outDir === undefined)
    throw new UsageError(
      "--json and --format both print on stdout",
      "Keep one, or add --output-dir DIR for the files.",
    );
  if (outDir !== undefined) {
    const seen = new Map<string, string>();
    for (const i of inputs) {
      const other = seen.get(i.stem);
      if (other)
        throw new UsageError(
          `${other} and ${i.label} would both write ${outputPath(outDir, i.stem, formats[0] ?? "text")}`,
          "Transcribe them in separate runs or rename one.",
        );
      seen.set(i.stem, i.label);
    }
  }
  const files = outDir !== undefined ? (formats.length > 0 ? formats : ["text" as const]) : [];
  const stdout = a.json
    ? "engine-json"
    : outDir === undefined && formats[0] && formats[0] !== "text"
      ? formats[0]
      : "live";
  return { model, delayMs: a["delay-ms"] ?? fx?.delayMs, bundled: a.model === undefined, inputs, files, stdout };
}

async function resolveMic(a: TranscribeArgs): Promise<Input> {
  if (a["mic-input"] !== undefined) return micInput(null, a["mic-input"]);
  const v = chooseCapture(await collectCaptureFacts(), a["mic-device"]);
  if (!v.ok) throw new VoxError(v.problem, v.fix, EXIT.engineUnavailable);
  return micInput(v.choice);
}

// Control characters other than newline and tab would garble a terminal: shown as spaces (as in the
// transcript's words).
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Writes text and the progress line on the terminal without the two overwriting each other. */
class Screen {
  readonly progress: boolean;
  readonly below = process.stdout.isTTY === true;
  #shown = false;
  #started = false;
  #last = 0;

  /** `files`: the inputs are files or stdin (the microphone has no length to show progress against) */
  constructor(quiet: boolean, files: boolean) {
    this.progress = !quiet && process.stderr.isTTY === true && files;
  }

  text(s: string): void {
    let t = s.replace(UNPRINTABLE, " ");
    if (!this.#started) t = t.trimStart();
    if (t.length === 0) return;
    this.#started = true;
    if (this.below) this.hide(); // the text goes where the progress line is
    process.stdout.write(t);
  }

  /** Ends the current input's text with a newline (when any was printed). */
  endText(): void {
    this.hide();
    if (this.#started) process.stdout.write("\n");
    this.#started = false;
  }

  show(line: string, now: number): void {
    if (!this.progress || now - this.#last < 100) return;
    this.#last = now;
    process.stderr.write(drawProgress(line, this.below, process.stderr.columns || 80));
    this.#shown = true;
  }

  hide(): void {
    if (!this.#shown) return;
    process.stderr.write(clearProgress(this.below));
    this.#shown = false;
  }
}

interface Finished {
  outcome: LiveOutcome;
  exitCode: number;
}

/** Runs one input through the engine, printing as it goes; writes its outputs. */
async function runOne(
  p: Plan,
  a: TranscribeArgs,
  input: Input,
  abort: AbortController,
  screen: Screen,
): Promise<Finished> {
  const src = await openInput(input);
  const live = p.stdout === "live";
  const clock = input.kind === "mic" ? new ArrivalClock() : null;
  const latencies: number[] = [];
  const t0 = performance.now();
  const onEvent = (e: EngineEvent) => {
    const now = performance.now();
    if (e.type === "token" && !e.control && e.text.length > 0) {
      if (live) screen.text(e.text);
      const arrived = clock?.arrivalOf(e.end_ms);
      if (arrived !== undefined && arrived !== null) latencies.push(performance.now() - arrived);
    } else if (e.type === "progress") {
      screen.show(
        progressLine({ label: input.label, decodedMs: e.decoded_ms, totalMs: input.durationMs, elapsedMs: now - t0 }),
        now,
      );
    }
  };
  const stopSource = () => src.stop();
  abort.signal.addEventListener("abort", stopSource, { once: true });
  const outcome = await transcribeLive({
    model: p.model,
    backend: a.backend,
    delayMs: p.delayMs,
    timeoutMs: a.timeout * 1000,
    input: src.stream,
    onEvent,
    onFed: clock ? (bytes) => clock.arrived(bytes / RAW_BYTES_PER_MS, performance.now()) : undefined,
    onStderr: (line) => {
      screen.hide();
      process.stderr.write(`${line}\n`);
    },
    signal: abort.signal,
  });
  abort.signal.removeEventListener("abort", stopSource);
  screen.endText();
  const interrupted = abort.signal.aborted || outcome.done?.interrupted === true;
  const feedProblem = await ffmpegProblem(src, abort.signal.aborted);
  if (input.kind === "mic")
    console.error(`vox transcribe: ${micSummary(clock!.capturedMs, summarizeLatency(latencies))}`);
  // The engine's count of user audio; when it ended without one, what it said it had consumed.
  const audioMs = outcome.done ? outcome.done.audio_seconds * 1000 : (outcome.progress?.consumed_ms ?? 0);
  const failed = outcome.error !== null || feedProblem !== null;
  if (failed && !(interrupted && outcome.tokens.length > 0)) {
    if (feedProblem) {
      console.error(
        `vox transcribe: error: ${input.label}: ${feedProblem}. Check that ffmpeg can read it: ffmpeg -i ${input.label} -f null -`,
      );
      return { outcome, exitCode: EXIT.badInput };
    }
    console.error(`vox transcribe: ${input.label}: ${outcome.error}`);
    if (outcome.run.failureKind === "spawn") return { outcome, exitCode: EXIT.engineUnavailable };
    return { outcome, exitCode: outcome.run.exitCode && outcome.run.exitCode > 0 ? outcome.run.exitCode : EXIT.failed };
  }
  const transcript = buildTranscript(outcome.tokens.map(timedToken), audioMs);
  if (p.stdout === "engine-json" && outcome.done) {
    const { type: _type, ...result } = outcome.done;
    console.log(JSON.stringify(result));
  } else if (p.stdout !== "live" && p.stdout !== "engine-json") {
    process.stdout.write(renderTranscript(transcript, p.stdout, { incomplete: interrupted && input.kind !== "mic" }));
  }
  const incompleteFile = interrupted && input.kind !== "mic";
  if (a["output-dir"] !== undefined) {
    const written = writeOutputs(a["output-dir"], input.stem, transcript, p.files, incompleteFile);
    if (incompleteFile)
      console.error(`vox transcribe: interrupted: wrote what was decided so far to ${written.join(", ")}`);
  }
  return { outcome, exitCode: interrupted && input.kind !== "mic" ? EXIT.interrupted : EXIT.ok };
}

export async function runTranscribe(a: TranscribeArgs): Promise<number> {
  checkPositive("--timeout", a.timeout);
  if (a["delay-ms"] !== undefined && !Number.isFinite(a["delay-ms"]))
    throw new UsageError("--delay-ms must be a number of milliseconds (80..2400, a multiple of 80)");
  const p = await plan(a);
  if (a["output-dir"] !== undefined) ensureWritableDir(a["output-dir"], "--output-dir");
  await ensureEngineBuilt({ note: (l) => console.error(l) });
  const screen = new Screen(a.quiet, !a.mic);
  const abort = new AbortController();
  // Ctrl-C: stop feeding; the engine decides what it has, the outputs are written (marked incomplete).
  // A second Ctrl-C leaves at once (the engine's stdin is closed and it is killed by its grace timer).
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    abort.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let exitCode: number = EXIT.ok;
  try {
    for (const input of p.inputs) {
      if (abort.signal.aborted) break;
      const r = await runOne(p, a, input, abort, screen);
      if (exitCode === EXIT.ok) exitCode = r.exitCode;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    screen.hide();
    // Everything written to a pipe is out before the process exits (a long --json can be megabytes).
    await new Promise<void>((done) => process.stdout.write("", () => done()));
  }
  if (p.bundled && exitCode === EXIT.ok && p.stdout === "live") {
    console.error(
      `vox: note: that was the bundled tiny random model (${DEFAULT_MODEL}): its text is meaningless by design; the pipeline ran end to end. Use --model DIR for the real model.`,
    );
  }
  return exitCode;
}
