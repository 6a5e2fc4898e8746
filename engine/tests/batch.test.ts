// Streams decoded together (engine/src/batch.c, vox_streams_step): on every fixture, CPU backend,
// B = 2, 3 and 8 streams with different audio (both fixture recordings, different slices), lengths,
// delays (the ada-norm scale is per row), chunk sizes and start ticks are stepped together by
// engine/tests/batch_streams.c, one decoder forward per tick for every stream with a ready position;
// each stream's tokens must equal its solo run (`voxtral -i SLICE.wav --no-speculation`), and the
// widest forward must have had B rows and some encoder pass at least 2 streams (they really shared
// forwards and passes over the encoder weights), and with 8 some stream's held rows were cut at its
// step's encoder quota (their rest ran in later steps). With a stream closed mid-way
// (freed without a flush) and one failing (audio shorter than one token, at its flush), the other
// six are unchanged and the closed one got a prefix of its solo tokens. Streams whose prompts arrive
// together share a prefill forward and keep their solo tokens. --rows 1 (streams one after
// another, the path backends without verified multi-row ops take) gives the same tokens. And
// `voxtral --serve` (which steps its streams with the same batched step on the CPU): three streams
// with interleaved frames give their solo tokens, and --debug reports forwards and encoder passes
// shared by >= 2 streams.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { audioFrames, encodeFrame, openFrame } from "../../toolkit/src/commands/serve/frames.js";
import { parseEngineJson, runEngine } from "../../toolkit/src/lib/engine.js";
import { engineBinary, fixturesDir, packageRoot } from "../../toolkit/src/lib/paths.js";
import { wavHeader } from "../../toolkit/src/lib/wav.js";
import { fixtureNames, pcm16 } from "./golden.js";

interface StreamSpec {
  wav: string;
  off: number;
  len: number;
  delay: number;
  start: number;
  chunk: number;
  close?: number;
}
interface StreamOut {
  stream: number;
  status: string;
  tokens: number[];
  error: string;
  kv_mb: number;
}
interface Counts {
  forwards: number;
  widest: number;
  enc_passes: number;
  enc_widest: number;
  enc_quota_held: number;
  prefills: number;
  prefill_widest: number;
  ticks: number;
}

