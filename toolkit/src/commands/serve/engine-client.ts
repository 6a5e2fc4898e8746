// The one engine process behind `vox serve`: `voxtral -d MODEL --serve`, every session a stream of it
// (frames.ts on stdin, one event per line on stdout). Sessions open streams here and get their events
// back through handlers. When the process dies, every open stream gets an `error` (code
// "engine_restarted") and the process is started again (backing off while it keeps dying at start);
// streams opened meanwhile wait for it.
import type { Readable, Writable } from "node:stream";
import { startEngine } from "../../lib/engine.js";
import {
  type DoneEvent,
  type EngineEvent,
  type ErrorEvent,
  LineSplitter,
  parseEventLine,
  type ProgressEvent,
  type ReadyEvent,
  type TokenEvent,
} from "../../lib/events.js";
import { audioFrames, encodeFrame, type OpenOptions, openFrame } from "./frames.js";

export interface StreamHandlers {
  onToken(e: TokenEvent): void;
  onProgress?(e: ProgressEvent): void;
  onDone(e: DoneEvent): void;
  /** The stream ended in failure: the engine's error event, or the engine process died. */
  onError(e: { code: string; message: string }): void;
}

export interface EngineClientOptions {
  model: string;
  backend: string;
  delayMs?: number;
  threads?: number;
  /** engine binary (default: the one engine.ts finds) */
  binary?: string;
  /** log lines (default: stderr) */
  log?: (line: string) => void;
}

/** The engine process ended before it was ready; exitCode null: it could not be started at all. */
export class EngineStartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

