// Raw runs -> report results: statistics per field over the measured repetitions and the derived
// throughput against the measured copy bandwidth. Pure.
import type { ModelParams } from "../../lib/model.js";
import { summarize } from "../../lib/stats.js";
import { derive } from "./derive.js";
import type { RawResult } from "./run.js";
import { STAT_FIELDS, type Bandwidth, type Result, type Stats } from "./types.js";

function statsOf(samples: RawResult["samples"]): Stats | null {
  if (samples.length === 0) return null;
  const out: Record<string, unknown> = {};
  for (const f of STAT_FIELDS) {
    const xs = samples.map((s) => s[f]);
    out[f] = xs.every((x): x is number => typeof x === "number") ? summarize(xs) : null;
  }
  if (out.gpuMemMb === undefined) out.gpuMemMb = null;
  return out as Stats;
}

export function assemble(
  raw: readonly RawResult[],
  ctx: { params: ModelParams; encoderWindow: number; bytesPerStep: number; bandwidth: readonly Bandwidth[] },
): Result[] {
  return raw.map((r) => {
    const stats = statsOf(r.samples);
    const copy = ctx.bandwidth.find((b) => b.backend === r.backend)?.gbps ?? null;
    const derived = stats
      ? derive({
          params: ctx.params,
          encoderWindow: ctx.encoderWindow,
          bytesPerStep: ctx.bytesPerStep,
          copyGBps: copy,
          samples: r.samples,
          msPerStep: stats.msPerStep,
          encoderAdapterMs: stats.encoderAdapterMs,
        })
      : null;
    return { ...r, stats, derived };
  });
}
