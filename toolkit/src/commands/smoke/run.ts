// The smoke checks, each one engine run (or two at once) on the same model and audio:
//   file        -i AUDIO --json                      the reference run
//   stdin-pcm   raw s16le 16 kHz mono on stdin       same token ids as the file run
//   stdin-wav   the WAV bytes on stdin               same token ids
//   ffmpeg      ffmpeg -i OGG -f s16le ... | --stdin decodes something (skipped without ffmpeg or the .ogg)
//   concurrent  two file runs at the same time       both succeed with the reference's token ids
//   bad-input   -i a text file                       exit 4 with one "voxtral: error: ..." line
//   realtime    the audio through vox serve's WS /v1/realtime (vLLM protocol)   the file run's text and token count
import { execa } from "execa";
import { existsSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { rmTracked, trackedTempDir } from "../../lib/cleanup.js";
import { startEngine } from "../../lib/engine.js";
import type { Environment } from "../../lib/environment.js";
import { which } from "../../lib/exec.js";
import {
  expectedBackend,
  readTranscript,
  transcribe,
  transcribeArgs,
  type EngineTranscript,
} from "../../lib/transcribe.js";
import { readWav } from "../../lib/wav.js";
import { reportHeader } from "../../lib/report.js";
import { transcribeRealtime } from "../serve/client.js";
import { startServer } from "../serve/index.js";
import { judgeTranscript, skipped, summarizeChecks, type SmokeCheck } from "./judge.js";
import type { Backend, BackendChoice } from "../../lib/backend.js";
import type { SmokeSchema } from "../../generated/schemas.js";

export interface SmokeOptions {
  model: string;
  audio: string;
  delayMs?: number;
  backend: BackendChoice;
  /** an .ogg (or any ffmpeg-readable file) for the ffmpeg pipe; null: skip that check */
  ffmpegAudio: string | null;
  timeoutMs: number;
  environment: Environment;
}

/** Generated from checks/schemas (the schema is the authority). */
export type SmokeReport = SmokeSchema;

async function ffmpegCheck(o: SmokeOptions, expected: Backend): Promise<SmokeCheck> {
  const title = "ffmpeg pipe into --stdin";
  const ffmpeg = which("ffmpeg");
  if (!ffmpeg) return skipped("ffmpeg", title, "ffmpeg is not on PATH (install it: sudo apt-get install ffmpeg)");
  if (!o.ffmpegAudio || !existsSync(o.ffmpegAudio))
    return skipped("ffmpeg", title, `no audio for the pipe (${o.ffmpegAudio ?? "none given"}); pass --ogg FILE`);
  const args = transcribeArgs({ model: o.model, stdin: {}, backend: o.backend, delayMs: o.delayMs });
  const dec = execa(
    ffmpeg,
    ["-nostdin", "-v", "error", "-i", o.ffmpegAudio, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
    { reject: false, encoding: "buffer", stdout: "pipe", timeout: o.timeoutMs },
  );
  const eng = startEngine(args, { stdinPipe: true, timeoutMs: o.timeoutMs });
  dec.stdout?.pipe(eng.process.stdin!);
  dec.stdout?.on("error", () => undefined); // the engine may close its stdin early; its result says why
  eng.process.stdin?.on("error", () => undefined);
  // An engine that exits early (no GPU, bad input) stops reading: end ffmpeg too, or it blocks on the full pipe.
  const r = await eng.result;
  if (dec.exitCode === null) dec.kill();
  const d = await dec;
  const check = judgeTranscript("ffmpeg", title, readTranscript(r), expected, null);
  check.command = `ffmpeg -i ${o.ffmpegAudio} -f s16le -ac 1 -ar 16000 - | ${r.command}`;
  if (d.exitCode !== 0 && check.status === "pass") {
    return {
      ...check,
      status: "fail",
      detail: `ffmpeg failed (exit ${d.exitCode ?? d.signal}): ${
        Buffer.from(d.stderr ?? "")
          .toString()
          .trim()
          .split("\n")[0]
      }`,
      fix: "Check that ffmpeg can read the file.",
    };
  }
  return check;
}

async function badInputCheck(o: SmokeOptions, dir: string): Promise<SmokeCheck> {
  const title = "a non-audio file is refused with exit 4 and one error line";
  const bogus = join(dir, "not-audio.wav");
  writeFileSync(bogus, "this is not a WAV file\n");
  const out = await transcribe({
    model: o.model,
    audio: bogus,
    backend: o.backend,
    engine: { timeoutMs: o.timeoutMs },
  });
  const r = out.run;
  const lines = r.stderr.split("\n").filter((l) => /^voxtral: error: /.test(l));
  const base = {
    id: "bad-input",
    title,
    durationMs: Math.round(r.durationMs),
    command: r.command,
    text: null,
    backend: null,
    timingsMs: null,
  };
  if (r.exitCode === 4 && lines.length === 1 && r.signal === null)
    return { ...base, status: "pass", detail: lines[0]!, fix: null };
  return {
    ...base,
    status: "fail",
    detail: `expected exit 4 and one "voxtral: error:" line; got ${r.failure ?? "exit 0"} with ${lines.length} error lines`,
    fix: "The engine must report bad audio as exit 4 (engine CLI contract).",
  };
}

/** The live path: a `vox serve` on a free loopback port, the audio sent as a vLLM realtime client
 *  sends it; the text must be the file run's and the token count (usage) the same. */
async function realtimeCheck(
  o: SmokeOptions,
  expected: "cpu" | "cuda",
  ref: EngineTranscript | null,
): Promise<SmokeCheck> {
  const id = "realtime";
  const title = "the same audio through vox serve (WS /v1/realtime)";
  const pcm = readWav(o.audio);
  if (pcm.sampleRate !== 16000)
    return skipped(id, title, `${o.audio} is ${pcm.sampleRate} Hz; the realtime protocol carries 16 kHz PCM16`);
  if (!ref) return skipped(id, title, "the file run failed, so there is nothing to compare with");
  const t0 = Date.now();
  const base = {
    id,
    title,
    command: `vox serve --model ${o.model} --backend ${o.backend} (WS /v1/realtime)`,
    backend: null,
    timingsMs: null,
  };
  const fail = (detail: string, text: string | null = null): SmokeCheck => ({
    ...base,
    status: "fail",
    detail,
    fix: "Run npx vox serve --model DIR and the tests of toolkit/test/commands/serve to see what breaks.",
    durationMs: Date.now() - t0,
    text,
  });
  let started: Awaited<ReturnType<typeof startServer>>;
  try {
    started = await startServer({
      model: o.model,
      backend: o.backend,
      delayMs: o.delayMs,
      host: "127.0.0.1",
      port: 0,
      maxSessions: 2,
      apiKey: null,
      maxBodyBytes: 1 << 20,
    });
  } catch (e) {
    return fail(`vox serve did not start: ${(e as Error).message}`);
  }
  try {
    if (started.ready.backend !== expected)
      return fail(`asked for backend ${expected}, the engine reported ${String(started.ready.backend)}`);
    const bytes = new Uint8Array(pcm.samples.buffer, pcm.samples.byteOffset, pcm.samples.byteLength);
    const r = await transcribeRealtime({
      url: `ws://127.0.0.1:${started.addr.port}/v1/realtime`,
      model: basename(o.model),
      pcm: bytes,
      timeoutMs: o.timeoutMs,
    });
    if (r.errors.length > 0) return fail(`error event: ${JSON.stringify(r.errors[0])}`);
    if (!r.done) return fail("no transcription.done");
    if (r.done.text !== ref.text)
      return fail(
        `the text differs from the file run's (${r.done.text.length} vs ${ref.text.length} characters)`,
        r.done.text,
      );
    if (r.done.usage.completion_tokens !== ref.tokens.length)
      return fail(`${r.done.usage.completion_tokens} tokens, the file run decided ${ref.tokens.length}`, r.done.text);
    return {
      ...base,
      backend: String(started.ready.backend),
      status: "pass",
      detail: `${r.deltas.length} deltas, ${ref.tokens.length} tokens on ${String(started.ready.backend)}; same text and token count as the file run`,
      fix: null,
      durationMs: Date.now() - t0,
      text: r.done.text,
    };
  } catch (e) {
    return fail(`the realtime session failed: ${(e as Error).message}`);
  } finally {
    await started.server.close(2000);
  }
}

export async function smokeReport(o: SmokeOptions): Promise<SmokeReport> {
  const expected = expectedBackend(o.backend, o.environment.cuda.available);
  const common = { model: o.model, backend: o.backend, delayMs: o.delayMs, engine: { timeoutMs: o.timeoutMs } };
  const dir = trackedTempDir("vox-smoke-");
  const checks: SmokeCheck[] = [];
  try {
    const fileOut = await transcribe({ ...common, audio: o.audio });
    const file = judgeTranscript("file", "file transcription (-i)", fileOut, expected, null);
    checks.push(file);
    const ref: EngineTranscript | null = file.status === "pass" ? fileOut.transcript : null;
    const pcm = readWav(o.audio);
    const raw = join(dir, "audio.s16le");
    writeFileSync(raw, Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, pcm.samples.byteLength));
    if (pcm.sampleRate !== 16000)
      checks.push(
        skipped("stdin-pcm", "raw PCM on stdin", `${o.audio} is ${pcm.sampleRate} Hz; raw PCM must be 16 kHz`),
      );
    else
      checks.push(
        judgeTranscript(
          "stdin-pcm",
          "raw PCM (s16le 16 kHz) on stdin",
          await transcribe({ ...common, stdin: { inputFile: raw } }),
          expected,
          ref,
        ),
      );
    checks.push(
      judgeTranscript(
        "stdin-wav",
        "WAV on stdin",
        await transcribe({ ...common, stdin: { inputFile: o.audio } }),
        expected,
        ref,
      ),
    );
    checks.push(await ffmpegCheck(o, expected));
    const [a, b] = await Promise.all([
      transcribe({ ...common, audio: o.audio }),
      transcribe({ ...common, audio: o.audio }),
    ]);
    const ca = judgeTranscript("concurrent", "two engines at once", a, expected, ref);
    const cb = judgeTranscript("concurrent", "two engines at once", b, expected, ref);
    checks.push(
      ca.status !== "pass"
        ? ca
        : cb.status !== "pass"
          ? cb
          : { ...ca, detail: `both runs: ${ca.detail}`, durationMs: Math.max(ca.durationMs, cb.durationMs) },
    );
    checks.push(await badInputCheck(o, dir));
    checks.push(await realtimeCheck(o, expected, ref));
  } finally {
    rmTracked(dir);
  }
  return {
    ...reportHeader("smoke", o.environment),
    model: resolve(o.model),
    audio: resolve(o.audio),
    backendRequested: o.backend,
    backendExpected: expected,
    checks,
    ...summarizeChecks(checks),
  };
}
