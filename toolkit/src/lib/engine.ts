// The one module that starts the engine binary. Nothing here throws on a failing engine: every run
// returns a flat result whose `failure` says in words what went wrong (exit code meaning, signal,
// timeout, or the binary not starting), next to the raw stdout/stderr.
import { execa, execaSync, type ResultPromise } from "execa";
import { constants as osConstants } from "node:os";
import type { Readable } from "node:stream";
import { engineBinary } from "./paths.js";

/** The engine's exit codes (engine CLI contract). */
const ENGINE_EXIT_WORDS: Readonly<Record<number, string>> = {
  2: "usage",
  3: "model files",
  4: "audio input",
  5: "backend/device",
  6: "out of memory",
};

export type FailureKind = "usage" | "model" | "audio" | "backend" | "oom" | "exit" | "signal" | "timeout" | "spawn";

const KIND_BY_EXIT: Readonly<Record<number, FailureKind>> = {
  2: "usage",
  3: "model",
  4: "audio",
  5: "backend",
  6: "oom",
};

const SIGNAL_WORDS: Readonly<Record<string, string>> = {
  SIGSEGV: "segmentation fault",
  SIGABRT: "aborted",
  SIGBUS: "bus error",
  SIGFPE: "arithmetic exception",
  SIGILL: "illegal instruction",
  SIGKILL: "killed (out of memory killer or timeout)",
  SIGTERM: "terminated",
  SIGINT: "interrupted",
  SIGPIPE: "broken pipe",
};

export interface EngineResult {
  /** Exit status, null when the process died from a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** null on success; otherwise one sentence saying what failed. */
  failure: string | null;
  failureKind: FailureKind | null;
  /** The command line, for reports and error messages. */
  command: string;
}

export interface EngineOptions {
  /** Milliseconds before the engine is killed (SIGTERM, then SIGKILL 2 s later). Default 10 minutes. */
  timeoutMs?: number;
  /** Data for stdin (a WAV, raw PCM, or a stream); stdin is closed (empty) when absent. */
  input?: string | Uint8Array | Readable;
  /** Path of a file to send on stdin. */
  inputFile?: string;
  /** Keep stdin open as a pipe (startEngine: write to `process.stdin` yourself, then end it). */
  stdinPipe?: boolean;
  /** Extra environment variables (added to the current environment). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** What is collected into the result: false = neither stdout nor stderr (a long-lived process such
   *  as `--serve`, read through its streams), or per stream; what is not collected is "" in the result. */
  buffer?: boolean | { stdout: boolean; stderr: boolean };
  /** true: the engine gets its own process group, so a terminal's Ctrl-C (SIGINT to the foreground
   *  group) reaches only the parent, which ends the engine in order (`vox serve`). */
  detached?: boolean;
  /** Binary to run; default engineBinary() (VOX_ENGINE or engine/build/voxtral). */
  binary?: string;
}

/** The last `voxtral: error: ...` line of stderr, else its last non-empty line. */
export function engineErrorLine(stderr: string): string | null {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const errors = lines.filter((l) => /^voxtral: error:/.test(l));
  return errors.at(-1) ?? lines.at(-1) ?? null;
}

