// The engine's --json output (engine CLI contract) -> one benchmark sample. Pure.
import type { EngineJson } from "../../generated/schemas.js";
import { TIMING_KEYS } from "../../lib/transcribe.js";
import type { Sample } from "./types.js";

/** The fields of `voxtral --json` the bench reads. `step_ms` is an optional extension (one entry per
 *  decode step, ms) used by --sustained when the engine provides it. */
export type EngineRun = Pick<
  EngineJson,
  "backend" | "device" | "audio_seconds" | "n_audio" | "n_steps" | "timings_ms" | "peak_rss_mb" | "gpu_mem_mb"
> & { step_ms?: number[] };

/** Checks the shape; throws naming the first field that does not follow the contract. */
export function parseEngineRun(stdout: string): EngineRun {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`engine --json printed no JSON object: ${JSON.stringify(stdout.slice(0, 160))}`);
  }
  const num = (v: unknown, what: string): number => {
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new Error(`engine --json: ${what} is ${JSON.stringify(v)}, expected a number`);
    return v;
  };
  const t = j.timings_ms as Record<string, unknown> | undefined;
  if (typeof t !== "object" || t === null) throw new Error("engine --json: no timings_ms object");
  for (const k of TIMING_KEYS) num(t[k], `timings_ms.${k}`);
  num(j.audio_seconds, "audio_seconds");
  num(j.n_audio, "n_audio");
  num(j.n_steps, "n_steps");
  num(j.peak_rss_mb, "peak_rss_mb");
  if (j.gpu_mem_mb !== null) num(j.gpu_mem_mb, "gpu_mem_mb");
  if (j.step_ms !== undefined && (!Array.isArray(j.step_ms) || !j.step_ms.every((x) => typeof x === "number"))) {
    throw new Error("engine --json: step_ms is present but not an array of numbers");
  }
  return j as unknown as EngineRun;
}

export function toSample(r: EngineRun): Sample {
  const t = r.timings_ms;
  return {
    loadMs: t.load,
    melMs: t.mel,
    encoderMs: t.encoder,
    adapterMs: t.adapter,
    encoderAdapterMs: t.encoder + t.adapter,
    prefillMs: t.prefill,
    decodeMs: t.decode,
    msPerStep: t.decode_per_step,
    firstTokenMs: t.first_token,
    wallMs: t.wall,
    xRealTime: t.wall > 0 ? r.audio_seconds / (t.wall / 1000) : 0,
    peakRssMb: r.peak_rss_mb,
    gpuMemMb: r.gpu_mem_mb,
    nSteps: r.n_steps,
    nAudio: r.n_audio,
  };
}
