// One transcription through the engine with --json (and optionally --dump), its JSON checked against
// the engine CLI contract (used by smoke and accuracy), and a live one with --stdin --events (used by
// vox transcribe). The engine itself is started by engine.ts.
import { join } from "node:path";
import type { Readable } from "node:stream";
import { runEngine, startEngine, type EngineOptions, type EngineResult } from "./engine.js";
import {
  LineSplitter,
  parseEventLine,
  type DoneEvent,
  type EngineEvent,
  type ErrorEvent,
  type ProgressEvent,
  type TokenEvent,
} from "./events.js";
import type { EngineJson } from "../generated/schemas.js";
import type { Backend, BackendChoice } from "./backend.js";

/** The keys of the engine's timings_ms (the engine CLI contract). */
export const TIMING_KEYS = [
  "load",
  "mel",
  "encoder",
  "adapter",
  "prefill",
  "decode",
  "decode_per_step",
  "first_token",
  "wall",
] as const;

/** The fields of the engine's --json object (checks/schemas/events.schema.json, engineJson) that smoke,
 *  accuracy and transcribe read. */
export type EngineTranscript = Pick<
  EngineJson,
  | "text"
  | "tokens"
  | "n_audio"
  | "audio_seconds"
  | "backend"
  | "device"
  | "delay_ms"
  | "threads"
  | "timings_ms"
  | "n_steps"
  | "peak_rss_mb"
  | "gpu_mem_mb"
>;

/** What is wrong with an engine --json object, as sentences (empty = matches the contract). */
function transcriptProblems(x: unknown): string[] {
  if (typeof x !== "object" || x === null) return ["the engine's JSON is not an object"];
  const o = x as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof o.text !== "string") problems.push('"text" is not a string');
  if (!Array.isArray(o.tokens) || !o.tokens.every((t) => Number.isInteger(t)))
    problems.push('"tokens" is not an array of integers');
  if (o.backend !== "cpu" && o.backend !== "cuda")
    problems.push(`"backend" is ${JSON.stringify(o.backend)}, not cpu or cuda`);
  for (const k of ["n_audio", "audio_seconds", "delay_ms", "n_steps", "threads"]) {
    if (typeof o[k] !== "number") problems.push(`"${k}" is missing or not a number`);
  }
  const t = o.timings_ms as Record<string, unknown> | undefined;
  if (typeof t !== "object" || t === null) problems.push('"timings_ms" is missing');
  else {
    const bad = TIMING_KEYS.filter((k) => typeof t[k] !== "number" || !Number.isFinite(t[k]) || (t[k] as number) < 0);
    if (bad.length) problems.push(`timings_ms lacks non-negative numbers for ${bad.join(", ")}`);
  }
  return problems;
}

/** The backend a run must report: auto means cuda when the engine's CUDA loader found a device
 *  (from --info), so an automatic fallback to the CPU is caught rather than passed silently. */
export function expectedBackend(requested: BackendChoice, cudaAvailable: boolean): Backend {
  return requested === "auto" ? (cudaAvailable ? "cuda" : "cpu") : requested;
}

export interface TranscribeOptions {
  model: string;
  /** a file (-i); omit when `stdin` is given */
  audio?: string;
  /** bytes or a file to pipe with --stdin */
  stdin?: { input?: Uint8Array; inputFile?: string };
  backend?: string;
  delayMs?: number;
  dumpDir?: string;
  dumpSteps?: number;
  extraArgs?: string[];
  engine?: EngineOptions;
}

export interface TranscribeOutcome {
  run: EngineResult;
  transcript: EngineTranscript | null;
  /** null when the run succeeded and its JSON matches the contract; else what went wrong in words */
  error: string | null;
}

export function transcribeArgs(o: TranscribeOptions): string[] {
  const args = ["-d", o.model];
  if (o.stdin) args.push("--stdin");
  else if (o.audio) args.push("-i", o.audio);
  if (o.backend) args.push("--backend", o.backend);
  if (o.delayMs !== undefined) args.push("--delay-ms", String(o.delayMs));
  args.push("--json");
  if (o.dumpDir) args.push("--dump", o.dumpDir);
  if (o.dumpDir && o.dumpSteps !== undefined) args.push("--dump-steps", String(o.dumpSteps));
  return [...args, ...(o.extraArgs ?? [])];
}

/** Pure: an engine result -> transcript or error words. */
export function readTranscript(run: EngineResult): TranscribeOutcome {
  if (run.failure) return { run, transcript: null, error: run.failure };
  // The whole stdout is the object; a last-line fallback tolerates text printed before it.
  const out = run.stdout.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(out);
  } catch {
    try {
      parsed = JSON.parse(out.split("\n").at(-1) ?? "");
    } catch {
      parsed = undefined;
    }
  }
  if (parsed === undefined) {
    return {
      run,
      transcript: null,
      error: `engine exited 0 but printed no JSON object on stdout (starts ${JSON.stringify(run.stdout.slice(0, 120))})`,
    };
  }
  const problems = transcriptProblems(parsed);
  if (problems.length)
    return { run, transcript: null, error: `engine JSON breaks the CLI contract: ${problems.join("; ")}` };
  return { run, transcript: parsed as EngineTranscript, error: null };
}

