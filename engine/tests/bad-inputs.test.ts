// Bad inputs to the real engine binary: every one must end with its exit code (3 model files,
// 4 audio input), exactly one stderr line `voxtral: error: <problem>. <fix>` naming the problem,
// and no signal. Broken models are copies of a committed fixture (or, when the fixtures are
// absent, of a `--write-synthetic tiny` model) corrupted one way each; broken audio is built here.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runEngine, type EngineResult } from "../../toolkit/src/lib/engine.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";

const MODEL_FILES = ["params.json", "consolidated.safetensors", "tekken.json"];
const work = mkdtempSync(join(tmpdir(), "vox-bad-inputs-"));
let source = ""; // a valid model folder
let goodWav = ""; // a valid 16 kHz speech WAV

/** A valid model folder: the tiny-real-windows fixture, else a synthetic tiny model. */
async function validModel(): Promise<string> {
  const fx = join(fixturesDir(), "tiny-real-windows");
  if (MODEL_FILES.every((f) => existsSync(join(fx, f)))) return fx;
  const dir = join(work, "synthetic");
  const r = await runEngine(["--write-synthetic", dir, "--synthetic-size", "tiny", "--seed", "1"], {
    timeoutMs: 60_000,
  });
  assert.equal(r.exitCode, 0, `--write-synthetic tiny failed: ${r.stderr}`);
  return dir;
}

/** A copy of the valid model in a fresh folder; `corrupt` edits it. */
function modelCopy(name: string, corrupt: (dir: string) => void): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const f of MODEL_FILES) copyFileSync(join(source, f), join(dir, f));
  corrupt(dir);
  return dir;
}

// ---- safetensors editing: u64 LE header length | JSON header | data ----

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}
type Header = Record<string, Entry | Record<string, string>>;

function readSt(path: string): { header: Header; data: Buffer } {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  return { header: JSON.parse(buf.toString("utf8", 8, 8 + n)) as Header, data: buf.subarray(8 + n) };
}

/** Writes the header (padded with spaces to a multiple of 8, as writers do) and the data. */
function writeSt(path: string, header: Header, data: Buffer): void {
  let text = JSON.stringify(header);
  text += " ".repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  writeFileSync(path, Buffer.concat([len, Buffer.from(text, "utf8"), data]));
}

function editSt(dir: string, edit: (h: Header, dataLen: number) => void): void {
  const path = join(dir, "consolidated.safetensors");
  const { header, data } = readSt(path);
  edit(header, data.length);
  writeSt(path, header, data);
}

function entry(h: Header, name: string): Entry {
  const e = h[name] as Entry | undefined;
  assert.ok(e && Array.isArray(e.shape), `fixture has no tensor ${name}`);
  return e;
}

function editParams(dir: string, edit: (p: Record<string, unknown>) => void): void {
  const path = join(dir, "params.json");
  const p = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  edit(p);
  writeFileSync(path, JSON.stringify(p, null, 2));
}

// ---- WAV building ----

function wavBytes(opts: {
  format?: number;
  bits?: number;
  channels?: number;
  rate?: number;
  samples?: number;
  dataSize?: number;
  cut?: number;
  skipFmt?: boolean;
}): Buffer {
  const { format = 1, bits = 16, channels = 1, rate = 16000, samples = 16000 } = opts;
  const data = Buffer.alloc(samples * channels * (bits / 8));
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
  const fmt = Buffer.alloc(24);
  fmt.write("fmt ", 0, "latin1");
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(format, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * channels * (bits / 8), 16);
  fmt.writeUInt16LE(channels * (bits / 8), 20);
  fmt.writeUInt16LE(bits, 22);
  const dataHdr = Buffer.alloc(8);
  dataHdr.write("data", 0, "latin1");
  dataHdr.writeUInt32LE(opts.dataSize ?? data.length, 4);
  const body = Buffer.concat([Buffer.from("WAVE", "latin1"), ...(opts.skipFmt ? [] : [fmt]), dataHdr, data]);
  const riff = Buffer.alloc(8);
  riff.write("RIFF", 0, "latin1");
  riff.writeUInt32LE(body.length, 4);
  const whole = Buffer.concat([riff, body]);
  return whole.subarray(0, whole.length - (opts.cut ?? 0));
}