const root = fixturesDir();
const names = fixtureNames(root);
const harness = join(packageRoot(), "engine", "build", "batch_streams");
const tmp = mkdtempSync(join(tmpdir(), "vox-batch-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const JFK = join(root, "tiny-delay", "jfk.wav"); // 11 s
const SPEECH = join(root, "tiny-real-windows", "test_speech.wav"); // 3.6 s
const SPECS: StreamSpec[] = [
  { wav: JFK, off: 0, len: -1, delay: 480, start: 0, chunk: 4099 },
  { wav: SPEECH, off: 0, len: -1, delay: 960, start: 3, chunk: 1280 },
  { wav: JFK, off: 16000, len: 64000, delay: 80, start: 1, chunk: 700 },
  { wav: SPEECH, off: 8000, len: 40000, delay: 2400, start: 6, chunk: 16000 },
  { wav: JFK, off: 48000, len: 100000, delay: 160, start: 2, chunk: 2560 },
  { wav: SPEECH, off: 0, len: 30000, delay: 720, start: 9, chunk: 3000 },
  { wav: JFK, off: 100000, len: -1, delay: 1200, start: 4, chunk: 8192 },
  { wav: SPEECH, off: 20000, len: -1, delay: 400, start: 12, chunk: 1999 },
];

function wavOf(data: Buffer): Buffer {
  const h = wavHeader(data.length);
  return Buffer.concat([h, data]);
}

function specArg(s: StreamSpec): string {
  return (
    `wav=${s.wav},off=${s.off},len=${s.len},delay=${s.delay},start=${s.start},chunk=${s.chunk}` +
    (s.close ? `,close=${s.close}` : "")
  );
}

function runHarness(dir: string, specs: StreamSpec[], extra: string[] = []): { streams: StreamOut[]; counts: Counts } {
  const r = spawnSync(harness, ["-d", dir, "--backend", "cpu", ...extra, ...specs.map(specArg)], {
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `batch_streams failed (${r.signal ?? r.status}):\n${r.stderr}`);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { streams: lines.slice(0, -1) as unknown as StreamOut[], counts: lines.at(-1) as unknown as Counts };
}

before(() => {
  const r = spawnSync("make", ["-s", "-C", join(packageRoot(), "engine"), "batch_streams"], {
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `make -C engine batch_streams failed:\n${r.stdout}${r.stderr}`);
});

for (const name of names) {
  describe(`streams stepped together on ${name}`, () => {
    const dir = join(root, name);
    const solo: number[][] = [];

    before(async () => {
      for (const [i, s] of SPECS.entries()) {
        const all = pcm16(s.wav);
        const a = s.off * 2;
        const data = all.subarray(a, s.len < 0 ? all.length : Math.min(all.length, a + s.len * 2));
        const path = join(tmp, `${name}-${i}.wav`);
        writeFileSync(path, wavOf(data));
        const r = await runEngine([
          "-d",
          dir,
          "-i",
          path,
          "--delay-ms",
          String(s.delay),
          "--backend",
          "cpu",
          "--json",
          "--no-speculation",
        ]);
        assert.equal(r.failure, null, `${r.command}\n${r.stderr}`);
        solo.push(parseEngineJson<{ tokens: number[] }>(r).tokens);
      }
    });

    for (const B of [2, 3, 8]) {
      test(`${B} streams give each stream's solo tokens`, () => {
        const { streams, counts } = runHarness(dir, SPECS.slice(0, B));
        assert.equal(streams.length, B);
        for (const s of streams) {
          assert.equal(s.status, "done", `stream ${s.stream}: ${s.status} ${s.error}`);
          assert.deepEqual(s.tokens, solo[s.stream], `stream ${s.stream} differs from its solo run`);
          assert.ok(s.kv_mb > 0, `stream ${s.stream} reports no KV memory`);
        }
        assert.equal(counts.widest, B, `the ${B} streams never shared one forward`);
        // Their 80-ms-sized pushes share encoder passes too (the 16000-sample one is too big and runs alone).
        assert.ok(counts.enc_widest >= 2, `the ${B} streams never shared an encoder pass: ${JSON.stringify(counts)}`);
        // With 8 streams holding rows a prefilled stream runs one token's rows per step (a pass of 16 rows
        // shared 8 ways), so pushes of 8-16 rows are cut and finish in the next steps, tokens unchanged.
        if (B === 8)
          assert.ok(counts.enc_quota_held > 0, `no held rows were cut at a step's quota: ${JSON.stringify(counts)}`);
      });
    }

    test("streams whose prompts arrive together share a prefill forward; their tokens stay their solo ones", () => {
      // two streams of the same audio and delay opened at the same tick and fed alike, and one of
      // another delay (a prompt of another length) opened with them
      const specs = [SPECS[0]!, SPECS[0]!, { ...SPECS[1]!, start: 0, chunk: 4099 }];
      const { streams, counts } = runHarness(dir, specs);
      const want = [solo[0], solo[0], solo[1]];
      for (const s of streams) {
        assert.equal(s.status, "done", `stream ${s.stream}: ${s.status} ${s.error}`);
        assert.deepEqual(s.tokens, want[s.stream], `stream ${s.stream} differs from its solo run`);
      }
      assert.ok(counts.prefill_widest >= 2, `no two prefills shared a forward: ${JSON.stringify(counts)}`);
      assert.ok(counts.prefills < 3, `three prefills in ${counts.prefills} forwards`);
    });

    test("a stream closed mid-way and one failing leave the others unchanged", () => {
      const specs = SPECS.map((s, i) => (i === 3 ? { ...s, close: 10 } : i === 5 ? { ...s, len: 1000 } : s));
      const { streams } = runHarness(dir, specs);
      for (const s of streams) {
        if (s.stream === 3) {
          assert.equal(s.status, "closed");
          assert.deepEqual(s.tokens, solo[3]!.slice(0, 10), "the closed stream's tokens are not its solo prefix");
        } else if (s.stream === 5) {
          assert.equal(s.status, "error");
          assert.match(s.error, /^the audio is shorter than one token: 1000 samples/);
        } else {
          assert.equal(s.status, "done", `stream ${s.stream}: ${s.status} ${s.error}`);
          assert.deepEqual(s.tokens, solo[s.stream], `stream ${s.stream} changed`);
        }
      }
    });

    test("voxtral --serve: streams in batched forwards give their solo tokens", async () => {
      const ids = [0, 3, 4];
      const pcms = ids.map((i) => pcm16(join(tmp, `${name}-${i}.wav`)));
      const frames: Buffer[] = ids.map((i, k) => openFrame(k + 1, { delay_ms: SPECS[i]!.delay }));
      const off = pcms.map(() => 0);
      for (let round = 0; pcms.some((p, k) => off[k]! < p.length); round++)
        pcms.forEach((p, k) => {
          const n = [6400, 3001, 12800][(round + k) % 3]!;
          if (off[k]! < p.length) frames.push(...audioFrames(k + 1, p.subarray(off[k], off[k]! + n)));
          off[k]! += n;
        });
      for (let k = 0; k < ids.length; k++) frames.push(encodeFrame("F", k + 1));
      const r = spawnSync(engineBinary(), ["-d", dir, "--serve", "--backend", "cpu", "--debug"], {
        input: Buffer.concat(frames),
        encoding: "utf8",
        timeout: 300_000,
        maxBuffer: 64 << 20,
      });
      assert.equal(r.status, 0, r.stderr);
      const events = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; stream: number; [k: string]: unknown });
      ids.forEach((i, k) => {
        const tokens = events.filter((e) => e.type === "token" && e.stream === k + 1).map((e) => e.id as number);
        assert.deepEqual(tokens, solo[i], `serve stream ${k + 1} differs from its solo run`);
        const done = events.find((e) => e.type === "done" && e.stream === k + 1);
        assert.ok(done && (done.kv_mb as number) > 0, `serve stream ${k + 1}: no done event with kv_mb`);
      });
      const m = /serve: (\d+) batched decoder forwards, the widest of (\d+) streams/.exec(r.stderr);
      assert.ok(m, `no batch line in --debug output:\n${r.stderr}`);
      assert.ok(Number(m[2]) >= 2, `serve never put two streams in one forward (widest ${m[2]})`);
      const e = /(\d+) encoder passes, the widest of (\d+) streams/.exec(r.stderr);
      assert.ok(e && Number(e[2]) >= 2, `serve never put two streams in one encoder pass:\n${r.stderr}`);
    });

    test("--rows 1 (one stream per forward) gives the same tokens", () => {
      const { streams, counts } = runHarness(dir, SPECS, ["--rows", "1"]);
      for (const s of streams) assert.deepEqual(s.tokens, solo[s.stream], `stream ${s.stream} differs (rows 1)`);
      assert.equal(counts.widest, 1);
      assert.equal(counts.enc_passes, 0, "--rows 1 still ran encoder passes of several streams");
      assert.equal(counts.prefill_widest, 1, "--rows 1 still prefilled several streams together");
    });
  });
}
