// The I/O of `vox serve`: node:http for the OpenAI endpoints, the page and /health; ws for
// /v1/realtime. The protocol rules live in realtime.ts / openai.ts / multipart.ts; every session's
// audio goes to the one engine process through engine-client.ts.
import { randomUUID, timingSafeEqual } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";
import { type WebSocket, WebSocketServer } from "ws";
import { timedToken, type TokenEvent } from "../../lib/events.js";
import { decodeUpload } from "./decode.js";
import type { EngineClient, EngineStream } from "./engine-client.js";
import { boundaryOf, MultipartError, parseMultipart } from "./multipart.js";
import { ApiError, errorBody, modelsList, parseTranscriptionForm, transcriptionResponse } from "./openai.js";
import { errorEvent, RealtimeSession, type Step } from "./realtime.js";

export interface ServeConfig {
  host: string;
  port: number;
  /** names accepted as `model` (the first is the one /v1/models lists first) */
  models: string[];
  maxSessions: number;
  apiKey: string | null;
  /** request bodies (uploads) above this are refused with 413 */
  maxBodyBytes: number;
  /** WebSocket messages above this close the socket (1009) */
  maxMessageBytes: number;
  /** static files of the page */
  webDir: string;
  /** prompt length of the engine's streams, for usage.prompt_tokens */
  promptTokens: number;
  log: (line: string) => void;
}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};
const PING_MS = 15_000;

interface Live {
  ws: WebSocket;
  session: RealtimeSession;
  stream: EngineStream | null;
  apply(step: Step): void;
}

export class VoxServer {
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #live = new Set<Live>();
  #uploads = 0;
  #closing = false;
  readonly #static = new Map<string, { type: string; body: Buffer }>();
  readonly #started = Math.floor(Date.now() / 1000);

