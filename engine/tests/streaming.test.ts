// Streaming == offline. On the fixture with the longest audio, the tokens of the offline run
// (-i FILE) must come out unchanged when the same audio arrives on stdin:
//   - raw s16le in ragged chunks (1, 37, 160, 1280, 4096 samples, plus 3-byte pieces that split a
//     sample across two reads), written with pauses, so the engine sees many partial reads;
//   - the WAV file piped whole, and its raw PCM piped whole;
//   - in plain-text mode, text reaches stdout before stdin is closed (tokens are printed as decided).
// A 44.1 kHz stereo WAV of the same speech (upsampled here with a windowed-sinc interpolator, both
// channels equal) must transcribe: exit 0, the same number of decoder positions, and at least 90 %
// of the offline tokens at the same steps (the resampler round trip changes the audio slightly, so
// exact equality is not asserted for that one).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseEngineJson, runEngine, startEngine } from "../../toolkit/src/lib/engine.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";
import { wavHeader } from "../../toolkit/src/lib/wav.js";
import { pcm16 } from "./golden.js";

const FIXTURE = "tiny-delay"; // 11 s of speech (jfk.wav, 16 kHz mono PCM16), 960 ms delay
const dir = join(fixturesDir(), FIXTURE);
const fx = JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8")) as { audio: string; delay_ms: number };
const wavPath = join(dir, fx.audio);
const base = ["-d", dir, "--delay-ms", String(fx.delay_ms), "--backend", "cpu"];

interface EngineJson {
  tokens: number[];
  n_audio: number;
  text: string;
}

/** A PCM16 WAV file. */
function wavFile(samples: Int16Array, rate: number, channels: number): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const h = wavHeader(data.length, rate, channels);
  return Buffer.concat([h, data]);
}

/** 16 kHz -> 44.1 kHz stereo (both channels equal), Hann-windowed sinc with 32 taps each side. */
function upsampleStereo(pcm: Buffer): Int16Array {
  const n = pcm.length / 2;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = pcm.readInt16LE(2 * i);
  const outRate = 44100;
  const m = Math.floor((n * outRate) / 16000);
  const out = new Int16Array(2 * m);
  const W = 32;
  for (let j = 0; j < m; j++) {
    const t = (j * 16000) / outRate;
    const k0 = Math.floor(t);
    let s = 0;
    for (let k = k0 - W + 1; k <= k0 + W; k++) {
      if (k < 0 || k >= n) continue;
      const d = t - k;
      const sinc = d === 0 ? 1 : Math.sin(Math.PI * d) / (Math.PI * d);
      const win = 0.5 + 0.5 * Math.cos((Math.PI * d) / W);
      s += x[k]! * sinc * win;
    }
    const v = Math.max(-32768, Math.min(32767, Math.round(s)));
    out[2 * j] = v;
    out[2 * j + 1] = v;
  }
  return out;
}

const raw = pcm16(wavPath);
let offline: EngineJson;

test("offline reference run (-i FILE)", async () => {
  const r = await runEngine([...base, "-i", wavPath, "--json"]);
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  offline = parseEngineJson<EngineJson>(r);
  assert.ok(offline.tokens.length > 10, "the fixture decodes more than 10 tokens");
});

test("stdin: raw s16le in ragged chunks with pauses gives the offline tokens", async () => {
  const { process: p, result } = startEngine([...base, "--stdin", "--json"], { stdinPipe: true });
  const stdin = p.stdin!;
  const sizes = [2, 74, 320, 2560, 8192, 3, 1]; // bytes: 1, 37, 160, 1280, 4096 samples, then split samples
  let off = 0;
  for (let k = 0; off < raw.length; k++) {
    const n = sizes[k % sizes.length]!;
    const chunk = raw.subarray(off, off + n);
    off += chunk.length;
    if (!stdin.write(chunk)) await new Promise((res) => stdin.once("drain", res));
    if (k % 40 === 0) await sleep(2);
  }
  stdin.end();
  const r = await result;
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  assert.deepEqual(parseEngineJson<EngineJson>(r).tokens, offline.tokens);
});

test("stdin: the WAV file piped whole gives the offline tokens", async () => {
  const r = await runEngine([...base, "--stdin", "--json"], { inputFile: wavPath });
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  assert.deepEqual(parseEngineJson<EngineJson>(r).tokens, offline.tokens);
});

test("stdin: the raw PCM piped whole gives the offline tokens", async () => {
  const r = await runEngine([...base, "--stdin", "--json"], { input: raw });
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  assert.deepEqual(parseEngineJson<EngineJson>(r).tokens, offline.tokens);
});

test("stdin plain mode prints text before the input ends", async () => {
  const { process: p, result } = startEngine([...base, "--stdin"], { stdinPipe: true });
  let seen = "";
  p.stdout!.on("data", (d: Buffer | string) => {
    seen += d.toString();
  });
  p.stdin!.write(raw.subarray(0, 16000 * 2 * 4)); // the first 4 s
  for (let waited = 0; seen.length === 0 && waited < 30000; waited += 50) await sleep(50);
  const early = seen.length;
  p.stdin!.end(raw.subarray(16000 * 2 * 4));
  const r = await result;
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  assert.ok(early > 0, "no text on stdout while stdin was still open");
  const plain = await runEngine([...base, "-i", wavPath]);
  assert.equal(plain.failure, null, `${plain.command}\n${plain.stderr}`);
  assert.equal(r.stdout, plain.stdout);
});

test("a 44.1 kHz stereo WAV of the same speech transcribes", async () => {
  const r = await runEngine([...base, "--stdin", "--json"], { input: wavFile(upsampleStereo(raw), 44100, 2) });
  assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
  const out = parseEngineJson<EngineJson>(r);
  assert.equal(out.n_audio, offline.n_audio);
  const n = Math.min(out.tokens.length, offline.tokens.length);
  let same = 0;
  for (let i = 0; i < n; i++) if (out.tokens[i] === offline.tokens[i]) same++;
  console.log(`44.1 kHz stereo: ${same} of ${offline.tokens.length} tokens agree with the 16 kHz run`);
  assert.ok(
    same >= 0.9 * offline.tokens.length,
    `only ${same} of ${offline.tokens.length} tokens agree with the 16 kHz run`,
  );
});
