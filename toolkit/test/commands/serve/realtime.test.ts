// WS /v1/realtime of the real `vox serve` on the tiny-small-windows fixture, through a real ws client:
// the fixture's audio sent as a vLLM client sends it comes back as exactly the engine's offline
// text; protocol mistakes are error events and the session goes on; a vanished client frees its
// engine stream; 50 sessions opened, fed and dropped leave engine streams and memory where they
// were; --max-sessions refuses clearly; a killed engine is restarted; SIGTERM ends sessions with
// transcription.done; --api-key guards HTTP and WebSocket.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { appendEvent, connect, send, transcribeRealtime } from "../../../src/commands/serve/client.js";
import { parseEngineJson, runEngine } from "../../../src/lib/engine.js";
import { readWav } from "../../../src/lib/wav.js";
import { MODEL, modelDir, type Running, startServe, until } from "./server.js";

const wav = join(modelDir, "test_speech.wav");
const pcm = new Uint8Array(readWav(wav).samples.buffer);
const offline = runEngine(["-d", modelDir, "-i", wav, "--backend", "cpu", "--json"]).then((r) => {
  assert.equal(r.failure, null, r.stderr);
  return parseEngineJson<{ text: string; tokens: number[] }>(r);
});

/** Records a socket's events; next() waits for the first matching one that arrives after the call. */
class Inbox {
  readonly events: Record<string, unknown>[] = [];
  #waiters: {
    from: number;
    pred: (e: Record<string, unknown>) => boolean;
    resolve: (e: Record<string, unknown>) => void;
  }[] = [];
  constructor(ws: WebSocket) {
    ws.on("message", (d) => {
      const e = JSON.parse(d.toString()) as Record<string, unknown>;
      this.events.push(e);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
  }
  next(pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.#waiters.push({ from: this.events.length, pred, resolve }));
  }
}

async function open(url: string): Promise<{ ws: WebSocket; inbox: Inbox }> {
  const { ws } = await connect(url);
  return { ws, inbox: new Inbox(ws) };
}

function vmRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

describe("vox serve: WS /v1/realtime", () => {
  let srv: Running;
  before(async () => {
    srv = await startServe(["--max-sessions", "60"]);
  });
  after(async () => {
    await srv.stop();
  });

  test("the fixture's audio gives exactly the engine's offline text (deltas and transcription.done)", async () => {
    const r = await transcribeRealtime({ url: srv.ws, model: MODEL, pcm, chunkBytes: 3200 });
    const want = await offline;
    assert.deepEqual(r.errors, []);
    assert.equal(r.events[0]!.event.type, "session.created");
    assert.match(String(r.events[0]!.event.id), /^sess-/);
    assert.equal(r.done?.text, want.text);
    assert.equal(r.deltas.map((d) => d.delta).join(""), want.text);
    assert.equal(r.done?.usage.completion_tokens, want.tokens.length);
    assert.equal(r.done?.usage.total_tokens, (r.done?.usage.prompt_tokens ?? 0) + want.tokens.length);
    for (const d of r.deltas) {
      assert.equal(typeof d.latency_ms, "number");
      assert.ok(d.latency_ms! >= 0);
      assert.ok(d.end_ms > 0 && d.end_ms <= pcm.length / 2 / 16 + 1e-6, `end_ms ${d.end_ms} within the audio`);
    }
    // the HF name is accepted as the model too (clients written for vLLM send it)
    const hf = await transcribeRealtime({ url: srv.ws, model: "mistralai/Voxtral-Mini-4B-Realtime-2602", pcm });
    assert.equal(hf.done?.text, want.text);
  });

  test("protocol mistakes are error events and the session goes on", async () => {
    const { ws, inbox } = await open(srv.ws);
    const err = (code: string) => inbox.next((e) => e.type === "error" && e.code === code);
    let p = err("model_not_validated");
    send(ws, appendEvent(pcm.subarray(0, 3200))); // audio before the session is ready
    assert.match(String((await p).error), /before the session is ready/);
    p = err("invalid_json");
    ws.send("{not json");
    await p;
    p = err("unknown_event");
    send(ws, { type: "conversation.item.create" });
    assert.match(String((await p).error), /Unknown event type: conversation\.item\.create/);
    p = err("model_not_found");
    send(ws, { type: "session.update", model: "whisper-1" });
    await p;
    send(ws, { type: "session.update", model: MODEL });
    send(ws, { type: "input_audio_buffer.commit" });
    p = err("invalid_audio");
    send(ws, { type: "input_audio_buffer.append", audio: "!!not base64!!" });
    await p;
    p = err("invalid_audio");
    send(ws, appendEvent(pcm.subarray(0, 3201))); // odd byte count
    assert.match(String((await p).error), /3201 bytes is not a whole number of PCM16 samples/);
    p = err("invalid_audio");
    send(ws, { type: "input_audio_buffer.append", audio: "" });
    await p;
    // ...and the session still transcribes the whole clip exactly.
    const done = inbox.next((e) => e.type === "transcription.done");
    for (let off = 0; off < pcm.length; off += 4000) send(ws, appendEvent(pcm.subarray(off, off + 4000)));
    send(ws, { type: "input_audio_buffer.commit", final: true });
    assert.equal((await done).text, (await offline).text);
    // a second utterance on the same socket after transcription.done
    const again = inbox.next((e) => e.type === "transcription.done");
    send(ws, { type: "input_audio_buffer.commit" });
    for (let off = 0; off < pcm.length; off += 6400) send(ws, appendEvent(pcm.subarray(off, off + 6400)));
    send(ws, { type: "input_audio_buffer.commit", final: true });
    assert.equal((await again).text, (await offline).text);
    ws.close();
  });

  test("a client that vanishes mid-stream (socket destroyed) frees its stream; the server keeps serving", async () => {
    const { ws } = await connect(srv.ws);
    send(ws, { type: "session.update", model: MODEL });
    send(ws, { type: "input_audio_buffer.commit" });
    send(ws, appendEvent(pcm.subarray(0, 32000)));
    await until(
      () => srv.health(),
      (h) => h.engine_streams === 1,
    );
    (ws as unknown as { _socket: { destroy(): void } })._socket.destroy(); // no close frame
    const h = await until(
      () => srv.health(),
      (x) => x.engine_streams === 0 && x.sessions === 0,
    );
    assert.equal(h.status, "ok");
    const r = await transcribeRealtime({ url: srv.ws, model: MODEL, pcm });
    assert.equal(r.done?.text, (await offline).text);
  });

  test("50 sessions opened, fed and dropped leave engine streams and memory where they started", async () => {
    const warm = async () => {
      for (let i = 0; i < 5; i++) {
        const { ws } = await connect(srv.ws);
        send(ws, { type: "session.update", model: MODEL });
        send(ws, { type: "input_audio_buffer.commit" });
        send(ws, appendEvent(pcm.subarray(0, 16000 * (1 + (i % 3)))));
        ws.terminate();
        await until(
          () => srv.health(),
          (h) => h.engine_streams === 0 && h.sessions === 0,
        );
      }
    };
    await warm(); // allocator pools and JIT settle before the baseline
    const h0 = await srv.health();
    const engine0 = vmRssMb(Number(h0.engine_pid));
    for (let i = 0; i < 50; i++) {
      const { ws } = await connect(srv.ws);
      send(ws, { type: "session.update", model: MODEL });
      send(ws, { type: "input_audio_buffer.commit" });
      send(ws, appendEvent(pcm.subarray(0, 16000 * (1 + (i % 3)))));
      if (i % 2) ws.terminate();
      else ws.close();
      // one at a time: what is measured is what a dropped session leaves behind, not 50 at once
      await until(
        () => srv.health(),
        (h) => h.engine_streams === 0 && h.sessions === 0,
      );
    }
    const h1 = await until(
      () => srv.health(),
      (h) => h.engine_streams === 0 && h.sessions === 0,
    );
    const engine1 = vmRssMb(Number(h1.engine_pid));
    // Generous bounds (the allocators keep some pages): 40 MB for node, 20 MB for the engine; a leak
    // of one stream per session (decoder KV rings, encoder state, buffers) would be far more.
    assert.ok(Number(h1.rss_mb) - Number(h0.rss_mb) < 40, `server RSS ${h0.rss_mb} -> ${h1.rss_mb} MB`);
    assert.ok(engine1 - engine0 < 20, `engine RSS ${engine0.toFixed(1)} -> ${engine1.toFixed(1)} MB`);
    assert.equal(h1.engine_restarts, 0);
  });

  test("a protocol client written for vLLM gets binary frames refused, and big messages close the socket", async () => {
    const { ws, inbox } = await open(srv.ws);
    const p = inbox.next((e) => e.type === "error");
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await p).code, "invalid_json");
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    ws.send("x".repeat(9 * 1048576));
    assert.equal(await closed, 1009);
    assert.equal((await srv.health()).status, "ok");
  });
});

