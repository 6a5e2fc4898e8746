// The pure modules of vox serve on data: the realtime state machine (which messages become engine
// commands, which become errors, in mixed sequences), the arrival log behind latency_ms, multipart
// parsing and the OpenAI form checks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ArrivalLog } from "../../../src/commands/serve/latency.js";
import { boundaryOf, MultipartError, parseMultipart } from "../../../src/commands/serve/multipart.js";
import { type ApiError, parseTranscriptionForm } from "../../../src/commands/serve/openai.js";
import { MAX_WAITING_BYTES, RealtimeSession } from "../../../src/commands/serve/realtime.js";
import type { DoneEvent, TokenEvent } from "../../../src/lib/events.js";

const cfg = { id: "sess-1", models: ["tiny", "mistralai/Voxtral-Mini-4B-Realtime-2602"], promptTokens: 39 };
const b64 = (n: number) => Buffer.alloc(n, 7).toString("base64");
const msg = (e: Record<string, unknown>) => JSON.stringify(e);
const tok = (step: number, text: string, control = false): TokenEvent => ({
  type: "token",
  id: 5,
  text,
  control,
  pos: 38 + step,
  step,
  start_ms: 80 * step,
  end_ms: 80 * (step + 1),
});

test("realtime: a mixed sequence — errors where the protocol is broken, engine commands where it is kept", () => {
  const s = new RealtimeSession(cfg);
  assert.deepEqual(s.created(1_700_000_000_123), { type: "session.created", id: "sess-1", created: 1_700_000_000 });
  const codes = (text: string) => s.onMessage(text, 0).send.map((e) => e.code);
  assert.deepEqual(codes(msg({ type: "input_audio_buffer.append", audio: b64(2560) })), ["model_not_validated"]);
  assert.deepEqual(codes(msg({ type: "input_audio_buffer.commit" })), ["model_not_validated"]);
  assert.deepEqual(codes("[1,2]"), ["invalid_json"]);
  assert.deepEqual(codes(msg({ type: "session.update", model: "whisper-1" })), ["model_not_found"]);
  assert.equal(s.state, "created");
  assert.deepEqual(s.onMessage(msg({ type: "session.update", model: "tiny" }), 0), { send: [], engine: [] });
  // kept before the first commit, sent when it comes
  assert.deepEqual(s.onMessage(msg({ type: "input_audio_buffer.append", audio: b64(3200) }), 100).engine, []);
  assert.deepEqual(codes(msg({ type: "input_audio_buffer.append", audio: b64(3201) })), ["invalid_audio"]);
  assert.deepEqual(codes(msg({ type: "input_audio_buffer.append", audio: "a*b=" })), ["invalid_audio"]);
  const start = s.onMessage(msg({ type: "input_audio_buffer.commit" }), 0);
  assert.deepEqual(
    start.engine.map((c) => c.kind),
    ["open", "audio"],
  );
  assert.equal(s.state, "streaming");
  const live = s.onMessage(msg({ type: "input_audio_buffer.append", audio: b64(6400) }), 300);
  assert.deepEqual(
    live.engine.map((c) => c.kind),
    ["audio"],
  );
  assert.deepEqual(codes(msg({ type: "response.create" })), ["unknown_event"]);
  // deltas: text tokens only, latency from the append that held the token's last sample
  assert.deepEqual(s.onToken(tok(0, "", true), 500).send, []);
  const d = s.onToken(tok(1, " hi"), 600).send[0]!;
  // 160 ms = sample 2560: past the first append (100 ms, arrived at 100), in the second (arrived at 300)
  assert.deepEqual(d, { type: "transcription.delta", delta: " hi", latency_ms: 300, end_ms: 160 });
  const late = s.onToken(tok(3, "!"), 700).send[0]!; // 320 ms, past the 300 ms received: clamped to the end
  assert.deepEqual([late.latency_ms, late.end_ms], [400, 300]);
  const fin = s.onMessage(msg({ type: "input_audio_buffer.commit", final: true }), 0);
  assert.deepEqual(
    fin.engine.map((c) => c.kind),
    ["finish"],
  );
  assert.deepEqual(codes(msg({ type: "input_audio_buffer.append", audio: b64(320) })), ["invalid_audio"]); // after final
  const done = s.onDone({ type: "done", text: " hi!", tokens: [5, 5, 5, 5] } as unknown as DoneEvent).send[0]!;
  assert.deepEqual(done, {
    type: "transcription.done",
    text: " hi!",
    usage: { prompt_tokens: 39, completion_tokens: 4, total_tokens: 43 },
  });
  assert.equal(s.state, "ready"); // the next commit starts another utterance
  assert.deepEqual(
    s.onMessage(msg({ type: "input_audio_buffer.commit" }), 0).engine.map((c) => c.kind),
    ["open"],
  );
  // a character the last token left unfinished reaches only the done text: it comes as a last delta
  s.onMessage(msg({ type: "input_audio_buffer.append", audio: b64(3200) }), 900);
  s.onToken(tok(0, " ok"), 950);
  const tail = s.onDone({ type: "done", text: " ok\ufffd", tokens: [5, 5] } as unknown as DoneEvent, 1000).send;
  assert.deepEqual(
    tail.map((e) => [e.type, e.delta ?? e.text]),
    [
      ["transcription.delta", "\ufffd"],
      ["transcription.done", " ok\ufffd"],
    ],
  );
  const err = s.onEngineError("engine_restarted", "the engine process ended");
  assert.equal(err.send[0]!.code, "engine_restarted");
  assert.equal(s.state, "ready");
});