function audioFile(name: string, bytes: Buffer): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

// ---- the assertion ----

function assertFails(r: EngineResult, exitCode: number, problem: string | RegExp): void {
  const lines = r.stderr.split("\n").filter((l) => l.trim().length > 0);
  const context = `${r.command}\nstderr: ${r.stderr}`;
  assert.equal(r.signal, null, `engine died from a signal: ${context}`);
  assert.equal(r.timedOut, false, `engine timed out: ${context}`);
  assert.equal(r.exitCode, exitCode, `exit code: ${context}`);
  assert.equal(lines.length, 1, `expected exactly one stderr line: ${context}`);
  assert.match(lines[0]!, /^voxtral: error: \S.*\. \S.*$/, `not "voxtral: error: <problem>. <fix>": ${context}`);
  if (typeof problem === "string")
    assert.ok(lines[0]!.includes(problem), `stderr does not mention "${problem}": ${context}`);
  else assert.match(lines[0]!, problem, context);
  assert.equal(r.stdout, "", `nothing on stdout for a failed run: ${context}`);
}

const run = (args: string[], input?: Buffer) =>
  runEngine([...args, "--backend", "cpu"], { timeoutMs: 60_000, ...(input ? { input } : {}) });

before(async () => {
  source = await validModel();
  goodWav = audioFile("good.wav", wavBytes({ samples: 32000 }));
  const ok = await run(["-d", source, "-i", goodWav]);
  assert.equal(ok.exitCode, 0, `the unbroken model must transcribe: ${ok.stderr}`);
});

after(() => rmSync(work, { recursive: true, force: true }));

