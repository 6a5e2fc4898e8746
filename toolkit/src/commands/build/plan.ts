// Pure parts of `vox build`: which doctor checks gate which backend, the architecture list, and the
// make invocations. `make -C engine` builds the CPU engine (CUDA host code included when nvcc
// exists); `make -C engine cuda ARCH="80 90"` also compiles the kernels into the embedded fatbin.
import { UsageError } from "../../lib/errors.js";

import type { BuildBackend } from "../../lib/backend.js";
import type { CheckStatus } from "../../generated/schemas.js";

export type { BuildBackend };

/** Doctor check ids that must not fail before building each backend. */
export function precheckIds(backend: BuildBackend): string[] {
  return backend === "cpu" ? ["platform", "cpu"] : ["platform", "cpu", "toolkit"];
}

export interface PrecheckVerdict {
  id: string;
  status: CheckStatus;
  detail: string;
  fix: string | null;
}

/** The verdicts that stop the build: any fail; for CUDA also a toolkit warning (nvcc is required). */
export function blocking(verdicts: readonly PrecheckVerdict[], backend: BuildBackend): PrecheckVerdict[] {
  return verdicts.filter(
    (v) => v.status === "fail" || (backend !== "cpu" && v.id === "toolkit" && v.status === "warn"),
  );
}

/** `--arch 80,86,sm_90` -> ["sm_80", "sm_86", "sm_90"]; `native` -> the GPUs' compute capabilities. */
export function parseArchs(spec: string, gpuCcs: readonly string[]): string[] {
  if (spec === "native") {
    if (gpuCcs.length === 0) {
      throw new UsageError(
        "--arch native needs a visible GPU (nvidia-smi found none)",
        "Name the architectures instead, e.g. --arch 80,86,89,90 (see nvcc --list-gpu-arch).",
      );
    }
    return [...new Set(gpuCcs.map((cc) => `sm_${cc.replace(".", "")}`))].sort();
  }
  const out = spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const m = /^(?:sm_|compute_)?(\d{2,3})[a-z]?$/.exec(s);
      if (!m) throw new UsageError(`--arch: "${s}" is not an architecture`, "Use numbers like 80,86,89,90 or native.");
      return `sm_${m[1]}`;
    });
  if (out.length === 0) throw new UsageError("--arch is empty", "Use numbers like 80,86,89,90 or native.");
  return [...new Set(out)].sort();
}

export interface MakeStep {
  name: string;
  args: string[];
}

/** The make invocations for a backend (run from the package root). */
export function makeSteps(backend: BuildBackend, archs: readonly string[], engineDir: string): MakeStep[] {
  const cpu: MakeStep = { name: "engine (cpu)", args: ["-C", engineDir] };
  if (backend === "cpu") return [cpu];
  const cuda: MakeStep = {
    name: `kernels (${archs.join(" ")})`,
    args: ["-C", engineDir, "cuda", `ARCH=${archs.map((a) => a.replace("sm_", "")).join(" ")}`],
  };
  return [cpu, cuda];
}

/** The archs the binary must embed for this build, and which of them it lacks. */
export function missingArchs(requested: readonly string[], embedded: readonly string[]): string[] {
  return requested.filter((a) => !embedded.includes(a));
}
