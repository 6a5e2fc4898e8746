// The bench report's types: generated from checks/schemas/bench.schema.json (ajv checks every report
// against the schema before it is written; the schema is the authority).
import type { BenchSchema, Clip, Derived, Result, Sample, Sustained } from "../../generated/schemas.js";
import type { Backend } from "../../lib/backend.js";

export type { Backend };

/** The sample fields summarized over repetitions. */
export const STAT_FIELDS = [
  "loadMs",
  "melMs",
  "encoderAdapterMs",
  "prefillMs",
  "decodeMs",
  "msPerStep",
  "firstTokenMs",
  "wallMs",
  "xRealTime",
  "peakRssMb",
  "gpuMemMb",
] as const;
export type StatField = (typeof STAT_FIELDS)[number];

export type BenchReport = BenchSchema;
export type { Clip, Derived, Result, Sample, Sustained };
export type Stats = NonNullable<Result["stats"]>;
export type Failure = Result["failures"][number];
export type Bandwidth = BenchReport["bandwidth"][number];
export type Quarter = Sustained["quarters"][number];
export type ModelInfo = BenchReport["model"];
