// `vox serve`: the live server (toolkit/SERVE.md). Parses the options, starts the one engine process
// and the HTTP / WebSocket server, prints where it listens, and on SIGINT / SIGTERM ends every
// session with transcription.done for what was decided before exiting 0.
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { basename, join, resolve } from "node:path";
import type { Argv } from "yargs";
import { EngineUnavailableError, EXIT, InputError, UsageError, VoxError } from "../../lib/errors.js";
import type { ReadyEvent } from "../../lib/events.js";
import { isFixture, readFixture } from "../../lib/fixture.js";
import { engineBinary, fixturesDir, packageRoot } from "../../lib/paths.js";
import { BACKEND_OPTION, DEFAULT_MODEL, MODEL_OPTION } from "../transcribe/index.js";
import { EngineClient, EngineStartError } from "./engine-client.js";
import { VoxServer } from "./server.js";

/** The real model's Hugging Face name: accepted as `model` too, so clients written for vLLM work unchanged. */
export const HF_MODEL_ID = "mistralai/Voxtral-Mini-4B-Realtime-2602";
const LEFT_PAD_TOKENS = 32;

export interface ServeArgs {
  model?: string;
  port: number;
  host: string;
  backend: "auto" | "cpu" | "cuda";
  "delay-ms"?: number;
  "max-sessions": number;
  "api-key"?: string;
  "max-body-mb": number;
}

export function serveOptions<T>(y: Argv<T>): Argv<T & ServeArgs> {
  return y
    .option("model", MODEL_OPTION)
    .option("port", { type: "number", default: 8080, describe: "TCP port (0: any free port)" })
    .option("host", {
      type: "string",
      default: "127.0.0.1",
      describe: "address to listen on (0.0.0.0: every interface)",
    })
    .option("backend", BACKEND_OPTION)
    .option("delay-ms", {
      type: "number",
      describe: "transcription delay, 80..2400 ms in steps of 80 (default: the fixture's, else 480)",
    })
    .option("max-sessions", {
      type: "number",
      default: 16,
      describe: "concurrent sessions (WebSocket + uploads); more are refused",
    })
    .option("api-key", { type: "string", describe: "require Authorization: Bearer KEY on /v1/* (HTTP and WebSocket)" })
    .option("max-body-mb", {
      type: "number",
      default: 100,
      describe: "largest upload accepted by /v1/audio/transcriptions, in MiB",
    }) as unknown as Argv<T & ServeArgs>;
}

function checkArgs(a: ServeArgs): void {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535)
    throw new UsageError(`--port must be an integer from 0 to 65535, got ${a.port}`);
  if (!Number.isInteger(a["max-sessions"]) || a["max-sessions"] < 1)
    throw new UsageError(`--max-sessions must be a positive integer, got ${a["max-sessions"]}`);
  const d = a["delay-ms"];
  if (d !== undefined && (!Number.isInteger(d) || d < 80 || d > 2400 || d % 80 !== 0)) {
    throw new UsageError(`--delay-ms must be a multiple of 80 from 80 to 2400, got ${d}`);
  }
  if (!(a["max-body-mb"] > 0)) throw new UsageError(`--max-body-mb must be positive, got ${a["max-body-mb"]}`);
  if (a["api-key"] !== undefined && a["api-key"].trim().length === 0)
    throw new UsageError("--api-key is empty", "Pass a non-empty key, or leave --api-key out.");
}

export interface StartOptions {
  model: string;
  backend: "auto" | "cpu" | "cuda";
  delayMs?: number;
  host: string;
  port: number;
  maxSessions: number;
  apiKey: string | null;
  maxBodyBytes: number;
}

/** The engine process, then the server listening: what `vox serve` runs (and `vox smoke`'s realtime
 *  check, on a free port). Typed errors for an engine that does not start and a port in use. */
export async function startServer(
  o: StartOptions,
): Promise<{ server: VoxServer; engine: EngineClient; ready: ReadyEvent; addr: AddressInfo; delay: number }> {
  const engine = new EngineClient({ model: o.model, backend: o.backend, delayMs: o.delayMs });
  let ready: ReadyEvent;
  try {
    ready = await engine.start();
  } catch (e) {
    if (!(e instanceof EngineStartError)) throw e;
    if (e.exitCode === null) throw new EngineUnavailableError(e.message);
    // The engine's own line was printed by it; its exit code is passed on (as vox transcribe does).
    throw new VoxError(
      `the engine did not start: ${e.message}`,
      "Fix what the engine names above and start again.",
      e.exitCode as typeof EXIT.failed,
    );
  }
  const delay = typeof ready.delay_ms === "number" ? ready.delay_ms : (o.delayMs ?? 480);
  const server = new VoxServer(
    {
      host: o.host,
      port: o.port,
      models: [basename(o.model), HF_MODEL_ID],
      maxSessions: o.maxSessions,
      apiKey: o.apiKey,
      maxBodyBytes: o.maxBodyBytes,
      maxMessageBytes: 8 * 1048576,
      webDir: join(packageRoot(), "toolkit", "web"),
      promptTokens: 1 + LEFT_PAD_TOKENS + delay / 80,
      log: (l) => console.error(l),
    },
    engine,
  );
  try {
    return { server, engine, ready, addr: await server.listen(), delay };
  } catch (e) {
    await engine.stop();
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE")
      throw new UsageError(
        `port ${o.port} on ${o.host} is in use`,
        "Pass another --port, or stop the program using it.",
      );
    if (code === "EADDRNOTAVAIL")
      throw new UsageError(
        `${o.host} is not an address of this machine`,
        "Pass --host 127.0.0.1 or an address this machine has.",
      );
    throw e;
  }
}

export async function runServe(a: ServeArgs): Promise<number> {
  checkArgs(a);
  const model = resolve(a.model ?? join(fixturesDir(), DEFAULT_MODEL));
  if (!existsSync(join(model, "params.json"))) {
    throw new InputError(
      `model folder ${model} has no params.json`,
      "Pass --model DIR: a folder with params.json, consolidated.safetensors and tekken.json (README, 'The real model').",
      true,
    );
  }
  if (!existsSync(engineBinary()))
    throw new EngineUnavailableError(`the engine binary ${engineBinary()} does not exist`);
  const delayMs = a["delay-ms"] ?? (isFixture(model) ? readFixture(model).delayMs : undefined);
  const {
    server,
    ready,
    addr,
    delay: effectiveDelay,
  } = await startServer({
    model,
    backend: a.backend,
    delayMs,
    host: a.host,
    port: a.port,
    maxSessions: a["max-sessions"],
    apiKey: a["api-key"] ?? null,
    maxBodyBytes: Math.floor(a["max-body-mb"] * 1048576),
  });
  const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  console.log(
    `vox serve: listening on http://${shown}:${addr.port}/ (model ${basename(model)}, ${String(ready.backend)} on ${String(ready.device)}, delay ${effectiveDelay} ms)`,
  );
  console.log(
    `vox serve: page http://${shown}:${addr.port}/, realtime ws://${shown}:${addr.port}/v1/realtime, OpenAI POST /v1/audio/transcriptions`,
  );
  return new Promise<number>((done) => {
    const stop = (sig: string) => {
      console.error(`vox serve: ${sig}: finishing ${server.sessions} session(s), then exiting`);
      void server.close().then(() => done(EXIT.ok));
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}
