// vox transcribe live: --mic with an ffmpeg source standing in for the microphone, Ctrl-C on a file
// run, the progress line on a real terminal (a pty from script(1)), and the errors of missing tools.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { chooseCapture, collectCaptureFacts } from "../../../src/lib/capture.js";
import { parseSrt } from "../../lib/subtitles.js";
import { tempDir } from "../vox-cli.js";
import {
  cleanup,
  JFK,
  privateEngine,
  processesWith,
  REAL_WINDOWS,
  repeatedWav,
  startVox,
  stdoutUntil,
  TINY_DELAY,
  transcribeToDir,
  VOX_JS,
} from "./helpers.js";

const hasFfmpeg = spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status === 0;
const NO_FFMPEG = hasFfmpeg ? false : "ffmpeg is not installed (sudo apt-get install ffmpeg)";

test("--mic (a file read in real time stands in for the microphone): live text, Ctrl-C, latency summary", {
  skip: NO_FFMPEG,
}, async () => {
  const engine = privateEngine();
  const p = startVox(["transcribe", "--mic", "--mic-input", JFK, "--model", TINY_DELAY, "--backend", "cpu"], {
    VOX_ENGINE: engine.path,
  });
  const text = await stdoutUntil(p, (t) => t.trim().length >= 8);
  assert.ok(processesWith(engine.path).length > 0, "the engine is running while the microphone is");
  p.kill("SIGINT");
  const r = await p;
  assert.equal(r.exitCode, 0, `Ctrl-C ends a mic session normally: ${String(r.stderr)}`);
  assert.ok(String(r.stdout).startsWith(text));
  const m =
    /captured (\d+\.\d) s of audio; latency p50 (\d+\.\d\d) s, p95 (\d+\.\d\d) s, max (\d+\.\d\d) s \((\d+) tokens with text\)/.exec(
      String(r.stderr),
    );
  assert.ok(m, `summary line in stderr: ${String(r.stderr)}`);
  const [captured, p50, p95, max] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  assert.ok(captured > 0 && captured < 11.1, `captured ${captured} s of an 11 s file`);
  assert.ok(p50 >= 0 && p50 <= p95 && p95 <= max, `${p50} <= ${p95} <= ${max}`);
  assert.ok(Number(m[5]) >= 1);
  assert.deepEqual(processesWith(engine.path), [], "no engine left running");
  cleanup(engine.dir);
});

test("--mic with an ffmpeg lavfi source that ends by itself: the session ends, no text is a stated result", {
  skip: NO_FFMPEG,
}, async () => {
  const p = startVox([
    "transcribe",
    "--mic",
    "--mic-input",
    "lavfi:anullsrc=r=16000:cl=mono,atrim=duration=1.5",
    "--model",
    REAL_WINDOWS,
    "--backend",
    "cpu",
  ]);
  const r = await p;
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.match(String(r.stderr), /captured 1\.5 s of audio; latency: no text was decided/);
});

