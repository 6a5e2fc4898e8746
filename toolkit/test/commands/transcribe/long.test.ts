// Long input streams through: an hour of audio (the fixture's clip repeated, generated while it is
// written, never held whole) piped into `vox transcribe -`; the engine's peak RSS must not grow with
// the length of the audio (an hour against three minutes). The numbers go to the test output.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Writable } from "node:stream";
import { readWav, wavHeader } from "../../../src/lib/wav.js";
import { join } from "node:path";
import { REAL_WINDOWS, startVox } from "./helpers.js";

/** Writes a WAV header and `seconds` of the clip, repeated, honouring backpressure. */
async function writeRepeated(w: Writable, seconds: number): Promise<void> {
  const clip = readWav(join(REAL_WINDOWS, "test_speech.wav"));
  const total = Math.round(seconds * clip.sampleRate);
  const header = wavHeader(total * 2, clip.sampleRate);
  const block = Buffer.from(clip.samples.buffer, clip.samples.byteOffset, clip.samples.byteLength);
  const write = (b: Buffer) => (w.write(b) ? Promise.resolve() : new Promise<void>((r) => w.once("drain", () => r())));
  await write(header);
  for (let left = total * 2; left > 0; left -= block.length)
    await write(block.subarray(0, Math.min(block.length, left)));
  w.end();
}

interface Result {
  audio_seconds: number;
  peak_rss_mb: number;
  n_steps: number;
  timings_ms: { wall: number };
}

async function run(seconds: number): Promise<Result> {
  const p = startVox(["transcribe", "-", "--model", REAL_WINDOWS, "--backend", "cpu", "--json"]);
  await writeRepeated(p.stdin!, seconds);
  const r = await p;
  assert.equal(r.exitCode, 0, String(r.stderr));
  return JSON.parse(String(r.stdout)) as Result;
}

test("an hour of audio streams through with the engine's memory flat (peak RSS vs three minutes)", async (t) => {
  const short = await run(180);
  const hour = await run(3600);
  assert.ok(Math.abs(hour.audio_seconds - 3600) < 0.01, `audio_seconds ${hour.audio_seconds}`);
  assert.equal(hour.n_steps, 45_000 + 10 + 1, "every position decoded (no EOS on this model)");
  t.diagnostic(
    `engine peak RSS: ${short.peak_rss_mb.toFixed(1)} MB for 180 s, ${hour.peak_rss_mb.toFixed(1)} MB for 3600 s (${(hour.timings_ms.wall / 1000).toFixed(1)} s wall)`,
  );
  // An hour of 16 kHz samples is 115 MB as s16 and 230 MB as float: the engine holds none of it. What
  // grows is its per-step record (token ids, token_times_ms, step_ms: about 1 MB an hour) and the
  // final JSON it writes; 32 MB leaves room for that and for allocator noise.
  assert.ok(
    hour.peak_rss_mb <= short.peak_rss_mb + 32,
    `peak RSS grew from ${short.peak_rss_mb} MB to ${hour.peak_rss_mb} MB`,
  );
});
