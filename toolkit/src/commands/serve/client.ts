// A client of `WS /v1/realtime` (the vLLM protocol, realtime.ts): the tests, `vox smoke`'s realtime
// check and `vox-bench --live` send audio through it. It speaks exactly what a vLLM client sends:
// session.update, commit, appends of base64 PCM16, commit {final: true}; and it records every
// server event with its arrival time.
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";

export interface Received {
  at: number;
  event: Record<string, unknown>;
}

export interface RealtimeRun {
  /** every server event, in order, with Date.now() on arrival */
  events: Received[];
  deltas: { at: number; delta: string; latency_ms: number | null; end_ms: number }[];
  done: { text: string; usage: Record<string, number> } | null;
  errors: Record<string, unknown>[];
  /** Date.now() when each chunk was sent */
  sentAt: number[];
  /** Date.now() when the first chunk was sent */
  startedAt: number;
}

export interface RealtimeOptions {
  url: string;
  model: string;
  /** PCM16 16 kHz mono */
  pcm: Uint8Array;
  /** bytes per append (default 2560: 80 ms) */
  chunkBytes?: number;
  /** send at real time (one chunk per chunk's duration on the wall clock); default false */
  paced?: boolean;
  apiKey?: string;
  /** give up after this long (default 120 s) */
  timeoutMs?: number;
}

/** Opens the socket and waits for session.created. */
export function connect(
  url: string,
  apiKey?: string,
): Promise<{ ws: WebSocket; created: Record<string, unknown>; events: Received[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {});
    const events: Received[] = [];
    const first = (d: WebSocket.RawData) => {
      ws.off("message", first);
      const event = JSON.parse(d.toString()) as Record<string, unknown>;
      events.push({ at: Date.now(), event });
      if (event.type === "session.created") resolve({ ws, created: event, events });
      else reject(new Error(`first event is ${JSON.stringify(event)}, not session.created`));
    };
    ws.on("message", first);
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode} on the WebSocket upgrade`)));
  });
}

export function send(ws: WebSocket, event: Record<string, unknown>): void {
  ws.send(JSON.stringify(event));
}

export function appendEvent(pcm: Uint8Array): Record<string, unknown> {
  return {
    type: "input_audio_buffer.append",
    audio: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString("base64"),
  };
}

/** One whole utterance: update, commit, appends, final commit; resolves at transcription.done (or an error that ends it). */
export async function transcribeRealtime(o: RealtimeOptions): Promise<RealtimeRun> {
  const { ws, events } = await connect(o.url, o.apiKey);
  const run: RealtimeRun = { events, deltas: [], done: null, errors: [], sentAt: [], startedAt: 0 };
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no transcription.done within ${o.timeoutMs ?? 120_000} ms`)),
      o.timeoutMs ?? 120_000,
    );
    ws.on("message", (d) => {
      const at = Date.now();
      const event = JSON.parse(d.toString()) as Record<string, unknown>;
      events.push({ at, event });
      if (event.type === "transcription.delta") {
        run.deltas.push({
          at,
          delta: String(event.delta),
          latency_ms: event.latency_ms as number | null,
          end_ms: Number(event.end_ms),
        });
      } else if (event.type === "transcription.done") {
        run.done = { text: String(event.text), usage: event.usage as Record<string, number> };
        clearTimeout(timer);
        resolve();
      } else if (event.type === "error") {
        run.errors.push(event);
        if (event.code === "engine_restarted" || event.code === "processing_error") {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  send(ws, { type: "session.update", model: o.model });
  send(ws, { type: "input_audio_buffer.commit" });
  const chunk = o.chunkBytes ?? 2560;
  run.startedAt = Date.now();
  for (let off = 0, k = 0; off < o.pcm.length; off += chunk, k++) {
    if (o.paced) {
      const due = run.startedAt + (off / 2 / 16_000) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
    }
    run.sentAt.push(Date.now());
    send(ws, appendEvent(o.pcm.subarray(off, Math.min(o.pcm.length, off + chunk))));
    if (!o.paced && k % 64 === 63) await sleep(0); // let replies in
  }
  send(ws, { type: "input_audio_buffer.commit", final: true });
  try {
    await finished;
  } finally {
    ws.close();
  }
  return run;
}