describe("bad model folders exit 3", () => {
  const cases: Array<[string, () => string, string | RegExp]> = [
    ["missing model folder", () => join(work, "no-such-model"), "no-such-model does not exist"],
    [
      "empty model folder",
      () => {
        const d = join(work, "empty");
        mkdirSync(d);
        return d;
      },
      "has no params.json",
    ],
    [
      "no safetensors",
      () => modelCopy("no-st", (d) => rmSync(join(d, "consolidated.safetensors"))),
      "has no consolidated.safetensors",
    ],
    [
      "truncated safetensors",
      () =>
        modelCopy("truncated", (d) => {
          const p = join(d, "consolidated.safetensors");
          const b = readFileSync(p);
          writeFileSync(p, b.subarray(0, b.length - 4096));
        }),
      "consolidated.safetensors is truncated or damaged",
    ],
    [
      "safetensors shorter than 8 bytes",
      () => modelCopy("tiny-file", (d) => writeFileSync(join(d, "consolidated.safetensors"), "abc")),
      "too short to hold the 8-byte header length",
    ],
    [
      "header length beyond the file",
      () =>
        modelCopy("hdr-beyond", (d) => {
          const p = join(d, "consolidated.safetensors");
          const b = readFileSync(p);
          b.writeBigUInt64LE(BigInt(b.length));
          writeFileSync(p, b);
        }),
      "goes beyond the end of the file",
    ],
    [
      "header length absurd",
      () =>
        modelCopy("hdr-huge", (d) => {
          const p = join(d, "consolidated.safetensors");
          const b = readFileSync(p);
          b.writeBigUInt64LE(1n << 40n);
          writeFileSync(p, b);
        }),
      "larger than the 100 MiB limit",
    ],
    [
      "header not JSON",
      () =>
        modelCopy("hdr-json", (d) => {
          const p = join(d, "consolidated.safetensors");
          const b = readFileSync(p);
          b.write("{{", 8, "latin1"); // the JSON header's second byte is now a syntax error
          writeFileSync(p, b);
        }),
      "consolidated.safetensors header: invalid JSON at byte 1",
    ],
    [
      "overlapping offsets",
      () =>
        modelCopy("overlap", (d) =>
          editSt(d, (h) => {
            entry(h, "layers.1.ffn_norm.weight").data_offsets = [...entry(h, "layers.0.ffn_norm.weight").data_offsets];
          }),
        ),
      /tensors '.*ffn_norm\.weight' and '.*ffn_norm\.weight' overlap/,
    ],
    [
      "out-of-range offsets",
      () =>
        modelCopy("out-of-range", (d) =>
          editSt(d, (h, n) => {
            const e = entry(h, "norm.weight");
            const size = e.data_offsets[1] - e.data_offsets[0];
            e.data_offsets = [n + 64, n + 64 + size];
          }),
        ),
      "tensor 'norm.weight' needs data bytes",
    ],
    [
      "wrong dtype",
      () =>
        modelCopy("dtype", (d) =>
          editSt(d, (h) => {
            entry(h, "norm.weight").dtype = "F8_E4M3";
          }),
        ),
      "tensor 'norm.weight' has dtype F8_E4M3; the engine needs BF16, F16 or F32",
    ],
    [
      "dtype and byte span disagree",
      () =>
        modelCopy("span", (d) =>
          editSt(d, (h) => {
            entry(h, "norm.weight").dtype = "F32";
          }),
        ),
      "tensor 'norm.weight' holds",
    ],
    [
      "shape disagrees with params.json",
      () =>
        modelCopy("shape", (d) =>
          editSt(d, (h) => {
            const e = entry(h, "layers.0.feed_forward.w1.weight");
            e.shape = [e.shape[1]!, e.shape[0]!]; // same byte count, transposed
          }),
        ),
      /tensor 'layers\.0\.feed_forward\.w1\.weight' has shape \[\d+, \d+\] but params\.json implies/,
    ],
    [
      "missing tensor",
      () =>
        modelCopy("missing", (d) =>
          editSt(d, (h) => {
            h["norm.weight.renamed"] = entry(h, "norm.weight");
            delete h["norm.weight"];
          }),
        ),
      "has no tensor 'norm.weight'",
    ],
    [
      "params.json not JSON",
      () => modelCopy("params-text", (d) => writeFileSync(join(d, "params.json"), "dim = 64\n")),
      "params.json: invalid JSON at byte 0",
    ],
    [
      "params.json missing a key",
      () =>
        modelCopy("params-key", (d) =>
          editParams(d, (p) => {
            delete p.hidden_dim;
          }),
        ),
      "params.json: missing key 'hidden_dim'",
    ],
    [
      "params.json missing the encoder",
      () =>
        modelCopy("params-enc", (d) =>
          editParams(d, (p) => {
            delete p.multimodal;
          }),
        ),
      "missing key 'multimodal.whisper_model_args.encoder_args'",
    ],
    [
      "0 layers",
      () =>
        modelCopy("layers0", (d) =>
          editParams(d, (p) => {
            p.n_layers = 0;
          }),
        ),
      "n_layers is 0; expected >= 1",
    ],
    [
      "odd head_dim",
      () =>
        modelCopy("odd-hd", (d) =>
          editParams(d, (p) => {
            p.head_dim = 33;
          }),
        ),
      "head_dim is 33; expected an even number",
    ],
    [
      "huge dim",
      () =>
        modelCopy("huge-dim", (d) =>
          editParams(d, (p) => {
            p.dim = 1e9;
          }),
        ),
      "dim is 1000000000; expected <= 65536",
    ],
    [
      "huge vocabulary",
      () =>
        modelCopy("huge-vocab", (d) =>
          editParams(d, (p) => {
            p.vocab_size = 2 ** 40;
          }),
        ),
      "vocab_size is 1099511627776; expected <= 4194304",
    ],
    [
      "heads not a multiple of kv heads",
      () =>
        modelCopy("gqa", (d) =>
          editParams(d, (p) => {
            p.n_kv_heads = 3;
          }),
        ),
      "is not a multiple of n_kv_heads (3)",
    ],
    [
      "string where a number belongs",
      () =>
        modelCopy("type", (d) =>
          editParams(d, (p) => {
            p.n_heads = "4";
          }),
        ),
      "n_heads is a string; expected an integer",
    ],
    [
      "untied embeddings",
      () =>
        modelCopy("untied", (d) =>
          editParams(d, (p) => {
            p.tied_embeddings = false;
          }),
        ),
      "tied_embeddings is false",
    ],
    ["tekken.json missing", () => modelCopy("no-tekken", (d) => rmSync(join(d, "tekken.json"))), "has no tekken.json"],
    [
      "tekken.json cut short",
      () =>
        modelCopy("tekken-cut", (d) => {
          const p = join(d, "tekken.json");
          const b = readFileSync(p);
          writeFileSync(p, b.subarray(0, Math.floor(b.length / 2)));
        }),
      "tekken.json: invalid JSON at byte",
    ],
    [
      "tekken.json with bad base64",
      () =>
        modelCopy("tekken-b64", (d) => {
          const p = join(d, "tekken.json");
          const t = JSON.parse(readFileSync(p, "utf8")) as { vocab: Array<{ token_bytes: string }> };
          t.vocab[5]!.token_bytes = "not*base64";
          writeFileSync(p, JSON.stringify(t));
        }),
      "tekken.json: vocab[5].token_bytes is not valid base64",
    ],
    [
      "tekken.json without [STREAMING_PAD]",
      () =>
        modelCopy("tekken-pad", (d) => {
          const p = join(d, "tekken.json");
          const t = JSON.parse(readFileSync(p, "utf8")) as { special_tokens: Array<{ token_str: string }> };
          t.special_tokens = t.special_tokens.filter((s) => s.token_str !== "[STREAMING_PAD]");
          writeFileSync(p, JSON.stringify(t));
        }),
      "special_tokens has no [STREAMING_PAD]",
    ],
  ];
  for (const [name, make, problem] of cases) {
    test(name, async () => assertFails(await run(["-d", make(), "-i", goodWav]), 3, problem));
  }
});

