// What `vox transcribe` reads: WAV files (fed to the engine as they are: it reads every WAV itself),
// any other audio through ffmpeg (decoded to 16 kHz mono s16le), stdin (`-`: WAV as is, anything else
// through ffmpeg) and the microphone (ffmpeg from PulseAudio or ALSA). Every source is a byte stream
// into the engine's --stdin, so nothing is loaded whole: a three-hour file streams like a short one.
import { execa, type ResultPromise } from "execa";
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import type { CaptureChoice } from "../../lib/capture.js";
import { EXIT, UsageError, VoxError } from "../../lib/errors.js";
import { runCommand, which } from "../../lib/exec.js";
import { checkAudioFile } from "../../lib/inputs.js";

/** How the command line's "-" (stdin) reaches the command (yargs drops a bare "-"). */
export const STDIN_ARG = "\u0000stdin";

/** Bytes per millisecond of the engine's raw input: 16 kHz × 2 bytes. */
export const RAW_BYTES_PER_MS = 32;

export type Input =
  | { kind: "wav"; path: string; label: string; stem: string; durationMs: number | null }
  | { kind: "ffmpeg"; path: string; label: string; stem: string; durationMs: number | null }
  | { kind: "stdin"; label: string; stem: string; durationMs: null }
  | { kind: "mic"; label: string; stem: string; durationMs: null; ffmpegArgs: string[]; env: Record<string, string> };

export const FFMPEG_INSTALL = "Install ffmpeg (sudo apt-get install ffmpeg), or convert the file to WAV elsewhere.";
const DECODE_ARGS = ["-ac", "1", "-ar", "16000", "-f", "s16le", "-"];

/** "RIFF....WAVE" at the start. */
export function isWavHeader(head: Uint8Array): boolean {
  const s = Buffer.from(head.subarray(0, 12)).toString("latin1");
  return s.length === 12 && s.startsWith("RIFF") && s.slice(8) === "WAVE";
}

/** Milliseconds of audio a WAV header announces (the data chunk, capped by the file's size); null when
 *  the header cannot say (the engine then reports what is wrong with the file). */
export function wavDurationMs(head: Buffer, fileSize: number): number | null {
  let pos = 12;
  let byteRate: number | null = null;
  while (pos + 8 <= head.length) {
    const id = head.toString("latin1", pos, pos + 4);
    const size = head.readUInt32LE(pos + 4);
    if (id === "fmt " && pos + 16 <= head.length) byteRate = head.readUInt32LE(pos + 8 + 8);
    if (id === "data") {
      if (!byteRate) return null;
      const bytes = Math.min(size, Math.max(0, fileSize - (pos + 8)));
      return (bytes / byteRate) * 1000;
    }
    pos += 8 + size + (size & 1);
  }
  return null;
}

function readHead(path: string, n = 65536): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Seconds of a file as ffprobe reads them; null without ffprobe or when it cannot tell. */
async function probeDurationMs(path: string): Promise<number | null> {
  const ffprobe = which("ffprobe");
  if (!ffprobe) return null;
  const r = await runCommand(ffprobe, ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path], {
    timeoutMs: 30_000,
  });
  const s = Number.parseFloat(r.stdout.trim());
  return r.exitCode === 0 && Number.isFinite(s) && s > 0 ? s * 1000 : null;
}

const stemOf = (path: string): string => basename(path, extname(path)) || basename(path);

/** The inputs named on the command line, checked before anything runs (missing files: exit 66; a
 *  folder or an empty file: 65; a non-WAV file without ffmpeg: exit 69 with the install command). */
export async function resolveFileInputs(names: readonly string[]): Promise<Input[]> {
  const isStdin = (n: string) => n === "-" || n === STDIN_ARG;
  if (names.filter(isStdin).length > 1) throw new UsageError("stdin (-) can be given only once");
  const out: Input[] = [];
  for (const name of names) {
    if (isStdin(name)) {
      out.push({ kind: "stdin", label: "stdin", stem: "stdin", durationMs: null });
      continue;
    }
    const path = resolve(checkAudioFile(name));
    const st = statSync(path);
    const head = readHead(path);
    if (isWavHeader(head)) {
      out.push({ kind: "wav", path, label: name, stem: stemOf(path), durationMs: wavDurationMs(head, st.size) });
      continue;
    }
    if (!which("ffmpeg")) {
      throw new VoxError(
        `${name} is not a WAV file, and reading other formats needs ffmpeg, which is not installed`,
        FFMPEG_INSTALL,
        EXIT.engineUnavailable,
      );
    }
    out.push({ kind: "ffmpeg", path, label: name, stem: stemOf(path), durationMs: await probeDurationMs(path) });
  }
  return out;
}

