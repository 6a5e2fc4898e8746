// engine: built or not, which backends it holds, and whether its embedded kernels (SASS only,
// no PTX JIT) cover every GPU here.
import { archRunsOn } from "../../../lib/engine-info.js";
import { engineInfo, gpus } from "../derive.js";
import { ccToSm } from "../parse.js";
import { combine, fail, firstLine, warn, type Check, type Verdict } from "./types.js";

export const engineCheck: Check = {
  id: "engine",
  title: "vox engine binary",
  needs: "any",
  run(f, backend) {
    const e = f.engine;
    const override = f.env.VOX_ENGINE ? " (from VOX_ENGINE)" : "";
    if (!e.exists) {
      return fail(
        `engine not built: ${e.path}${override} does not exist`,
        override
          ? "Point VOX_ENGINE at a built voxtral binary, or unset it."
          : "Build it: make -C engine (CPU), or npx vox build --backend cuda. README: Quick start.",
      );
    }
    const r = e.info;
    if (r?.exitCode !== 0) {
      return fail(
        `${e.path} --info failed: ${r?.error ?? "no result"}${r?.stderr ? ` (${firstLine(r.stderr)})` : ""}`,
        "Rebuild it: make -C engine clean && make -C engine. If it still fails, report it with this output.",
      );
    }
    const info = engineInfo(f)!;
    const head = `${info.engine} ${info.version} (commit ${info.commit}) at ${e.path}${override}; backends ${info.backends.join("+")}; BLAS ${info.blas}${info.cuda_archs.length ? `; kernels ${info.cuda_archs.join(", ")}` : ""}`;
    const findings: Verdict[] = [];
    const list = gpus(f);
    if (backend !== "cpu" && list.length > 0) {
      if (!info.backends.includes("cuda")) {
        findings.push(
          fail(
            "the engine was built without the CUDA backend, so it will run on the CPU only",
            "Build with CUDA: make -C engine cuda (or npx vox build --backend cuda).",
          ),
        );
      } else {
        for (const g of list) {
          const sm = ccToSm(g.cc) ?? 0;
          if (!info.cuda_archs.some((a) => archRunsOn(a, sm))) {
            findings.push(
              fail(
                `no embedded kernel runs on GPU ${g.index} (${g.name}, sm_${sm}); embedded: ${info.cuda_archs.join(", ") || "none"}`,
                `Rebuild for this GPU: npx vox build --backend cuda --arch ${sm} (or --arch native).`,
              ),
            );
          }
        }
      }
      if (info.cuda && !info.cuda.available)
        findings.push(
          warn(
            `the engine's CUDA loader reports: ${info.cuda.reason ?? "unavailable"}`,
            "See the libcuda and cublas checks for the fix.",
          ),
        );
    } else if (backend === "cuda" && !info.backends.includes("cuda")) {
      findings.push(
        fail(
          "the engine was built without the CUDA backend",
          "Build with CUDA: make -C engine cuda (or npx vox build --backend cuda).",
        ),
      );
    }
    return combine(findings, head);
  },
};