describe("bad audio exits 4", () => {
  const cases: Array<[string, () => string, string | RegExp]> = [
    [
      "WAV with a bad header",
      () => audioFile("no-fmt.wav", wavBytes({ skipFmt: true })),
      "bad WAV header (data chunk before the fmt chunk)",
    ],
    ["WAV with no samples", () => audioFile("empty.wav", wavBytes({ samples: 0 })), "the audio has no samples"],
    ["unsupported codec (A-law)", () => audioFile("alaw.wav", wavBytes({ format: 6, bits: 8 })), "WAV codec A-law"],
    ["unsupported codec (MP3 in WAV)", () => audioFile("mp3.wav", wavBytes({ format: 0x55 })), "WAV codec MP3"],
    [
      "truncated data chunk",
      () => audioFile("cut.wav", wavBytes({ samples: 16000, cut: 1000 })),
      "the data chunk says 32000 bytes but the file ends after 31000",
    ],
    ["not a WAV file", () => audioFile("text.wav", Buffer.from("just some text, not audio\n")), "is not a WAV file"],
    ["an Ogg file", () => audioFile("a.ogg", Buffer.concat([Buffer.from("OggS"), Buffer.alloc(60)])), "is an Ogg file"],
    [
      "audio shorter than one token",
      () => audioFile("short.wav", wavBytes({ samples: 100 })),
      "shorter than one token",
    ],
    ["a directory as the audio file", () => work, "is a folder, not an audio file"],
    ["a missing audio file", () => join(work, "nope.wav"), "nope.wav"],
  ];
  for (const [name, make, problem] of cases) {
    test(name, async () => assertFails(await run(["-d", source, "-i", make()]), 4, problem));
  }
  // Shorter than one token, so nothing is decided (a longer cut stream prints its result first: signals.test.ts).
  test("raw stdin with an odd byte count", async () =>
    assertFails(await run(["-d", source, "--stdin"], Buffer.alloc(301)), 4, "odd number of bytes (301)"));
  test("empty stdin", async () =>
    assertFails(await run(["-d", source, "--stdin"], Buffer.alloc(0)), 4, /no samples|shorter than one token/));
  test("stdin shorter than one token", async () =>
    assertFails(await run(["-d", source, "--stdin"], Buffer.alloc(300)), 4, "shorter than one token"));
  test("bad WAV header on stdin", async () =>
    assertFails(await run(["-d", source, "--stdin"], wavBytes({ format: 7, bits: 8 })), 4, "WAV codec mu-law"));
});
