// Smoke verdicts on captured engine outcomes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { expectedBackend, judgeTranscript, summarizeChecks, skipped } from "../../../src/commands/smoke/judge.js";
import type { EngineResult } from "../../../src/lib/engine.js";
import { readTranscript } from "../../../src/lib/transcribe.js";

// Captured from the CPU engine on checks/fixtures/tiny-real-windows (tokens shortened).
const STDOUT =
  '{"text":"","tokens":[253,253,890,19],"n_audio":95,"audio_seconds":3.6418,"backend":"cpu","device":"Intel(R) Xeon(R) Processor (2 threads, AVX2+FMA)","delay_ms":480,"threads":2,"timings_ms":{"load":1.137,"mel":24.338,"encoder":13.471,"adapter":0.219,"prefill":0.514,"decode":6.298,"decode_per_step":0.110,"first_token":52.554,"wall":66.307},"n_steps":4,"peak_rss_mb":12.6,"gpu_mem_mb":null}\n';

function result(over: Partial<EngineResult>): EngineResult {
  return {
    exitCode: 0,
    signal: null,
    timedOut: false,
    durationMs: 70,
    stdout: STDOUT,
    stderr: "",
    failure: null,
    failureKind: null,
    command: "voxtral -d m -i a.wav --json",
    ...over,
  };
}

test("a good run passes with numbers; the same tokens as a reference pass too", () => {
  const out = readTranscript(result({}));
  const c = judgeTranscript("file", "t", out, "cpu", null);
  assert.equal(c.status, "pass");
  assert.match(c.detail, /^4 tokens on cpu .*wall 66 ms$/);
  assert.equal(c.timingsMs?.decode_per_step, 0.11);
  assert.equal(judgeTranscript("stdin-wav", "t", out, "cpu", out.transcript).status, "pass");
});

test("wrong backend, different tokens, missing timings, no JSON and a crash each fail in words", () => {
  const out = readTranscript(result({}));
  assert.match(judgeTranscript("f", "t", out, "cuda", null).detail, /asked for backend cuda, the engine reported cpu/);
  const other = { ...out.transcript!, tokens: [253, 253, 891, 19] };
  assert.match(
    judgeTranscript("f", "t", out, "cpu", other).detail,
    /token ids differ from the file transcription at index 2/,
  );
  const noTimings = readTranscript(result({ stdout: STDOUT.replace('"wall":66.307', '"wall_x":1') }));
  assert.match(noTimings.error ?? "", /timings_ms lacks non-negative numbers for wall/);
  assert.match(readTranscript(result({ stdout: "hello\n" })).error ?? "", /printed no JSON object/);
  const crash = readTranscript(
    result({
      exitCode: null,
      signal: "SIGSEGV",
      stdout: "",
      failure: "engine crashed: segmentation fault (SIGSEGV, signal 11)",
      failureKind: "signal",
    }),
  );
  assert.equal(
    judgeTranscript("f", "t", crash, "cpu", null).detail,
    "engine crashed: segmentation fault (SIGSEGV, signal 11)",
  );
  const empty = readTranscript(
    result({ stdout: STDOUT.replace("[253,253,890,19]", "[]").replace('"n_steps":4', '"n_steps":0') }),
  );
  assert.match(judgeTranscript("f", "t", empty, "cpu", null).detail, /decoded nothing/);
});

test("auto expects cuda only when the engine found a GPU; skips never make a pass", () => {
  assert.equal(expectedBackend("auto", false), "cpu");
  assert.equal(expectedBackend("auto", true), "cuda");
  assert.equal(expectedBackend("cpu", true), "cpu");
  assert.equal(summarizeChecks([skipped("ffmpeg", "t", "no ffmpeg")]).status, "fail");
});

test("token count matters: a run that stops early (a prefix of the reference) or runs on fails", () => {
  const out = readTranscript(result({}));
  const ref = out.transcript!;
  const shorter = readTranscript(
    result({ stdout: STDOUT.replace("[253,253,890,19]", "[253,253,890]").replace('"n_steps":4', '"n_steps":3') }),
  );
  const c = judgeTranscript("stdin-pcm", "t", shorter, "cpu", ref);
  assert.equal(c.status, "fail", "three of four tokens, all equal to the reference's first three");
  assert.match(c.detail, /token ids differ from the file transcription at index 3 \(3 vs 4 tokens\)/);
  const longer = { ...ref, tokens: [253, 253, 890] };
  assert.match(judgeTranscript("stdin-pcm", "t", out, "cpu", longer).detail, /at index 3 \(4 vs 3 tokens\)/);
});

test("mixed checks: one pass and one fail is a failed smoke; skips beside a pass are fine", () => {
  const out = readTranscript(result({}));
  const pass = judgeTranscript("file", "t", out, "cpu", null);
  const fail = judgeTranscript("stdin-wav", "t", out, "cuda", null);
  assert.deepEqual(summarizeChecks([pass, fail]), { summary: { passed: 1, failed: 1, skipped: 0 }, status: "fail" });
  assert.deepEqual(summarizeChecks([pass, skipped("ffmpeg", "t", "no ffmpeg")]), {
    summary: { passed: 1, failed: 0, skipped: 1 },
    status: "pass",
  });
});
