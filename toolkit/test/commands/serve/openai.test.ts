// POST /v1/audio/transcriptions of the real `vox serve`, through the official `openai` npm client
// (audio.transcriptions.create with baseURL at the local server) for every response_format; the
// text is the engine's offline text and the subtitle formats parse; mp3 goes through ffmpeg;
// mistakes (unknown model, bad format, too big, not multipart, not audio) get OpenAI error bodies.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI, { toFile } from "openai";
import { runEngine } from "../../../src/lib/engine.js";
import { buildTranscript } from "../../../src/lib/transcript.js";
import { MODEL, modelDir, type Running, startServe } from "./server.js";

const wav = join(modelDir, "test_speech.wav");
const wavBytes = readFileSync(wav);
const offline = runEngine(["-d", modelDir, "-i", wav, "--backend", "cpu", "--events"]).then((r) => {
  assert.equal(r.failure, null, r.stderr);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const tokens = lines
    .filter((e) => e.type === "token")
    .map((e) => ({
      id: e.id as number,
      text: e.text as string,
      control: e.control as boolean,
      startMs: e.start_ms as number,
      endMs: e.end_ms as number,
    }));
  const done = lines.at(-1)!;
  return { text: String(done.text), transcript: buildTranscript(tokens, Number(done.audio_seconds) * 1000) };
});

describe("vox serve: OpenAI POST /v1/audio/transcriptions", () => {
  let srv: Running;
  let client: OpenAI;
  before(async () => {
    srv = await startServe(["--max-body-mb", "1"]);
    client = new OpenAI({ apiKey: "unused", baseURL: `${srv.http}/v1`, maxRetries: 0 });
  });
  after(async () => {
    await srv.stop();
  });
  const file = () => toFile(wavBytes, "speech.wav", { type: "audio/wav" });

  test("json and text: the engine's transcript", async () => {
    const want = await offline;
    const j = await client.audio.transcriptions.create({ file: await file(), model: MODEL, response_format: "json" });
    assert.equal(j.text, want.transcript.text);
    const t = await client.audio.transcriptions.create({ file: await file(), model: MODEL, response_format: "text" });
    assert.equal(t, `${want.transcript.text}\n`);
    assert.ok(want.text.length > 0);
  });

  test("verbose_json: segments by default, words when asked, both when both are asked", async () => {
    const want = (await offline).transcript;
    const seg = await client.audio.transcriptions.create({
      file: await file(),
      model: MODEL,
      response_format: "verbose_json",
    });
    assert.equal(seg.text, want.text);
    assert.equal(seg.duration, want.durationS);
    assert.deepEqual(seg.segments, want.segments);
    assert.equal(seg.words, undefined);
    const words = await client.audio.transcriptions.create({
      file: await file(),
      model: MODEL,
      response_format: "verbose_json",
      timestamp_granularities: ["word"],
    });
    assert.deepEqual(words.words, want.words);
    assert.equal(words.segments, undefined);
    const both = await client.audio.transcriptions.create({
      file: await file(),
      model: MODEL,
      response_format: "verbose_json",
      timestamp_granularities: ["word", "segment"],
    });
    assert.deepEqual(both.words, want.words);
    assert.deepEqual(both.segments, want.segments);
    for (const w of both.words ?? []) assert.ok(w.end <= want.durationS && w.start <= w.end);
  });

  test("srt and vtt: one cue per segment with the segment times", async () => {
    const want = (await offline).transcript;
    const srt = await client.audio.transcriptions.create({ file: await file(), model: MODEL, response_format: "srt" });
    const vtt = await client.audio.transcriptions.create({ file: await file(), model: MODEL, response_format: "vtt" });
    assert.equal(typeof srt, "string");
    assert.match(vtt, /^WEBVTT\n/);
    const srtTimes = [...srt.matchAll(/(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)/g)];
    const vttTimes = [...vtt.matchAll(/(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)/g)];
    assert.equal(srtTimes.length, want.segments.length);
    assert.equal(vttTimes.length, want.segments.length);
    const ms = (t: string) =>
      t
        .split(/[:,.]/)
        .map(Number)
        .reduce((a, x, i) => (i < 3 ? a * 60 + x : a * 1000 + x), 0);
    const secs = (t: string) => ms(t) / 1000;
    want.segments.forEach((s, i) => {
      assert.equal(secs(srtTimes[i]![1]!), s.start);
      assert.equal(secs(vttTimes[i]![2]!), s.end);
    });
  });

  test("an mp3 is decoded with ffmpeg and transcribed", {
    skip: spawnSync("ffmpeg", ["-version"]).status !== 0 && "ffmpeg is not installed",
  }, async () => {
    const mp3 = spawnSync("ffmpeg", ["-loglevel", "error", "-i", wav, "-f", "mp3", "pipe:1"], {
      maxBuffer: 1 << 26,
    }).stdout;
    const j = await client.audio.transcriptions.create({ file: await toFile(mp3, "speech.mp3"), model: MODEL });
    assert.equal(typeof j.text, "string");
    assert.ok(j.text.length > 0);
  });

  test("mistakes get OpenAI error bodies with the right status", async () => {
    await assert.rejects(
      client.audio.transcriptions.create({ file: await file(), model: "whisper-1" }),
      (e: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(e.status, 404);
        assert.equal((e.error as { code?: string }).code, "model_not_found");
        return true;
      },
    );
    await assert.rejects(
      client.audio.transcriptions.create({ file: await toFile(Buffer.alloc(2 << 20, 1), "big.wav"), model: MODEL }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 413,
    );
    await assert.rejects(
      client.audio.transcriptions.create({
        file: await toFile(Buffer.from("not audio at all"), "x.wav"),
        model: MODEL,
      }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && /could not be decoded/.test(e.message),
    );
    const form = new FormData();
    form.set("file", new Blob([wavBytes]), "a.wav");
    form.set("model", MODEL);
    form.set("response_format", "docx");
    const bad = await fetch(`${srv.http}/v1/audio/transcriptions`, { method: "POST", body: form });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /response_format 'docx'/);
    const plain = await fetch(`${srv.http}/v1/audio/transcriptions`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(plain.status, 400);
    const models = (await (await fetch(`${srv.http}/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(
      models.data.map((m) => m.id),
      [MODEL, "mistralai/Voxtral-Mini-4B-Realtime-2602"],
    );
    assert.equal((await srv.health()).status, "ok");
  });
});