export async function transcribe(o: TranscribeOptions): Promise<TranscribeOutcome> {
  const run = await runEngine(transcribeArgs(o), {
    ...o.engine,
    ...(o.stdin?.input ? { input: o.stdin.input } : {}),
    ...(o.stdin?.inputFile ? { inputFile: o.stdin.inputFile } : {}),
  });
  return readTranscript(run);
}

/** Paths the engine's --dump DIR writes. */
export function dumpFiles(dir: string): { logits: string; tokens: string; mel: string; audioEmbeds: string } {
  return {
    logits: join(dir, "logits.npy"),
    tokens: join(dir, "tokens.json"),
    mel: join(dir, "mel.npy"),
    audioEmbeds: join(dir, "audio_embeds.npy"),
  };
}

export interface LiveOptions {
  model: string;
  backend?: string;
  delayMs?: number;
  extraArgs?: string[];
  timeoutMs?: number;
  /** WAV or raw s16le 16 kHz mono bytes, piped into the engine's --stdin as they arrive */
  input: Readable;
  /** every event, in order, as soon as its line arrives */
  onEvent?: (e: EngineEvent) => void;
  /** after each chunk of input was handed to the engine: bytes so far */
  onFed?: (totalBytes: number) => void;
  /** each line the engine writes on stderr (notes, its error line) */
  onStderr?: (line: string) => void;
  /** abort = stop feeding: the engine's stdin is closed, so it decides what it has and ends with done */
  signal?: AbortSignal;
  /** after an abort, milliseconds before the engine is killed if it has not ended (default 10 s) */
  graceMs?: number;
}

export interface LiveOutcome {
  run: EngineResult;
  /** the final done event; null when the engine failed or was killed */
  done: DoneEvent | null;
  tokens: TokenEvent[];
  /** the last progress event (user audio fed when no done event came) */
  progress: ProgressEvent | null;
  /** the engine's error event, when it wrote one */
  errorEvent: ErrorEvent | null;
  /** null when the run ended with a done event; else what went wrong in words */
  error: string | null;
  /** the input was cut short by `signal` */
  aborted: boolean;
}

/** One engine run with --stdin --events: input streamed in, events handed out as they are decided.
 *  Memory stays flat: nothing of the input or of the engine's stdout is kept but the token events. */
export async function transcribeLive(o: LiveOptions): Promise<LiveOutcome> {
  const args = ["-d", o.model, "--stdin", "--events"];
  if (o.backend) args.push("--backend", o.backend);
  if (o.delayMs !== undefined) args.push("--delay-ms", String(o.delayMs));
  args.push(...(o.extraArgs ?? []));
  const { process: proc, result } = startEngine(args, {
    stdinPipe: true,
    timeoutMs: o.timeoutMs,
    buffer: { stdout: false, stderr: true },
  });
  const tokens: TokenEvent[] = [];
  let done: DoneEvent | null = null;
  let progress: ProgressEvent | null = null;
  let errorEvent: ErrorEvent | null = null;
  let badLine: string | null = null;
  const handle = (line: string) => {
    let e: EngineEvent;
    try {
      e = parseEventLine(line);
    } catch (err) {
      badLine ??= (err as Error).message;
      return;
    }
    if (e.type === "token") tokens.push(e);
    else if (e.type === "done") done = e;
    else if (e.type === "progress") progress = e;
    else if (e.type === "error") errorEvent = e;
    o.onEvent?.(e);
  };
  const out = new LineSplitter();
  proc.stdout?.on("data", (chunk: Buffer) => {
    for (const l of out.push(chunk)) handle(l);
  });
  const errLines = new LineSplitter();
  proc.stderr?.on("data", (chunk: Buffer) => {
    for (const l of errLines.push(chunk)) o.onStderr?.(l);
  });
  // Feed the input; an engine that exits early closes its stdin (EPIPE): stop reading the input then.
  let fed = 0;
  const stdin = proc.stdin!;
  stdin.on("error", () => o.input.destroy());
  const onData = (chunk: Buffer) => {
    fed += chunk.length;
    if (!stdin.write(chunk)) o.input.pause();
    o.onFed?.(fed);
  };
  stdin.on("drain", () => o.input.resume());
  o.input.on("data", onData);
  o.input.on("end", () => stdin.end());
  o.input.on("error", () => stdin.end());
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const abort = () => {
    aborted = true;
    o.input.off("data", onData);
    o.input.destroy();
    stdin.end();
    killTimer = setTimeout(() => proc.kill("SIGKILL"), o.graceMs ?? 10_000);
  };
  if (o.signal?.aborted) abort();
  else o.signal?.addEventListener("abort", abort, { once: true });
  const run = await result;
  clearTimeout(killTimer);
  o.signal?.removeEventListener("abort", abort);
  o.input.destroy();
  for (const l of out.end()) handle(l);
  for (const l of errLines.end()) o.onStderr?.(l);
  const error = run.failure ?? badLine ?? (done ? null : "engine exited without a done event");
  return { run, done, tokens, progress, errorEvent, error, aborted };
}