test("--mic without a capture device: one line with the fix, exit 69", async (t) => {
  const env = { PATH: process.env.PATH ?? "", PULSE_SERVER: "", XDG_RUNTIME_DIR: tempDir("vox-no-pulse-") };
  const v = chooseCapture(await collectCaptureFacts(env));
  if (v.ok) {
    t.skip(`this machine has a capture device (${v.choice.describe})`);
    return;
  }
  const r = spawnSync(process.execPath, [VOX_JS, "transcribe", "--mic"], { env, encoding: "utf8" });
  assert.equal(r.status, 69, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(
    r.stderr,
    /^vox transcribe: error: (no capture device|ffmpeg is not installed).*\. (On WSL2: update WSL|Install it)/,
  );
  cleanup(env.XDG_RUNTIME_DIR);
});

test("Ctrl-C on a file run: what was decided is printed and written as .incomplete files, exit 130, no engine left", async () => {
  const engine = privateEngine();
  const out = tempDir("vox-transcribe-cut-");
  const p = startVox(transcribeToDir(["-"], out, ["srt", "verbose_json", "txt"]), { VOX_ENGINE: engine.path });
  const wav = repeatedWav(JFK, 11);
  p.stdin!.write(wav.subarray(0, 44 + 2 * 16000 * 8)); // 8 s of 11, and stdin stays open
  const early = await stdoutUntil(p, (t) => t.trim().length > 0);
  p.kill("SIGINT");
  const r = await p;
  assert.equal(r.exitCode, 130, String(r.stderr));
  assert.ok(String(r.stdout).startsWith(early));
  assert.match(String(r.stderr), /interrupted: wrote what was decided so far to .*stdin\.incomplete\.srt/);
  assert.deepEqual(readdirSync(out).sort(), [
    "stdin.incomplete.srt",
    "stdin.incomplete.txt",
    "stdin.incomplete.verbose.json",
  ]);
  const v = JSON.parse(readFileSync(join(out, "stdin.incomplete.verbose.json"), "utf8")) as {
    incomplete: boolean;
    duration: number;
    text: string;
  };
  assert.equal(v.incomplete, true);
  assert.ok(v.duration > 0 && v.duration <= 8, `duration ${v.duration}: at most what was fed`);
  assert.ok(parseSrt(readFileSync(join(out, "stdin.incomplete.srt"), "utf8")).every((c) => c.end <= v.duration));
  assert.equal(readFileSync(join(out, "stdin.incomplete.txt"), "utf8").trim(), v.text.trim());
  assert.deepEqual(processesWith(engine.path), [], "no engine left running");
  cleanup(out, engine.dir);
});

test("on a terminal a progress line (percent, × real time, ETA) is drawn on stderr; --quiet and pipes get none", {
  skip: NO_FFMPEG,
}, async () => {
  const dir = tempDir("vox-transcribe-tty-");
  writeFileSync(join(dir, "long.wav"), repeatedWav(join(REAL_WINDOWS, "test_speech.wav"), 120));
  execFileSync("ffmpeg", [
    "-nostdin",
    "-v",
    "error",
    "-i",
    join(dir, "long.wav"),
    "-c:a",
    "libvorbis",
    join(dir, "talk.ogg"),
  ]);
  // script(1) gives vox a pseudo-terminal for stderr; stdout goes to a file.
  const run = (extra: string) =>
    spawnSync(
      "script",
      [
        "-qefc",
        `'${process.execPath}' '${VOX_JS}' transcribe talk.ogg --model '${REAL_WINDOWS}' --backend cpu ${extra} > out.txt`,
        "/dev/null",
      ],
      { cwd: dir, encoding: "utf8", timeout: 120_000 },
    );
  const tty = run("");
  assert.equal(tty.status, 0, tty.stdout + tty.stderr);
  const lines = tty.stdout
    .split("\r")
    .map((l) => l.replace(/\u001b\[K/g, "").trim())
    .filter((l) => l.startsWith("talk.ogg"));
  assert.ok(lines.length >= 1, `progress lines: ${JSON.stringify(tty.stdout.slice(0, 500))}`);
  assert.ok(
    lines.some((l) => /^talk\.ogg +\d+% {2}\d:\d\d \/ 2:00 {2}[\d.]+× real time {2}ETA \d:\d\d$/.test(l)),
    JSON.stringify(lines),
  );
  assert.ok(tty.stdout.endsWith("\r\u001b[K"), "the line is cleared at the end");
  assert.ok(readFileSync(join(dir, "out.txt"), "utf8").trim().length > 0);
  const quiet = run("--quiet");
  assert.equal(quiet.status, 0);
  assert.doesNotMatch(quiet.stdout, /real time/);
  const piped = spawnSync(
    process.execPath,
    [VOX_JS, "transcribe", "talk.ogg", "--model", REAL_WINDOWS, "--backend", "cpu"],
    { cwd: dir, encoding: "utf8" },
  );
  assert.equal(piped.status, 0);
  assert.doesNotMatch(piped.stderr, /real time|\r/);
  cleanup(dir);
});

test("a non-WAV file without ffmpeg: one line with the install command, exit 69; undecodable audio: exit 65", {
  skip: NO_FFMPEG,
}, async () => {
  const dir = tempDir("vox-transcribe-noff-");
  const ogg = join(dir, "talk.ogg");
  execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-i", JFK, "-t", "2", "-c:a", "libvorbis", ogg]);
  const noFfmpeg = spawnSync(process.execPath, [VOX_JS, "transcribe", ogg, "--model", TINY_DELAY], {
    env: { PATH: dir },
    encoding: "utf8",
  });
  assert.equal(noFfmpeg.status, 69, noFfmpeg.stderr);
  assert.equal(
    noFfmpeg.stderr.trim(),
    `vox transcribe: error: ${ogg} is not a WAV file, and reading other formats needs ffmpeg, which is not installed. Install ffmpeg (sudo apt-get install ffmpeg), or convert the file to WAV elsewhere.`,
  );
  const junk = join(dir, "notes.mp3");
  writeFileSync(junk, "this is not audio\n".repeat(100));
  const bad = spawnSync(
    process.execPath,
    [VOX_JS, "transcribe", junk, "--model", TINY_DELAY, "--output-dir", join(dir, "out")],
    { encoding: "utf8" },
  );
  assert.equal(bad.status, 65, bad.stderr);
  assert.match(
    bad.stderr,
    /vox transcribe: error: .*notes\.mp3: ffmpeg failed \(exit \d+\).*Check that ffmpeg can read it/,
  );
  assert.deepEqual(
    readdirSync(join(dir, "out")),
    [],
    "no output for a failed input (the folder is checked before the run)",
  );
  cleanup(dir);
});
