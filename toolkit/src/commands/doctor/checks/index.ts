// All checks, in display order, and the runner that isolates them: a check that throws is
// reported as failed (with the error) while the others still run.
import type { Facts } from "../facts.js";
import { captureCheck } from "./capture.js";
import { cpuCheck } from "./cpu.js";
import { cublasCheck } from "./cublas.js";
import { engineCheck } from "./engine.js";
import { ffmpegCheck } from "./ffmpeg.js";
import { gpuCheck } from "./gpu.js";
import { libcudaCheck } from "./libcuda.js";
import { modelCheck } from "./model.js";
import { platformCheck } from "./platform.js";
import { toolkitCheck } from "./toolkit.js";
import { skip, type Check, type Verdict } from "./types.js";
import type { BackendChoice } from "../../../lib/backend.js";
import type { DoctorSchema } from "../../../generated/schemas.js";

export const CHECKS: readonly Check[] = [
  platformCheck,
  gpuCheck,
  libcudaCheck,
  cublasCheck,
  toolkitCheck,
  cpuCheck,
  ffmpegCheck,
  captureCheck,
  engineCheck,
  modelCheck,
];

/** Collectors whose failure makes a check's facts incomplete. */
const FEEDS: Record<string, string[]> = {
  platform: ["platform"],
  gpu: ["gpu", "model"],
  libcuda: ["libraries", "cudaProbe", "platform"],
  cublas: ["libraries", "cudaProbe"],
  toolkit: ["nvcc", "gpu"],
  cpu: ["cpuBuild", "libraries"],
  ffmpeg: ["ffmpeg"],
  capture: ["capture"],
  engine: ["engine", "gpu"],
  model: ["model"],
};

/** A check's entry in the doctor report (checks/schemas/doctor.schema.json). */
export type CheckResult = DoctorSchema["checks"][number];

export function runChecks(f: Facts, backend: BackendChoice, checks: readonly Check[] = CHECKS): CheckResult[] {
  return checks.map((c) => {
    const t0 = performance.now();
    let v: Verdict;
    if (backend === "cpu" && c.needs === "cuda") v = skip("not needed for --backend cpu");
    else {
      try {
        v = c.run(f, backend);
      } catch (e) {
        v = {
          status: "fail",
          detail: `the ${c.id} check itself failed: ${(e as Error).message}`,
          fix: "This is a vox-doctor bug: please report it with vox-doctor --markdown.",
        };
      }
      const broken = (FEEDS[c.id] ?? []).filter((n) => f.collectorErrors[n]);
      if (broken.length && v.status !== "fail") {
        v = {
          status: "fail",
          detail: `${v.detail}\nfacts incomplete: ${broken.map((n) => f.collectorErrors[n]).join("; ")}`,
          fix: [
            v.fix,
            "A tool hung or crashed while collecting facts (see detail); rerun, and report it if it persists.",
          ]
            .filter((x) => x)
            .join("\n"),
        };
      }
    }
    return { id: c.id, title: c.title, ...v, durationMs: Math.round((performance.now() - t0) * 100) / 100 };
  });
}