describe("vox serve: limits, engine death, shutdown, API key", () => {
  test("--max-sessions: the session over the limit is refused with too_many_sessions (WS) and 429 (HTTP)", async () => {
    const srv = await startServe(["--max-sessions", "1"]);
    try {
      const first = await connect(srv.ws);
      const ws = new WebSocket(srv.ws);
      const got = await new Promise<{ msg: Record<string, unknown>; code: number }>((resolve) => {
        let msg: Record<string, unknown> = {};
        ws.on("message", (d) => {
          msg = JSON.parse(d.toString()) as Record<string, unknown>;
        });
        ws.on("close", (code) => resolve({ msg, code }));
      });
      assert.equal(got.msg.type, "error");
      assert.equal(got.msg.code, "too_many_sessions");
      assert.match(String(got.msg.error), /limit is 1 \(--max-sessions\)/);
      assert.equal(got.code, 1013);
      const form = new FormData();
      form.set("file", new Blob([readFileSync(wav)]), "a.wav");
      form.set("model", MODEL);
      const res = await fetch(`${srv.http}/v1/audio/transcriptions`, { method: "POST", body: form });
      assert.equal(res.status, 429);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "too_many_sessions");
      first.ws.close();
      await until(
        () => srv.health(),
        (h) => h.sessions === 0,
      );
      const r = await transcribeRealtime({ url: srv.ws, model: MODEL, pcm });
      assert.equal(r.done?.text, (await offline).text);
    } finally {
      await srv.stop();
    }
  });

  test("the engine process killed: open sessions get an error, the engine restarts, new sessions work", async () => {
    const srv = await startServe();
    try {
      const { ws, inbox } = await open(srv.ws);
      send(ws, { type: "session.update", model: MODEL });
      send(ws, { type: "input_audio_buffer.commit" });
      send(ws, appendEvent(pcm.subarray(0, 32000)));
      const h0 = await until(
        () => srv.health(),
        (h) => h.engine_streams === 1,
      );
      const err = inbox.next((e) => e.type === "error");
      process.kill(Number(h0.engine_pid), "SIGKILL");
      const e = await err;
      assert.equal(e.code, "engine_restarted");
      assert.match(String(e.error), /engine process ended/);
      const h1 = await until(
        () => srv.health(),
        (h) => h.status === "ok" && h.engine_restarts === 1,
      );
      assert.notEqual(h1.engine_pid, h0.engine_pid);
      // the same socket can start again, and a new one works
      const done = inbox.next((x) => x.type === "transcription.done");
      send(ws, { type: "input_audio_buffer.commit" });
      send(ws, appendEvent(pcm));
      send(ws, { type: "input_audio_buffer.commit", final: true });
      assert.equal((await done).text, (await offline).text);
      const r = await transcribeRealtime({ url: srv.ws, model: MODEL, pcm });
      assert.equal(r.done?.text, (await offline).text);
      ws.close();
    } finally {
      await srv.stop();
    }
  });

  for (const how of ["SIGTERM", "Ctrl-C (SIGINT to the process group)"] as const)
    test(`${how}: open sessions get transcription.done for what was decided, then the server exits 0`, async () => {
      const srv = await startServe([], how !== "SIGTERM");
      const { ws, inbox } = await open(srv.ws);
      send(ws, { type: "session.update", model: MODEL });
      send(ws, { type: "input_audio_buffer.commit" });
      const half = pcm.subarray(0, 2 * 24000);
      send(ws, appendEvent(half));
      await until(
        () => srv.health(),
        (h) => h.engine_streams === 1,
      );
      const done = inbox.next((e) => e.type === "transcription.done");
      const closed = new Promise<number>((r) => ws.once("close", (c) => r(c)));
      if (how === "SIGTERM") srv.proc.kill("SIGTERM");
      else process.kill(-srv.proc.pid!, "SIGINT"); // what a terminal does: the whole foreground group
      const d = await done;
      // what was decided: the text of the audio sent so far (the engine's run of that audio alone)
      const part = await runEngine(["-d", modelDir, "--stdin", "--backend", "cpu", "--json"], { input: half });
      assert.equal(d.text, parseEngineJson<{ text: string }>(part).text);
      assert.equal(await closed, 1001);
      assert.deepEqual(await srv.exited, { code: 0, signal: null });
      assert.match(srv.stderr(), how === "SIGTERM" ? /SIGTERM: finishing 1 session/ : /SIGINT: finishing 1 session/);
    });

  test("--api-key: 401 without the key on HTTP and WS; the key as Bearer or as a WS subprotocol works", async () => {
    const srv = await startServe(["--api-key", "s3cret"]);
    try {
      assert.equal((await fetch(`${srv.http}/v1/models`)).status, 401);
      assert.equal((await fetch(`${srv.http}/v1/models`, { headers: { authorization: "Bearer wrong" } })).status, 401);
      const ok = await fetch(`${srv.http}/v1/models`, { headers: { authorization: "Bearer s3cret" } });
      assert.equal(ok.status, 200);
      assert.equal((await fetch(`${srv.http}/health`)).status, 200); // health and the page need no key
      assert.equal((await fetch(`${srv.http}/`)).status, 200);
      await assert.rejects(connect(srv.ws), /HTTP 401/);
      const r = await transcribeRealtime({ url: srv.ws, model: MODEL, pcm, apiKey: "s3cret" });
      assert.equal(r.done?.text, (await offline).text);
      const sub = new WebSocket(srv.ws, ["openai-insecure-api-key.s3cret"]);
      const first = await new Promise<Record<string, unknown>>((res, rej) => {
        sub.once("message", (d) => res(JSON.parse(d.toString()) as Record<string, unknown>));
        sub.once("error", rej);
      });
      assert.equal(first.type, "session.created");
      sub.close();
    } finally {
      await srv.stop();
    }
  });
});
