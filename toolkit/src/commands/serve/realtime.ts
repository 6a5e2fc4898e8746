// vLLM's realtime transcription protocol (`WS /v1/realtime`) as a pure state machine: client messages
// and engine events in, messages to send and engine commands out. No sockets here (server.ts does
// the I/O), so every rule is testable on data.
//
// Event for event as vLLM serves it: the server greets with session.created {id, created}; the
// client sends session.update {model}, input_audio_buffer.commit (starts transcribing),
// input_audio_buffer.append {audio: base64 PCM16 16 kHz mono} and input_audio_buffer.commit
// {final: true} (end of audio); the server sends transcription.delta {delta} as text is decided and
// transcription.done {text, usage}; failures are error {error, code}. Extra here: each delta carries
// latency_ms (see latency.ts) and end_ms, the end of the audio it covers. After transcription.done
// the session is ready for the next commit.
//
// Choices where vLLM is silent or lenient: audio before session.update is refused with
// model_not_validated (the session is not ready); an append with an odd byte count, bad base64 or
// no bytes is refused with invalid_audio and dropped; audio appended between session.update and the
// first commit is kept (up to MAX_WAITING_BYTES) and transcribed from the commit on; a final commit
// with no transcription running transcribes what was appended and ends it.
import type { DoneEvent, TokenEvent } from "../../lib/events.js";
import { ArrivalLog } from "./latency.js";

export const SAMPLE_RATE = 16_000;
/** Audio kept between session.update and the first commit (60 s of PCM16). */
export const MAX_WAITING_BYTES = 60 * SAMPLE_RATE * 2;

export type EngineCommand = { kind: "open" } | { kind: "audio"; pcm: Buffer } | { kind: "finish" } | { kind: "close" };

export interface Step {
  send: Record<string, unknown>[];
  engine: EngineCommand[];
}

export interface SessionConfig {
  id: string;
  /** model names session.update accepts (null / absent is accepted too) */
  models: readonly string[];
  /** prompt length of the engine's streams (usage.prompt_tokens) */
  promptTokens: number;
}

type State = "created" | "ready" | "streaming" | "finishing";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function errorEvent(error: string, code: string): Record<string, unknown> {
  return { type: "error", error, code };
}

export class RealtimeSession {
  #state: State = "created";
  #waiting: Buffer[] = [];
  #waitingBytes = 0;
  #log = new ArrivalLog(SAMPLE_RATE);
  #tokens = 0;
  /** The text sent as deltas since the commit (the done text's prefix). */
  #sent = "";

  constructor(private readonly cfg: SessionConfig) {}

  get state(): State {
    return this.#state;
  }

  /** The greeting, sent on connect. */
  created(nowMs = Date.now()): Record<string, unknown> {
    return { type: "session.created", id: this.cfg.id, created: Math.floor(nowMs / 1000) };
  }

  /** One text message from the client; `nowMs` is its arrival time (for latency). */
  onMessage(text: string, nowMs: number): Step {
    let ev: unknown;
    try {
      ev = JSON.parse(text);
    } catch {
      return out([errorEvent("Invalid JSON", "invalid_json")]);
    }
    if (typeof ev !== "object" || ev === null || Array.isArray(ev))
      return out([errorEvent("Invalid JSON: not an object", "invalid_json")]);
    const e = ev as Record<string, unknown>;
    switch (e.type) {
      case "session.update":
        return this.#update(e);
      case "input_audio_buffer.append":
        return this.#append(e, nowMs);
      case "input_audio_buffer.commit":
        return this.#commit(e);
      default:
        return out([errorEvent(`Unknown event type: ${String(e.type)}`, "unknown_event")]);
    }
  }

  #update(e: Record<string, unknown>): Step {
    const model = e.model;
    if (model !== undefined && model !== null && (typeof model !== "string" || !this.cfg.models.includes(model))) {
      return out([
        errorEvent(
          `The model \`${String(model)}\` does not exist. Use one of: ${this.cfg.models.join(", ")}`,
          "model_not_found",
        ),
      ]);
    }
    if (this.#state === "created") this.#state = "ready";
    return out([]);
  }

