// toolkit: nvcc (CUDA_HOME, PATH), its version, whether it can build SASS for this GPU, and
// whether the driver can load what it builds (toolkit CUDA version <= the driver's).
import { archRunsOn } from "../../../lib/engine-info.js";
import { driverCuda, engineInfo, gpus } from "../derive.js";
import { ccToSm, compareVersions, parseGpuArchList, parseNvccVersion } from "../parse.js";
import { combine, fail, pass, warn, type Check, type Verdict } from "./types.js";

/** First toolkit release that can target each architecture (sm -> CUDA version). */
const FIRST_TOOLKIT: Record<number, string> = {
  80: "11.0",
  86: "11.1",
  87: "11.4",
  89: "11.8",
  90: "11.8",
  100: "12.8",
  101: "12.8",
  103: "12.9",
  110: "13.0",
  120: "12.8",
  121: "12.9",
};

const INSTALL =
  "Install the CUDA toolkit 13: sudo apt-get install cuda-toolkit-13-0 (NVIDIA's repository; on WSL2 the WSL-Ubuntu one), then export CUDA_HOME=/usr/local/cuda PATH=/usr/local/cuda/bin:$PATH. README: Troubleshooting toolkit.";

export const toolkitCheck: Check = {
  id: "toolkit",
  title: "CUDA toolkit (nvcc)",
  needs: "cuda",
  run(f) {
    const list = gpus(f);
    const info = engineInfo(f);
    if (!f.nvcc.path) {
      const covered =
        info?.backends.includes("cuda") &&
        list.length > 0 &&
        list.every((g) => info.cuda_archs.some((a) => archRunsOn(a, ccToSm(g.cc) ?? 0)));
      if (covered)
        return pass(`nvcc not found; not needed: the engine is already built with ${info!.cuda_archs.join(", ")}`);
      return warn("nvcc not found (CUDA_HOME, PATH, /usr/local/cuda/bin): needed to build the CUDA backend", INSTALL);
    }
    const version = f.nvcc.version ? parseNvccVersion(f.nvcc.version.stdout) : null;
    if (!version)
      return fail(
        `${f.nvcc.path} --version gave no release number (${f.nvcc.version?.error ?? f.nvcc.version?.stderr.trim() ?? "no output"})`,
        INSTALL,
      );
    const archs = f.nvcc.archs && f.nvcc.archs.exitCode === 0 ? parseGpuArchList(f.nvcc.archs.stdout) : [];
    const findings: Verdict[] = [];
    for (const g of list) {
      const sm = ccToSm(g.cc);
      if (sm === null) continue;
      if (archs.length > 0 && !archs.includes(sm)) {
        const need = FIRST_TOOLKIT[sm];
        findings.push(
          fail(
            `nvcc ${version} cannot build for GPU ${g.index} (${g.name}, sm_${sm})${need ? `: that needs CUDA ${need} or newer` : ""}`,
            INSTALL,
          ),
        );
      }
    }
    const drv = driverCuda(f);
    if (drv && compareVersions(version, drv) > 0) {
      findings.push(
        fail(
          `nvcc ${version} is newer than the CUDA ${drv} this driver supports: code it builds fails to load ("CUDA driver version is insufficient", cudaErrorInsufficientDriver 35)`,
          `Update the NVIDIA driver to one supporting CUDA ${version} (13.x: R580 or newer; on WSL2 update the Windows driver), or use CUDA_HOME pointing to a toolkit <= ${drv}.`,
        ),
      );
    }
    const detail = `nvcc ${version} at ${f.nvcc.path}; targets ${archs.map((a) => `sm_${a}`).join(", ") || "?"}${drv ? `; driver supports CUDA ${drv}` : ""}`;
    return combine(findings, detail);
  },
};
