// -i reads the WAV in pieces (one encoder chunk, 20.5 s, each): memory is bounded by the pipeline's
// state, not by the file. Two WAVs generated here from the fixture's speech, on the tiny-delay model:
// the engine's peak RSS (its --json peak_rss_mb, VmHWM) is printed and must stay below 64 MB, and for
// the long one within 8 MB of the peak for SHORT_S (which already runs whole encoder chunks). LONG_S
// is 10 minutes (19 MB of PCM16; loading it whole would add 38 MB of float samples plus the read
// buffer's doublings, which fails the 8 MB limit) so that `npm test` stays short on 2 cores;
// engine/README.md has the same measurement on an hour (LONG_S = 3600: 19.0 MB).
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseEngineJson, runEngine } from "../../toolkit/src/lib/engine.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";
import { wavHeader } from "../../toolkit/src/lib/wav.js";
import { pcm16 } from "./golden.js";

const LONG_S = 600;
const SHORT_S = 60;
const PEAK_MB_MAX = 64;
const GROWTH_MB_MAX = 8;
const dir = join(fixturesDir(), "tiny-delay");
const work = mkdtempSync(join(tmpdir(), "vox-long-audio-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** A 16 kHz mono PCM16 WAV of `seconds`, the speech repeated; written piece by piece. */
function writeLongWav(path: string, seconds: number, speech: Buffer): void {
  const bytes = seconds * 16000 * 2;
  const h = wavHeader(bytes);
  const fd = openSync(path, "w");
  writeSync(fd, h);
  for (let left = bytes; left > 0; left -= Math.min(left, speech.length))
    writeSync(fd, speech, 0, Math.min(left, speech.length));
  closeSync(fd);
}

interface Out {
  peak_rss_mb: number;
  audio_seconds: number;
  n_steps: number;
}

test(`${LONG_S / 60} minutes of audio through -i: peak RSS bounded, not growing with the file`, async () => {
  const speech = pcm16(join(dir, "jfk.wav"));
  const args = ["-d", dir, "--delay-ms", "960", "--backend", "cpu", "--threads", "1", "--json"];
  const shortFile = join(work, "short.wav");
  writeLongWav(shortFile, SHORT_S, speech);
  const short = await runEngine([...args, "-i", shortFile]);
  assert.equal(short.failure, null, short.stderr);
  const file = join(work, "long.wav");
  writeLongWav(file, LONG_S, speech);
  const long = await runEngine([...args, "-i", file], { timeoutMs: 900_000 });
  rmSync(file);
  assert.equal(long.failure, null, long.stderr);
  const a = parseEngineJson<Out>(short);
  const b = parseEngineJson<Out>(long);
  assert.equal(b.audio_seconds, LONG_S);
  console.log(
    `peak RSS: ${a.peak_rss_mb} MB for ${a.audio_seconds} s, ${b.peak_rss_mb} MB for ${LONG_S} s (${b.n_steps} steps)`,
  );
  assert.ok(b.peak_rss_mb < PEAK_MB_MAX, `peak RSS ${b.peak_rss_mb} MB for ${LONG_S} s (limit ${PEAK_MB_MAX})`);
  assert.ok(
    b.peak_rss_mb - a.peak_rss_mb < GROWTH_MB_MAX,
    `RSS grew by ${b.peak_rss_mb - a.peak_rss_mb} MB from ${a.audio_seconds} s to ${LONG_S} s`,
  );
});
