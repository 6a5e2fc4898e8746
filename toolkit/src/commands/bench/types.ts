// The bench report's types, mirroring checks/schemas/bench.schema.json (ajv checks every report
// against the schema before it is written; the schema is the authority).
import type { Environment } from "../../lib/environment.js";
import type { Summary } from "../../lib/stats.js";

export type Backend = "cpu" | "cuda";

export interface Clip {
  name: string;
  seconds: number;
  sources: string[];
}

/** One measured repetition, from the engine's --json. */
export interface Sample {
  loadMs: number; melMs: number; encoderMs: number; adapterMs: number; encoderAdapterMs: number;
  prefillMs: number; decodeMs: number; msPerStep: number; firstTokenMs: number; wallMs: number;
  xRealTime: number; peakRssMb: number; gpuMemMb: number | null; nSteps: number; nAudio: number;
}

/** The sample fields summarized over repetitions. */
export const STAT_FIELDS = [
  "loadMs", "melMs", "encoderAdapterMs", "prefillMs", "decodeMs", "msPerStep", "firstTokenMs", "wallMs", "xRealTime", "peakRssMb", "gpuMemMb",
] as const;
export type StatField = (typeof STAT_FIELDS)[number];
export type Stats = Record<Exclude<StatField, "gpuMemMb">, Summary> & { gpuMemMb: Summary | null };

export interface Derived {
  decoderGBps: number | null;
  copyGBps: number | null;
  pctOfCopy: number | null;
  floorMsPerStep: number | null;
  encoderTflop: number;
  encoderTflops: number | null;
}

export interface Failure {
  repetition: number;
  warmup: boolean;
  message: string;
}

export interface Result {
  backend: Backend;
  device: string | null;
  clip: Clip;
  samples: Sample[];
  stats: Stats | null;
  derived: Derived | null;
  failures: Failure[];
}

export interface Bandwidth {
  backend: Backend;
  gbps: number | null;
  method: string;
  bytes: number | null;
  error: string | null;
}

export interface Quarter {
  quarter: number;
  msPerStep: number | null;
  rssMb: number | null;
  gpuMemMb: number | null;
  polls: number;
}

export interface Sustained {
  backend: Backend;
  device: string | null;
  seconds: number;
  wallMs: number | null;
  nSteps: number | null;
  stepTimes: "engine" | "unavailable";
  quarters: Quarter[];
  growthPct: { msPerStep: number | null; rssMb: number | null; gpuMemMb: number | null };
  flat: boolean | null;
  failure: string | null;
}

export interface ModelInfo {
  source: "dir" | "synthetic";
  dir: string;
  size: "full" | "tiny" | null;
  seed: number | null;
  weightsBytes: number;
  decoderBytesPerStep: number;
}

export interface BenchReport {
  schemaVersion: 1;
  kind: "bench";
  createdAt: string;
  command: string;
  environment: Environment;
  engineBuild: Record<string, unknown> | null;
  model: ModelInfo;
  settings: { repeat: number; warmup: number; backends: Backend[]; ignoreEos: boolean; threads: number | null };
  bandwidth: Bandwidth[];
  results: Result[];
  sustained: Sustained[];
  notes: string[];
}