test("realtime: a final commit with no audio ends at once; too much waiting audio is refused", () => {
  const s = new RealtimeSession(cfg);
  s.onMessage(msg({ type: "session.update" }), 0); // model absent: accepted as in vLLM
  const r = s.onMessage(msg({ type: "input_audio_buffer.commit", final: true }), 0);
  assert.deepEqual(
    r.engine.map((c) => c.kind),
    ["open", "close"],
  );
  assert.equal(r.send[0]!.type, "transcription.done");
  assert.equal(r.send[0]!.text, "");
  const big = Buffer.alloc(MAX_WAITING_BYTES / 2, 1).toString("base64");
  assert.deepEqual(s.onMessage(msg({ type: "input_audio_buffer.append", audio: big }), 0).send, []);
  assert.deepEqual(s.onMessage(msg({ type: "input_audio_buffer.append", audio: big }), 0).send, []);
  assert.equal(s.onMessage(msg({ type: "input_audio_buffer.append", audio: b64(2) }), 0).send[0]!.code, "buffer_full");
  assert.equal(s.shutdown().engine.length, 0, "nothing running: nothing to finish");
});

test("arrival log: latency per covered sample, clamped to the audio, entries dropped once passed", () => {
  const log = new ArrivalLog(16_000);
  assert.equal(log.latencyMs(80, 5), null);
  for (let i = 0; i < 3000; i++) log.add(1280, i * 80);
  assert.equal(log.latencyMs(80, 1000), 1000); // first append at 0
  assert.equal(log.latencyMs(160, 1000), 920);
  assert.equal(log.latencyMs(10_000_000, 240_000), 240_000 - 2999 * 80); // past the audio: the last append
  assert.ok(log.held < 3000, `passed entries dropped (${log.held} held)`);
});

test("multipart: fields and files, quoted boundary; broken bodies are MultipartError", () => {
  assert.equal(boundaryOf('multipart/form-data; boundary="a b"'), "a b");
  assert.equal(boundaryOf("multipart/form-data; boundary=XyZ"), "XyZ");
  assert.equal(boundaryOf("application/json"), null);
  const body = Buffer.from(
    '--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\ntiny\r\n' +
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a \\"q\\".wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--X\r\n' +
      "--XyZ--\r\n",
  );
  const parts = parseMultipart(body, "XyZ");
  assert.deepEqual(
    parts.map((p) => [p.name, p.filename, p.contentType, p.data.toString()]),
    [
      ["model", null, null, "tiny"],
      ["file", 'a "q".wav', "audio/wav", "RIFF\r\n--X"],
    ],
  );
  assert.throws(() => parseMultipart(body.subarray(0, 60), "XyZ"), MultipartError);
  assert.throws(
    () => parseMultipart(Buffer.from("--XyZ\r\nX: y\r\n\r\nz\r\n--XyZ--"), "XyZ"),
    /no Content-Disposition/,
  );
  assert.throws(() => parseMultipart(Buffer.from("nothing"), "XyZ"), /no multipart boundary/);
});

test("OpenAI form: one good field does not hide a bad one", () => {
  const part = (name: string, data: string, filename: string | null = null) => ({
    name,
    filename,
    contentType: null,
    data: Buffer.from(data),
  });
  const file = part("file", "RIFF", "a.wav");
  const ok = parseTranscriptionForm(
    [file, part("model", "tiny"), part("response_format", "verbose_json"), part("timestamp_granularities[]", "word")],
    cfg.models,
  );
  assert.deepEqual([ok.format, ok.granularities], ["verbose_json", ["word"]]);
  assert.equal(parseTranscriptionForm([file, part("model", "tiny")], cfg.models).format, "json");
  const status = (parts: ReturnType<typeof part>[]) => {
    try {
      parseTranscriptionForm(parts, cfg.models);
      return 0;
    } catch (e) {
      return (e as ApiError).status * 1000 + ((e as ApiError).param?.length ?? 0);
    }
  };
  assert.equal(status([file, part("model", "whisper-1")]), 404_005);
  assert.equal(status([part("model", "tiny")]), 400_004);
  assert.equal(status([file, part("model", "tiny"), part("response_format", "docx")]), 400_015);
  assert.equal(status([file, part("model", "tiny"), part("timestamp_granularities[]", "word")]), 400_023); // needs verbose_json
  assert.equal(
    status([
      file,
      part("model", "tiny"),
      part("response_format", "verbose_json"),
      part("timestamp_granularities[]", "char"),
    ]),
    400_023,
  );
});
