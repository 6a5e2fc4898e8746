// Where the two sides of a comparison come from: an engine run (--json --dump), a fixture's golden
// folder, or the candidate side of an earlier accuracy report. Each returns the run and its logits
// (when a dump exists), or the reason it could not, in words; nothing here throws for a bad run.
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Fixture } from "../../lib/fixture.js";
import type { LogitsMatrix } from "../../lib/logits.js";
import { readNpyF32 } from "../../lib/npy.js";
import { dumpFiles, transcribe } from "../../lib/transcribe.js";
import type { CaseRecord, RunRecord } from "./compare.js";
import type { Backend, BackendChoice } from "../../lib/backend.js";

export type Obtained =
  | { run: RunRecord; logits: LogitsMatrix | null; error?: undefined }
  | { error: string; run?: undefined };

/** A [steps, vocab] float32 .npy, or null when the file is absent. Throws on a malformed file. */
function loadLogits(path: string): LogitsMatrix | null {
  if (!existsSync(path)) return null;
  const a = readNpyF32(path);
  if (a.shape.length !== 2)
    throw new Error(`${path}: logits must be 2-D [steps, vocab], got shape [${a.shape.join(", ")}]`);
  return { steps: a.shape[0]!, vocab: a.shape[1]!, data: a.data };
}

function withLogits(run: RunRecord, logitsPath: string | null): Obtained {
  try {
    return { run, logits: logitsPath ? loadLogits(logitsPath) : null };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export interface EngineSide {
  model: string;
  audio: string;
  backend: BackendChoice;
  /** what the engine must report (expectedBackend) */
  expect: Backend;
  delayMs?: number;
  dumpDir: string;
  logitSteps: number;
  timeoutMs: number;
}

/** Runs the engine with --json --dump; checks the backend it used is the one expected. */
export async function engineSide(o: EngineSide): Promise<Obtained> {
  const out = await transcribe({
    model: o.model,
    audio: o.audio,
    backend: o.backend,
    delayMs: o.delayMs,
    dumpDir: o.dumpDir,
    dumpSteps: o.logitSteps,
    engine: { timeoutMs: o.timeoutMs },
  });
  if (!out.transcript) return { error: `${o.backend} run: ${out.error}` };
  const t = out.transcript;
  if (t.backend !== o.expect) {
    return { error: `${o.backend} run: expected backend ${o.expect}, the engine reported ${t.backend} (${t.device})` };
  }
  const run: RunRecord = {
    text: t.text,
    tokens: t.tokens,
    backend: t.backend,
    dumpDir: o.dumpDir,
    timingsMs: { ...t.timings_ms },
  };
  return withLogits(run, dumpFiles(o.dumpDir).logits);
}

/** The fixture's golden outputs as a baseline. */
export function goldenSide(fx: Fixture): Obtained {
  const run: RunRecord = {
    text: fx.golden.text,
    tokens: fx.golden.tokens,
    backend: null,
    dumpDir: fx.golden.dir,
    timingsMs: null,
  };
  return withLogits(run, fx.golden.logits);
}

/** The candidate side of the matching case (same path, else same file name) in an earlier accuracy report. */
export function reportSide(reportPath: string, audio: string): Obtained {
  let report: { kind?: string; cases?: CaseRecord[] };
  try {
    report = JSON.parse(readFileSync(reportPath, "utf8")) as typeof report;
  } catch (e) {
    return { error: `baseline report ${reportPath} is unreadable: ${(e as Error).message}` };
  }
  if (report.kind !== "accuracy" || !Array.isArray(report.cases))
    return { error: `baseline report ${reportPath} is not a vox accuracy report` };
  const cases = report.cases.filter((c) => c.candidate);
  const hit =
    cases.find((c) => resolve(c.audio) === resolve(audio)) ?? cases.find((c) => basename(c.audio) === basename(audio));
  if (!hit?.candidate) return { error: `baseline report ${reportPath} has no successful case for ${basename(audio)}` };
  const dump = hit.candidate.dumpDir;
  return withLogits({ ...hit.candidate }, dump ? join(dump, "logits.npy") : null);
}
