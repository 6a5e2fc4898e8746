// The engine's event stream (`voxtral … --events`, and `--serve`): one JSON object per line on stdout.
// Each line is parsed and validated against checks/schemas/events.schema.json before anyone reads it,
// so a consumer sees typed events or an EventLineError naming the line — never a half-understood object.
import type { Closed, Done, Error as ErrorSchema, Opened, Progress, Ready, Token } from "../generated/schemas.js";
import type { TimedToken } from "./transcript.js";
import { schemaErrors } from "./report.js";

/** One decided token; control tokens too (their text is ""). Times are user-audio milliseconds of the
 *  80 ms frame the token closes (step k: [80k, 80(k+1))); not clamped to the audio's end. */
export type TokenEvent = Token;

/** At most ~10 a second: user audio fed so far, and audio decoded (80 ms × steps). */
export type ProgressEvent = Progress;

/** The end of a run: everything `--json` prints, the end time of each token, and whether the run
 *  was cut short. */
export type DoneEvent = Done; /* the generated Done is EngineJson and its type / stream */

export type ErrorEvent = ErrorSchema;
export type EngineErrorCode = ErrorSchema["code"];

/** `--serve` only: the process is ready (backend, device, model facts); a stream was opened / closed
 *  without flushing. */
export type ReadyEvent = Ready;
export type OpenedEvent = Opened;
export type ClosedEvent = Closed;

export type EngineEvent = TokenEvent | ProgressEvent | DoneEvent | ErrorEvent | ReadyEvent | OpenedEvent | ClosedEvent;

/** A line of the engine's stdout that is not a valid event (a bug in the engine or a broken pipe). */
export class EventLineError extends Error {
  readonly line: string;
  constructor(problem: string, line: string) {
    super(`engine event line ${JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line)} ${problem}`);
    this.name = "EventLineError";
    this.line = line;
  }
}

/** Parses one line of the event stream; throws EventLineError when it is not JSON or breaks the schema. */
export function parseEventLine(line: string): EngineEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new EventLineError("is not JSON", line);
  }
  const errors = schemaErrors("events", parsed);
  if (errors.length > 0)
    throw new EventLineError(`does not match events.schema.json: ${errors.slice(0, 3).join("; ")}`, line);
  return parsed as EngineEvent;
}

/** A token event as the transcript builder takes it. */
export function timedToken(e: TokenEvent): TimedToken {
  return { id: e.id, text: e.text, control: e.control, startMs: e.start_ms, endMs: e.end_ms };
}

/** Splits a byte/text stream into lines (the last, unterminated piece is kept until more arrives). */
export class LineSplitter {
  #rest = "";
  #decoder = new TextDecoder("utf-8");

  /** The complete lines in `chunk` (after what was held back), without their newlines; empty lines dropped. */
  push(chunk: Uint8Array | string): string[] {
    const text = this.#rest + (typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true }));
    const lines = text.split("\n");
    this.#rest = lines.pop() ?? "";
    return lines.filter((l) => l.trim().length > 0);
  }

  /** What is left at the end of the stream (a last line without a newline), if anything. */
  end(): string[] {
    const last = this.#rest + this.#decoder.decode();
    this.#rest = "";
    return last.trim().length > 0 ? [last] : [];
  }
}