/** One stream of the engine process (one session's audio). */
export class EngineStream {
  #ended = false;
  constructor(
    readonly id: number,
    private readonly client: EngineClient,
  ) {}
  get ended(): boolean {
    return this.#ended;
  }
  markEnded(): void {
    this.#ended = true;
  }
  /** s16le 16 kHz mono bytes (any count). */
  audio(pcm: Uint8Array): void {
    if (!this.#ended && pcm.length > 0) this.client.write(this.id, audioFrames(this.id, pcm));
  }
  /** End of audio: the remaining tokens, then done. */
  finish(): void {
    if (!this.#ended) this.client.write(this.id, [encodeFrame("F", this.id)]);
  }
  /** Discard without flushing; no more events reach the handlers. */
  close(): void {
    if (this.#ended) return;
    this.client.write(this.id, [encodeFrame("C", this.id)]);
    this.client.forget(this.id);
  }
}

type Proc = ReturnType<typeof startEngine>["process"];

export class EngineClient {
  #proc: Proc | null = null;
  #ready: ReadyEvent | null = null;
  #streams = new Map<number, { s: EngineStream; h: StreamHandlers }>();
  #pending: Buffer[] = []; // frames written before the process was ready
  #nextId = 1;
  #stopping = false;
  #restarts = 0;
  #failuresInARow = 0;
  #stderrTail: string[] = [];
  #readyWaiters: { resolve: (r: ReadyEvent) => void; reject: (e: Error) => void }[] = [];
  #exitWaiters: (() => void)[] = [];

  constructor(private readonly o: EngineClientOptions) {}

  /** Streams the engine holds for sessions now (opened, not yet done / closed / failed). */
  get openStreams(): number {
    return this.#streams.size;
  }
  get restarts(): number {
    return this.#restarts;
  }
  get ready(): ReadyEvent | null {
    return this.#ready;
  }
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** Starts the process; resolves with its ready event, rejects with the engine's own error line. */
  start(): Promise<ReadyEvent> {
    const p = new Promise<ReadyEvent>((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
    this.#spawn();
    return p;
  }

  #args(): string[] {
    const a = ["-d", this.o.model, "--serve", "--backend", this.o.backend];
    if (this.o.delayMs !== undefined) a.push("--delay-ms", String(this.o.delayMs));
    if (this.o.threads !== undefined) a.push("--threads", String(this.o.threads));
    return a;
  }

  #spawn(): void {
    this.#ready = null;
    this.#stderrTail = [];
    const { process: proc, result } = startEngine(this.#args(), {
      stdinPipe: true,
      buffer: false,
      timeoutMs: 0,
      detached: true, // Ctrl-C goes to vox serve, which ends the sessions and then the engine
      binary: this.o.binary,
    });
    this.#proc = proc;
    const lines = new LineSplitter();
    (proc.stdout as Readable).on("data", (d: Buffer) => {
      for (const l of lines.push(d)) this.#onLine(l);
    });
    const errLines = new LineSplitter();
    (proc.stderr as Readable).on("data", (d: Buffer) => {
      for (const l of errLines.push(d)) {
        this.#stderrTail.push(l);
        if (this.#stderrTail.length > 20) this.#stderrTail.shift();
      }
    });
    // Writes to a process that just died fail with EPIPE; the exit handler below deals with it.
    (proc.stdin as Writable).on("error", () => {});
    void result.then((r) =>
      this.#onExit(
        proc,
        r.failure ?? `engine exited (${r.exitCode ?? r.signal})`,
        r.failureKind === "spawn" ? null : r.exitCode,
      ),
    );
  }

  #onLine(line: string): void {
    let e: EngineEvent;
    try {
      e = parseEventLine(line);
    } catch (err) {
      this.#log(`vox serve: warning: ${(err as Error).message}`);
      return;
    }
    if (e.type === "ready") {
      this.#ready = e;
      this.#failuresInARow = 0;
      for (const w of this.#readyWaiters.splice(0)) w.resolve(e);
      const stdin = this.#proc?.stdin as Writable;
      for (const b of this.#pending.splice(0)) stdin.write(b);
      return;
    }
    if (e.stream === null || e.stream === undefined) {
      if (e.type === "error") this.#log(`vox serve: engine: ${e.message}`);
      return;
    }
    const entry = this.#streams.get(e.stream);
    if (!entry) return; // a stream closed or forgotten by its session
    switch (e.type) {
      case "token":
        entry.h.onToken(e);
        break;
      case "progress":
        entry.h.onProgress?.(e);
        break;
      case "done":
        this.forget(e.stream);
        entry.h.onDone(e);
        break;
      case "error":
        this.forget(e.stream);
        entry.h.onError({ code: (e as ErrorEvent).code, message: (e as ErrorEvent).message });
        break;
      default:
        break;
    }
  }

  #onExit(proc: Proc, why: string, exitCode: number | null): void {
    if (proc !== this.#proc) return;
    this.#proc = null;
    const wasReady = this.#ready !== null;
    this.#ready = null;
    this.#pending = [];
    const detail = this.#stderrTail.filter((l) => l.startsWith("voxtral: error:")).at(-1) ?? why;
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const { s, h } of streams) {
      s.markEnded();
      h.onError({ code: "engine_restarted", message: `the engine process ended (${detail}); it is being restarted` });
    }
    for (const w of this.#exitWaiters.splice(0)) w();
    if (this.#stopping) return;
    if (!wasReady) {
      // It died before it was ready: a model or backend problem that a restart will not fix now.
      this.#failuresInARow++;
      const waiters = this.#readyWaiters.splice(0);
      for (const w of waiters) w.reject(new EngineStartError(detail.replace(/^voxtral: error: /, ""), exitCode));
      if (waiters.length > 0) return;
    }
    this.#restarts++;
    const delay = Math.min(5000, 100 * 2 ** Math.min(this.#failuresInARow, 6));
    this.#log(`vox serve: the engine process ended (${detail}); restarting it in ${delay} ms`);
    setTimeout(() => {
      if (!this.#stopping && !this.#proc) this.#spawn();
    }, delay).unref();
  }

  #log(line: string): void {
    (this.o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  /** Opens a stream; its events go to h until done, error or close. */
  open(opts: OpenOptions, h: StreamHandlers): EngineStream {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xfffffff0 ? 1 : this.#nextId + 1;
    const s = new EngineStream(id, this);
    this.#streams.set(id, { s, h });
    this.write(id, [openFrame(id, opts)]);
    return s;
  }

  /** @internal frames for a stream (kept until the process is ready). */
  write(_id: number, frames: Buffer[]): void {
    const stdin = this.#proc?.stdin as Writable | undefined;
    if (this.#ready && stdin && !stdin.destroyed) for (const f of frames) stdin.write(f);
    else this.#pending.push(...frames);
  }

  /** @internal the stream's session no longer wants its events. */
  forget(id: number): void {
    const e = this.#streams.get(id);
    if (e) e.s.markEnded();
    this.#streams.delete(id);
  }

  /** Ends stdin (the engine finishes every open stream, then exits); kills it after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    const proc = this.#proc;
    if (!proc) return;
    const exited = new Promise<void>((r) => this.#exitWaiters.push(r));
    (proc.stdin as Writable).end();
    const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(t);
  }
}