  constructor(
    private readonly cfg: ServeConfig,
    private readonly engine: EngineClient,
  ) {
    for (const f of readdirSync(cfg.webDir)) {
      const type = TYPES[extname(f)];
      if (type) this.#static.set(`/${f}`, { type, body: readFileSync(join(cfg.webDir, f)) });
    }
    const index = this.#static.get("/index.html");
    if (index) this.#static.set("/", index);
    this.#http = createServer((req, res) => {
      this.#route(req, res).catch((e: unknown) => this.#fail(req, res, e));
    });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: cfg.maxMessageBytes });
    this.#http.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname !== "/v1/realtime" || this.#closing) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      if (!this.#authorized(req, true)) {
        socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connect(ws));
    });
  }

  /** The model names sessions may use (the first is the model folder's). */
  get models(): readonly string[] {
    return this.cfg.models;
  }

  /** Sessions open now: WebSocket sessions and uploads being transcribed. */
  get sessions(): number {
    return this.#live.size + this.#uploads;
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#http.once("error", reject);
      this.#http.listen(this.cfg.port, this.cfg.host, () => resolve(this.#http.address() as AddressInfo));
    });
  }

  // ---------------- HTTP ----------------

  #authorized(req: IncomingMessage, ws: boolean): boolean {
    const key = this.cfg.apiKey;
    if (!key) return true;
    const want = Buffer.from(key);
    const ok = (got: string | undefined) => {
      if (!got) return false;
      const b = Buffer.from(got);
      return b.length === want.length && timingSafeEqual(b, want);
    };
    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
    if (ok(auth?.[1]?.trim())) return true;
    // Browsers cannot set headers on a WebSocket: the key may come as a subprotocol, as in OpenAI's
    // browser convention "openai-insecure-api-key.KEY".
    if (ws) {
      for (const p of (req.headers["sec-websocket-protocol"] ?? "").split(",")) {
        const m = /^openai-insecure-api-key\.(.+)$/.exec(p.trim());
        if (ok(m?.[1])) return true;
      }
    }
    return false;
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    if (req.method === "GET" && this.#static.has(path)) {
      const f = this.#static.get(path)!;
      res.writeHead(200, { "content-type": f.type, "content-length": f.body.length, "cache-control": "no-cache" });
      res.end(f.body);
      return;
    }
    if (req.method === "GET" && path === "/health") {
      this.#json(res, 200, this.health());
      return;
    }
    if (path.startsWith("/v1/") && !this.#authorized(req, false)) {
      throw new ApiError(
        401,
        "Missing or wrong API key: send Authorization: Bearer KEY (the key vox serve was started with)",
        null,
        "invalid_api_key",
      );
    }
    if (req.method === "GET" && path === "/v1/models") {
      this.#json(res, 200, modelsList(this.cfg.models, this.#started));
      return;
    }
    if (path === "/v1/audio/transcriptions") {
      if (req.method !== "POST") throw new ApiError(405, "Use POST for /v1/audio/transcriptions");
      await this.#transcribe(req, res);
      return;
    }
    throw new ApiError(
      404,
      `No route ${req.method} ${path}. Routes: GET /, GET /health, GET /v1/models, POST /v1/audio/transcriptions, WS /v1/realtime`,
    );
  }

  health(): Record<string, unknown> {
    const ready = this.engine.ready;
    return {
      status: this.#closing ? "stopping" : ready ? "ok" : "starting",
      sessions: this.sessions,
      max_sessions: this.cfg.maxSessions,
      engine_streams: this.engine.openStreams,
      engine_restarts: this.engine.restarts,
      engine_pid: this.engine.pid ?? null,
      backend: ready?.backend ?? null,
      device: ready?.device ?? null,
      model: this.cfg.models[0],
      rss_mb: Math.round((process.memoryUsage().rss / 1048576) * 10) / 10,
    };
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    const s = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(s) });
    res.end(s);
  }

  /** The error response, once the request body is read to its end (answering while the client
   *  is still sending would break its upload with EPIPE instead of showing it the error). */
  #fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    const err =
      e instanceof ApiError
        ? e
        : new ApiError(500, `Internal error in vox serve: ${(e as Error)?.message ?? String(e)}`);
    if (!(e instanceof ApiError)) this.cfg.log(`vox serve: internal error: ${(e as Error)?.stack ?? String(e)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = errorBody(err);
    let sent = false;
    const send = () => {
      if (sent || res.destroyed) return;
      sent = true;
      res.writeHead(err.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.readableEnded) send();
    else {
      req.removeAllListeners("data");
      req.on("end", send);
      req.resume();
    }
  }

  #readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers["content-length"] ?? "0");
      const limit = this.cfg.maxBodyBytes;
      const tooBig = () =>
        new ApiError(
          413,
          `The request body is over the limit of ${limit} bytes. Send a shorter file (or start vox serve with a larger --max-body-mb)`,
          "file",
          "file_too_large",
        );
      if (declared > limit) {
        reject(tooBig());
        return;
      }
      const chunks: Buffer[] = [];
      let n = 0;
      req.on("data", (c: Buffer) => {
        n += c.length;
        if (n > limit) {
          chunks.length = 0;
          reject(tooBig()); // #fail reads the rest of the body, then answers 413
          return;
        }
        chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  async #transcribe(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const boundary = boundaryOf(req.headers["content-type"]);
    if (!boundary)
      throw new ApiError(
        400,
        "Send the audio as multipart/form-data (fields file, model, response_format)",
        null,
        "invalid_content_type",
      );
    if (this.sessions >= this.cfg.maxSessions) {
      throw new ApiError(
        429,
        `Too many sessions: ${this.sessions} open, the limit is ${this.cfg.maxSessions} (--max-sessions). Try again later`,
        null,
        "too_many_sessions",
      );
    }
    this.#uploads++;
    try {
      const body = await this.#readBody(req);
      let parts: ReturnType<typeof parseMultipart>;
      try {
        parts = parseMultipart(body, boundary);
      } catch (e) {
        if (e instanceof MultipartError)
          throw new ApiError(400, `Malformed multipart body: ${e.message}`, null, "invalid_multipart");
        throw e;
      }
      const form = parseTranscriptionForm(parts, this.cfg.models);
      const pcm = await decodeUpload(form.file.data);
      if (pcm.length < 2 * 1280)
        throw new ApiError(
          400,
          "The audio is shorter than 80 ms (one token). Send a longer recording",
          "file",
          "audio_too_short",
        );
      const tokens: TokenEvent[] = [];
      const result = await new Promise<{ ok: true } | { ok: false; code: string; message: string }>((resolve) => {
        const s = this.engine.open(
          {},
          {
            onToken: (t) => tokens.push(t),
            onDone: () => resolve({ ok: true }),
            onError: (e) => resolve({ ok: false, ...e }),
          },
        );
        res.on("close", () => {
          if (!res.writableFinished) s.close();
        });
        s.audio(pcm);
        s.finish();
      });
      if (!result.ok)
        throw new ApiError(
          result.code === "audio" ? 400 : 500,
          `The engine failed on this audio: ${result.message}`,
          "file",
          result.code,
        );
      const out = transcriptionResponse(
        tokens.map(timedToken),
        (pcm.length / 2 / 16_000) * 1000,
        form.format,
        form.granularities,
      );
      res.writeHead(200, { "content-type": out.contentType, "content-length": Buffer.byteLength(out.body) });
      res.end(out.body);
    } finally {
      this.#uploads--;
    }
  }

  // ---------------- WebSocket /v1/realtime ----------------

  #connect(ws: WebSocket): void {
    if (this.sessions >= this.cfg.maxSessions) {
      ws.send(
        JSON.stringify(
          errorEvent(
            `Too many sessions: ${this.sessions} open, the limit is ${this.cfg.maxSessions} (--max-sessions). Try again later`,
            "too_many_sessions",
          ),
        ),
      );
      ws.close(1013, "too many sessions");
      return;
    }
    const session = new RealtimeSession({
      id: `sess-${randomUUID()}`,
      models: this.cfg.models,
      promptTokens: this.cfg.promptTokens,
    });
    const live: Live = {
      ws,
      session,
      stream: null,
      apply: (step) => {
        for (const m of step.send) if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
        for (const c of step.engine) {
          if (c.kind === "open") live.stream = this.#open(live);
          else if (c.kind === "audio") live.stream?.audio(c.pcm);
          else if (c.kind === "finish") live.stream?.finish();
          else {
            live.stream?.close();
            live.stream = null;
          }
        }
      },
    };
    this.#live.add(live);
    let alive = true;
    const ping = setInterval(() => {
      if (!alive) {
        ws.terminate(); // no pong for a whole interval: the client is gone
        return;
      }
      alive = false;
      ws.ping();
    }, PING_MS);
    ping.unref();
    ws.on("pong", () => {
      alive = true;
    });
    ws.on("message", (data, isBinary) => {
      alive = true;
      if (isBinary) {
        live.apply({
          send: [errorEvent("Binary messages are not part of the protocol: send JSON text events", "invalid_json")],
          engine: [],
        });
        return;
      }
      live.apply(session.onMessage(data.toString(), Date.now()));
    });
    const end = () => {
      clearInterval(ping);
      if (!this.#live.delete(live)) return;
      live.stream?.close();
      live.stream = null;
    };
    ws.on("close", end);
    ws.on("error", end);
    live.apply({ send: [session.created()], engine: [] });
  }

  #open(live: Live): EngineStream {
    const s = this.engine.open(
      {},
      {
        onToken: (t) => live.apply(live.session.onToken(t, Date.now())),
        onDone: (d) => {
          live.stream = null;
          live.apply(live.session.onDone(d));
          if (this.#closing) live.ws.close(1001, "server shutting down");
        },
        onError: (e) => {
          live.stream = null;
          live.apply(live.session.onEngineError(e.code, e.message));
          if (this.#closing) live.ws.close(1001, "server shutting down");
        },
      },
    );
    return s;
  }

  /** SIGINT / SIGTERM: refuse new work, end every session's audio so that its transcription.done
   *  comes for what was decided, close the sockets, stop the engine. */
  async close(graceMs = 15_000): Promise<void> {
    this.#closing = true;
    this.#http.close();
    const waiting: Promise<void>[] = [];
    for (const live of this.#live) {
      if (live.session.transcribing) {
        waiting.push(new Promise<void>((r) => live.ws.once("close", () => r())));
        live.apply(live.session.shutdown());
      } else {
        live.ws.close(1001, "server shutting down");
      }
    }
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.all(waiting), timer]);
    for (const live of this.#live) live.ws.terminate();
    this.#http.closeAllConnections();
    await this.engine.stop();
  }
}