  #append(e: Record<string, unknown>, nowMs: number): Step {
    if (this.#state === "created") {
      return out([
        errorEvent(
          "Audio before the session is ready: send session.update with the model first",
          "model_not_validated",
        ),
      ]);
    }
    const b64 = e.audio;
    if (typeof b64 !== "string" || b64.length % 4 !== 0 || !BASE64.test(b64)) {
      return out([errorEvent("Invalid audio data: 'audio' must be base64 of PCM16 16 kHz mono", "invalid_audio")]);
    }
    const pcm = Buffer.from(b64, "base64");
    if (pcm.length === 0) return out([errorEvent("Can't process empty audio", "invalid_audio")]);
    if (pcm.length % 2 !== 0) {
      return out([
        errorEvent(`Invalid audio data: ${pcm.length} bytes is not a whole number of PCM16 samples`, "invalid_audio"),
      ]);
    }
    if (this.#state === "finishing") {
      return out([
        errorEvent("Audio after the final commit: wait for transcription.done, then commit again", "invalid_audio"),
      ]);
    }
    this.#log.add(pcm.length / 2, nowMs);
    if (this.#state === "streaming") return { send: [], engine: [{ kind: "audio", pcm }] };
    if (this.#waitingBytes + pcm.length > MAX_WAITING_BYTES) {
      return out([
        errorEvent(
          "Too much audio before input_audio_buffer.commit (60 s): commit to start transcribing",
          "buffer_full",
        ),
      ]);
    }
    this.#waiting.push(pcm);
    this.#waitingBytes += pcm.length;
    return out([]);
  }

  #start(): EngineCommand[] {
    const cmds: EngineCommand[] = [{ kind: "open" }, ...this.#waiting.map((pcm) => ({ kind: "audio" as const, pcm }))];
    this.#waiting = [];
    this.#waitingBytes = 0;
    this.#tokens = 0;
    this.#sent = "";
    this.#state = "streaming";
    return cmds;
  }

  #commit(e: Record<string, unknown>): Step {
    if (this.#state === "created") {
      return out([
        errorEvent(
          "Model not validated. Make sure to validate the model by sending a session.update event.",
          "model_not_validated",
        ),
      ]);
    }
    const final = e.final === true;
    if (this.#state === "finishing") return out([]); // already ending
    if (!final) return this.#state === "ready" ? { send: [], engine: this.#start() } : out([]);
    const cmds = this.#state === "ready" ? this.#start() : [];
    if (this.#log.samples === 0) {
      // Nothing to transcribe: close the stream and say so with an empty result.
      this.#state = "ready";
      return { send: [this.#doneEvent("")], engine: cmds.length ? [...cmds, { kind: "close" }] : [] };
    }
    this.#state = "finishing";
    return { send: [], engine: [...cmds, { kind: "finish" }] };
  }

  /** A decided token of this session's stream. */
  onToken(t: TokenEvent, nowMs: number): Step {
    this.#tokens++;
    if (t.control || t.text.length === 0) return out([]);
    const endMs = Math.min(t.end_ms, this.#log.durationMs);
    this.#sent += t.text;
    return out([
      { type: "transcription.delta", delta: t.text, latency_ms: this.#log.latencyMs(endMs, nowMs), end_ms: endMs },
    ]);
  }

  /** The stream is done: the whole text and the usage; the session is ready for another commit. */
  onDone(d: DoneEvent, nowMs = Date.now()): Step {
    this.#state = "ready";
    this.#tokens = d.tokens.length;
    // Bytes of a character the last token left unfinished reach the text only at the end (as U+FFFD):
    // send them as a last delta, so the deltas always add up to the done text.
    const rest = d.text.startsWith(this.#sent) ? d.text.slice(this.#sent.length) : "";
    const endMs = this.#log.durationMs;
    const last = rest
      ? [{ type: "transcription.delta", delta: rest, latency_ms: this.#log.latencyMs(endMs, nowMs), end_ms: endMs }]
      : [];
    const ev = this.#doneEvent(d.text);
    this.#log = new ArrivalLog(SAMPLE_RATE);
    this.#sent = "";
    return out([...last, ev]);
  }

  /** The engine stream failed (its error event, or the engine process ended). */
  onEngineError(code: string, message: string): Step {
    const wasRunning = this.#state === "streaming" || this.#state === "finishing";
    if (wasRunning) this.#state = "ready";
    this.#log = new ArrivalLog(SAMPLE_RATE);
    return out([errorEvent(message, code === "engine_restarted" ? "engine_restarted" : "processing_error")]);
  }

  /** The server is shutting down: end the audio so that done comes for what was decided. */
  shutdown(): Step {
    if (this.#state === "streaming") {
      this.#state = "finishing";
      return { send: [], engine: [{ kind: "finish" }] };
    }
    return out([]);
  }

  /** Transcription running (an engine stream open for this session). */
  get transcribing(): boolean {
    return this.#state === "streaming" || this.#state === "finishing";
  }

  #doneEvent(text: string): Record<string, unknown> {
    const prompt = this.#tokens > 0 ? this.cfg.promptTokens : 0;
    return {
      type: "transcription.done",
      text,
      usage: { prompt_tokens: prompt, completion_tokens: this.#tokens, total_tokens: prompt + this.#tokens },
    };
  }
}

function out(send: Record<string, unknown>[]): Step {
  return { send, engine: [] };
}