/** Words for a finished run; pure so it can be tested on captured results. */
export function describeFailure(r: {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stderr: string;
  spawnError?: string | null;
  timeoutMs?: number;
  binary?: string;
}): { failure: string | null; failureKind: FailureKind | null } {
  const detail = engineErrorLine(r.stderr);
  const suffix = detail ? `: ${detail}` : "";
  if (r.spawnError) {
    return {
      failure: `engine could not be started (${r.binary ?? "voxtral"}): ${r.spawnError}. Build it with make -C engine or set VOX_ENGINE`,
      failureKind: "spawn",
    };
  }
  if (r.timedOut) {
    return {
      failure: `engine timed out after ${r.timeoutMs ?? "?"} ms and was killed${suffix}`,
      failureKind: "timeout",
    };
  }
  if (r.signal) {
    const num = (osConstants.signals as Record<string, number>)[r.signal];
    const words = SIGNAL_WORDS[r.signal] ?? "killed by a signal";
    return {
      failure: `engine crashed: ${words} (${r.signal}${num ? `, signal ${num}` : ""})${suffix}`,
      failureKind: "signal",
    };
  }
  if (r.exitCode !== null && r.exitCode !== 0) {
    const words = ENGINE_EXIT_WORDS[r.exitCode];
    const kind = KIND_BY_EXIT[r.exitCode] ?? "exit";
    const what = words ? `${words} error (exit ${r.exitCode})` : `unexpected exit code ${r.exitCode}`;
    return { failure: `engine failed: ${what}${suffix}`, failureKind: kind };
  }
  return { failure: null, failureKind: null };
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

function spawn(
  args: readonly string[],
  opts: EngineOptions,
): { proc: ResultPromise; binary: string; timeoutMs: number } {
  const binary = opts.binary ?? engineBinary();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const stdinOpt =
    opts.inputFile !== undefined
      ? { inputFile: opts.inputFile }
      : opts.input !== undefined
        ? { input: opts.input }
        : { stdin: opts.stdinPipe ? ("pipe" as const) : ("ignore" as const) };
  const proc = execa(binary, [...args], {
    reject: false,
    timeout: timeoutMs,
    forceKillAfterDelay: 2000,
    env: opts.env,
    extendEnv: true,
    cwd: opts.cwd,
    encoding: "utf8",
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
    buffer: opts.buffer ?? true,
    detached: opts.detached ?? false,
    ...stdinOpt,
  });
  return { proc, binary, timeoutMs };
}

async function finish(
  proc: ResultPromise,
  binary: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<EngineResult> {
  return toResult(await proc, binary, args, timeoutMs);
}

/** What toResult reads of a finished execa run (async or sync). */
interface Finished {
  stdout?: unknown;
  stderr?: unknown;
  failed: boolean;
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  shortMessage?: string;
  durationMs: number;
}

function toResult(r: Finished, binary: string, args: readonly string[], timeoutMs: number): EngineResult {
  const stdout = typeof r.stdout === "string" ? r.stdout : "";
  const stderr = typeof r.stderr === "string" ? r.stderr : "";
  // execa sets `code` (ENOENT, EACCES, ...) when the process could not be spawned at all.
  const code = (r as { code?: string }).code;
  const spawnError =
    r.failed && r.exitCode === undefined && !r.signal && !r.timedOut
      ? (code ?? r.shortMessage ?? "unknown error")
      : null;
  const base = {
    exitCode: r.exitCode ?? null,
    signal: r.signal ?? null,
    timedOut: r.timedOut,
    stderr,
  };
  return {
    ...base,
    durationMs: r.durationMs,
    stdout,
    ...describeFailure({ ...base, spawnError, timeoutMs, binary }),
    command: [binary, ...args].join(" "),
  };
}

/** Runs the engine to completion. Never throws for engine failures; read `failure`. */
export async function runEngine(args: readonly string[], opts: EngineOptions = {}): Promise<EngineResult> {
  const { proc, binary, timeoutMs } = spawn(args, opts);
  return finish(proc, binary, args, timeoutMs);
}

/** runEngine for a quick query with no input (`--tensors`) where the caller is synchronous (the doctor's
 *  model facts). Same result; blocks until the engine exits. */
export function runEngineSync(
  args: readonly string[],
  opts: { binary?: string; timeoutMs?: number } = {},
): EngineResult {
  const binary = opts.binary ?? engineBinary();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const r = execaSync(binary, [...args], {
    reject: false,
    timeout: timeoutMs,
    stdin: "ignore",
    encoding: "utf8",
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  return toResult(r, binary, args, timeoutMs);
}

/** Starts the engine and hands back the live process (to read stdout as it streams, or write stdin)
 *  together with the promise of its final result. */
export function startEngine(
  args: readonly string[],
  opts: EngineOptions = {},
): { process: ResultPromise; result: Promise<EngineResult> } {
  const { proc, binary, timeoutMs } = spawn(args, opts);
  return { process: proc, result: finish(proc, binary, args, timeoutMs) };
}

/** Parses the engine's JSON stdout (--json, --info); throws with the text when it is not JSON. */
export function parseEngineJson<T = unknown>(r: EngineResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(
      `engine printed no valid JSON on stdout (${r.command}); stdout starts: ${JSON.stringify(r.stdout.slice(0, 200))}`,
    );
  }
}