/** The microphone as an input: from the capture choice, or (`testSource`) an ffmpeg lavfi graph
 *  ("lavfi:GRAPH") or a file read at real-time speed, standing in for a microphone. */
export function micInput(choice: CaptureChoice | null, testSource?: string): Input {
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
  let src: string[];
  if (testSource !== undefined)
    src = testSource.startsWith("lavfi:")
      ? ["-re", "-f", "lavfi", "-i", testSource.slice(6)]
      : ["-re", "-i", testSource];
  else src = ["-f", choice!.format, "-i", choice!.device];
  return {
    kind: "mic",
    label: testSource ?? choice!.describe,
    stem: `mic-${stamp}`,
    durationMs: null,
    ffmpegArgs: ["-nostdin", "-hide_banner", "-v", "error", ...src, ...DECODE_ARGS],
    env: choice?.env ?? {},
  };
}

export interface OpenedSource {
  stream: Readable;
  /** the ffmpeg process decoding or capturing, if any */
  ffmpeg: ResultPromise | null;
  /** ends the source early (Ctrl-C): ffmpeg is stopped */
  stop(): void;
}

function spawnFfmpeg(args: string[], env: Record<string, string> = {}, stdin?: Readable): ResultPromise {
  return execa(which("ffmpeg") ?? "ffmpeg", args, {
    reject: false,
    encoding: "buffer",
    buffer: { stdout: false, stderr: true },
    stdin: stdin ?? "ignore",
    env,
    extendEnv: true,
    forceKillAfterDelay: 2000,
  });
}

/** stdin: WAV bytes go to the engine as they are; anything else is decoded by ffmpeg. */
async function openStdin(): Promise<OpenedSource> {
  const head = await new Promise<Buffer>((done) => {
    const parts: Buffer[] = [];
    let n = 0;
    const finish = () => {
      process.stdin.off("data", onData);
      process.stdin.off("end", finish);
      process.stdin.pause();
      done(Buffer.concat(parts));
    };
    const onData = (b: Buffer) => {
      parts.push(b);
      n += b.length;
      if (n >= 12) finish();
    };
    process.stdin.on("data", onData);
    process.stdin.on("end", finish);
  });
  const replay = new PassThrough();
  replay.write(head);
  process.stdin.pipe(replay);
  process.stdin.resume();
  if (isWavHeader(head) || head.length === 0) return { stream: replay, ffmpeg: null, stop: () => replay.end() };
  if (!which("ffmpeg")) {
    throw new VoxError(
      "stdin is not WAV, and reading other formats needs ffmpeg, which is not installed",
      FFMPEG_INSTALL,
      EXIT.engineUnavailable,
    );
  }
  const ff = spawnFfmpeg(["-nostdin", "-hide_banner", "-v", "error", "-i", "pipe:0", ...DECODE_ARGS], {}, replay);
  return { stream: ff.stdout!, ffmpeg: ff, stop: () => ff.kill("SIGTERM") };
}

export async function openInput(i: Input): Promise<OpenedSource> {
  switch (i.kind) {
    case "wav": {
      const s = createReadStream(i.path);
      return { stream: s, ffmpeg: null, stop: () => s.destroy() };
    }
    case "ffmpeg": {
      const ff = spawnFfmpeg(["-nostdin", "-hide_banner", "-v", "error", "-i", i.path, ...DECODE_ARGS]);
      return { stream: ff.stdout!, ffmpeg: ff, stop: () => ff.kill("SIGTERM") };
    }
    case "mic": {
      const ff = spawnFfmpeg(i.ffmpegArgs, i.env);
      return { stream: ff.stdout!, ffmpeg: ff, stop: () => ff.kill("SIGINT") };
    }
    case "stdin":
      return openStdin();
  }
}

/** ffmpeg's failure in words (null when it ended well or was stopped on purpose). */
export async function ffmpegProblem(src: OpenedSource, stopped: boolean): Promise<string | null> {
  if (!src.ffmpeg) return null;
  const r = await src.ffmpeg;
  if (stopped || r.exitCode === 0) return null;
  const err =
    Buffer.from((r.stderr as unknown as Uint8Array | undefined) ?? [])
      .toString("utf8")
      .trim()
      .split("\n")[0] ?? "";
  const code = (r as { code?: string }).code;
  if (code === "ENOENT") return "ffmpeg could not be started (not found)";
  return `ffmpeg failed (${r.signal ?? `exit ${r.exitCode}`})${err ? `: ${err}` : ""}`;
}
