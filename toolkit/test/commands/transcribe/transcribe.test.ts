// `vox transcribe` end to end: the real CLI over the real CPU engine and the bundled fixtures.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DEFAULT_MODEL } from "../../../src/commands/transcribe/index.js";
import { readFixture } from "../../../src/lib/fixture.js";
import { fixturesDir } from "../../../src/lib/paths.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { parseSrt, parseVtt } from "../../lib/subtitles.js";
import { tempDir, vox } from "../vox-cli.js";
import { cleanup, JFK, REAL_WINDOWS, repeatedWav, TINY_DELAY } from "./helpers.js"; // audio, models
import { startVox, stdoutUntil, transcribeToDir } from "./helpers.js"; // running vox transcribe

const hasFfmpeg = (() => {
  try {
    execFileSync("ffmpeg", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const NO_FFMPEG = hasFfmpeg ? false : "ffmpeg is not installed (sudo apt-get install ffmpeg)";

test("with no arguments it transcribes the bundled model's clip and says the model is a toy", async () => {
  const r = await vox(["transcribe", "--backend", "cpu"]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.ok(r.stdout.trim().length > 0, "some text on stdout");
  assert.match(r.stderr, /bundled tiny random model/);
});

test("--json gives the engine's result, with the golden tokens of the fixture", async () => {
  const fx = readFixture(join(fixturesDir(), DEFAULT_MODEL));
  const r = await vox(["transcribe", "--json", "--backend", "cpu"]);
  assert.equal(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tokens: number[]; backend: string; token_times_ms: number[] };
  assert.equal(out.backend, "cpu");
  assert.deepEqual(out.tokens, fx.golden.tokens);
  assert.deepEqual(
    out.token_times_ms,
    out.tokens.map((_, k) => 80 * (k + 1)),
  );
});

test("a missing model, a missing file, an engine that cannot start: one line each, documented codes", async () => {
  const noModel = await vox(["transcribe", "--model", "/nonexistent/model"]);
  assert.equal(noModel.exitCode, 66);
  assert.match(noModel.stderr, /model folder \/nonexistent\/model does not exist\. Pass --model DIR/);
  const noAudio = await vox(["transcribe", "/nonexistent/clip.wav", "--backend", "cpu"]);
  assert.equal(noAudio.exitCode, 66);
  assert.equal(
    noAudio.stderr.trim(),
    "vox transcribe: error: audio file /nonexistent/clip.wav does not exist. Check the path of the audio file.",
  );
  const noEngine = await vox(["transcribe", "--backend", "cpu"], { VOX_ENGINE: "/nonexistent/voxtral" });
  assert.equal(noEngine.exitCode, 69);
  assert.match(noEngine.stderr, /engine could not be started \(\/nonexistent\/voxtral\).*set VOX_ENGINE/);
});

test("bad combinations are usage errors (64) before anything runs", async () => {
  const twoFormats = await vox(["transcribe", "--format", "srt", "--format", "vtt"]);
  assert.equal(twoFormats.exitCode, 64);
  assert.match(
    twoFormats.stderr,
    /^vox transcribe: error: 2 formats need --output-dir \(stdout takes one\)\. Add --output-dir DIR/,
  );
  const micAndFile = await vox(["transcribe", "--mic", JFK]);
  assert.equal(micAndFile.exitCode, 64);
  assert.match(micAndFile.stderr, /--mic transcribes the microphone: give no audio files with it/);
  const badFormat = await vox(["transcribe", "--format", "docx"]);
  assert.equal(badFormat.exitCode, 64);
  const out = tempDir("vox-transcribe-out-");
  const sameName = await vox([
    "transcribe",
    JFK,
    join(REAL_WINDOWS, "test_speech.wav"),
    join(TINY_DELAY, "..", "tiny-small-windows", "test_speech.wav"),
    "--output-dir",
    out,
  ]);
  assert.equal(sameName.exitCode, 64);
  assert.match(sameName.stderr, /would both write .*test_speech\.txt/);
  assert.deepEqual(readdirSync(out), [], "nothing written");
  cleanup(out, twoFormats.reportsDir, micAndFile.reportsDir, badFormat.reportsDir, sameName.reportsDir);
});

test("a 3-minute Ogg: valid SRT with no cue past the end, verbose_json valid, stdout = the transcript", {
  skip: NO_FFMPEG,
}, async () => {
  const dir = tempDir("vox-transcribe-ogg-");
  const wav = join(dir, "long.wav");
  writeFileSync(wav, repeatedWav(join(REAL_WINDOWS, "test_speech.wav"), 180));
  execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-i", wav, "-c:a", "libvorbis", join(dir, "talk.ogg")]);
  // From the folder holding the file, with relative paths, as a user would.
  const r2 = await startVox(
    [
      "transcribe",
      "talk.ogg",
      "--model",
      REAL_WINDOWS,
      "--backend",
      "cpu",
      "--format",
      "srt",
      "--format",
      "verbose_json",
      "--format",
      "vtt",
      "--output-dir",
      "out/",
    ],
    {},
    dir,
  );
  assert.equal(r2.exitCode, 0, String(r2.stderr));
  assert.deepEqual(readdirSync(join(dir, "out")).sort(), ["talk.srt", "talk.verbose.json", "talk.vtt"]);
  const verbose = JSON.parse(readFileSync(join(dir, "out", "talk.verbose.json"), "utf8")) as {
    duration: number;
    text: string;
    segments: Array<{ end: number }>;
  };
  assert.deepEqual(schemaErrors("transcription", verbose), []);
  assert.ok(Math.abs(verbose.duration - 180) < 0.1, `duration ${verbose.duration}`);
  const cues = parseSrt(readFileSync(join(dir, "out", "talk.srt"), "utf8"));
  assert.ok(cues.length >= 5, `${cues.length} cues`);
  assert.equal(cues.length, verbose.segments.length);
  for (const c of cues) {
    assert.ok(c.end <= verbose.duration, `cue ${c.index} ends at ${c.end}, after the audio (${verbose.duration} s)`);
    assert.ok(
      c.end - c.start <= 7 && c.lines.length <= 2 && c.lines.every((l) => [...l].length <= 42),
      JSON.stringify(c),
    );
  }
  assert.equal(parseVtt(readFileSync(join(dir, "out", "talk.vtt"), "utf8")).cues.length, cues.length);
  // What was printed live is the transcript the files hold.
  const norm = (s: string) => s.replace(/\s+/g, " ").trim();
  assert.ok(norm(verbose.text).length > 0);
  assert.equal(norm(String(r2.stdout)), norm(verbose.text));
  cleanup(dir);
});

test("text appears on stdout while the engine is still running (stdin held open)", async () => {
  const wav = repeatedWav(JFK, 11);
  const p = startVox(["transcribe", "-", "--model", TINY_DELAY, "--backend", "cpu"]);
  // Header and the first 70 % of the samples: the engine cannot finish before the rest arrives.
  const cut = 44 + Math.floor(((wav.length - 44) * 0.7) / 2) * 2;
  p.stdin!.write(wav.subarray(0, cut));
  const early = await stdoutUntil(p, (t) => t.trim().length > 0);
  assert.equal(p.exitCode, null, "vox is still running");
  p.stdin!.end(wav.subarray(cut));
  const r = await p;
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.ok(String(r.stdout).startsWith(early), "the early text is the start of the transcript");
  assert.ok(String(r.stdout).length > early.length);
});

test("several inputs in one call: WAV, an ffmpeg format, - (stdin WAV): same audio, same text in each file", {
  skip: NO_FFMPEG,
}, async () => {
  const dir = tempDir("vox-transcribe-many-");
  execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-i", JFK, "-c:a", "flac", join(dir, "speech.flac")]);
  const out = join(dir, "out");
  const p = startVox(transcribeToDir([JFK, join(dir, "speech.flac"), "-"], out, ["txt", "json"]));
  p.stdin!.end(readFileSync(JFK));
  const r = await p;
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.deepEqual(readdirSync(out).sort(), [
    "jfk.json",
    "jfk.txt",
    "speech.json",
    "speech.txt",
    "stdin.json",
    "stdin.txt",
  ]);
  const texts = ["jfk", "speech", "stdin"].map((n) => readFileSync(join(out, `${n}.txt`), "utf8"));
  assert.ok(texts[0]!.trim().length > 0);
  assert.deepEqual(texts, [texts[0], texts[0], texts[0]], "FLAC is lossless: the engine sees the same samples");
  assert.deepEqual(JSON.parse(readFileSync(join(out, "jfk.json"), "utf8")), { text: texts[0]!.replace(/\n$/, "") });
  cleanup(dir);
});
