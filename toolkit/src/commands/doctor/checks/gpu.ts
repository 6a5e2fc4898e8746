// gpu: nvidia-smi answering; per GPU name, driver, CUDA version, compute capability, memory;
// enough free memory for the model (weights + full KV cache).
import { gpuNeedBytes, kvCacheBytes, parseParams, REAL_MODEL, type ModelParams } from "../../../lib/model.js";
import { bf16BytesOf } from "../../../lib/tensors.js";
import { driverCuda, gpus, wsl } from "../derive.js";
import type { Facts } from "../facts.js";
import { combine, fail, firstLine, mib, MIB, warn, type Check, type Verdict } from "./types.js";

/** Headroom above weights + KV cache for the CUDA context, cuBLAS workspace and activations. */
const HEADROOM_BYTES = 1024 * MIB;

/** The model's params (from --model when readable, else the real model) and weight bytes: the checkpoint's
 *  data, else the BF16 bytes of the engine's tensor list (null when there is no engine to ask). */
function modelNeed(f: Facts): { params: ModelParams; weights: number | null; source: string } {
  let params = REAL_MODEL;
  let source = "the real 4B model";
  if (f.model.paramsText) {
    try {
      params = parseParams(f.model.paramsText);
      source = f.model.dir;
    } catch {
      /* a broken params.json is the model check's to report; size the real model here */
    }
  }
  const st = f.model.safetensors;
  const weights =
    st && st.headerLength !== null && !st.readError && source !== "the real 4B model"
      ? st.fileSize - 8 - st.headerLength
      : bf16BytesOf(source === "the real 4B model" ? f.model.realTensors : f.model.tensors);
  return { params, weights, source };
}

function noDriverFix(f: Facts): string {
  return wsl(f).isWsl
    ? "Install the NVIDIA driver on Windows (not inside WSL), then in PowerShell: wsl --shutdown. nvidia-smi appears in /usr/lib/wsl/lib. README: WSL2 setup. Without a GPU: --backend cpu."
    : "Install the NVIDIA driver (Ubuntu: sudo ubuntu-drivers install; Debian: sudo apt install nvidia-driver), reboot, and check nvidia-smi. Without a GPU: --backend cpu.";
}

export const gpuCheck: Check = {
  id: "gpu",
  title: "NVIDIA GPU",
  needs: "cuda",
  run(f) {
    if (!f.nvidiaSmi) return fail("nvidia-smi not found: no NVIDIA driver is visible", noDriverFix(f));
    const smi = f.nvidiaSmi;
    if (smi.timedOut)
      return fail(
        "nvidia-smi did not answer (timed out): the driver is hung",
        "Reboot (on WSL2: wsl --shutdown in PowerShell); if it persists, reinstall the driver. README: Troubleshooting gpu.",
      );
    if (smi.exitCode !== 0) {
      return fail(
        `nvidia-smi failed (exit ${smi.exitCode ?? smi.error}): ${firstLine(smi.stdout) || firstLine(smi.stderr)}`,
        `The driver is not loaded or does not match its libraries. ${noDriverFix(f)}`,
      );
    }
    const list = gpus(f);
    if (list.length === 0) return fail("nvidia-smi lists no GPU", noDriverFix(f));
    const cuda = driverCuda(f) ?? "?";
    const { params, weights, source } = modelNeed(f);
    const kv = kvCacheBytes(params);
    const need = gpuNeedBytes(weights ?? 0, params);
    const lines = list.map(
      (g) =>
        `GPU ${g.index}: ${g.name}, cc ${g.cc}, driver ${g.driver} (CUDA ${cuda}), ${g.totalMb} MiB total, ${g.freeMb} MiB free`,
    );
    const needText =
      weights === null
        ? `model needs at least ${mib(need)} (KV cache, ${source}; the weights are sized from consolidated.safetensors or, once npx vox build has built the engine, its tensor list)`
        : `model needs ${mib(need)} (weights ${mib(weights)} + KV cache ${mib(kv)}, ${source})`;
    const findings: Verdict[] = [];
    const fits = list.filter((g) => g.freeMb * MIB >= need);
    const first = list[0]!;
    if (fits.length === 0) {
      const best = list.reduce((a, b) => (b.freeMb > a.freeMb ? b : a));
      findings.push(
        fail(
          `too little GPU memory: GPU ${best.index} has ${best.freeMb} MiB free, ${needText}`,
          `Free GPU memory (close the programs nvidia-smi lists) or use a GPU with at least ${Math.ceil((need + HEADROOM_BYTES) / 1024 / MIB)} GiB free; else --backend cpu.`,
        ),
      );
    } else if (!fits.includes(first)) {
      findings.push(
        warn(
          `GPU ${first.index} (used by default) has ${first.freeMb} MiB free; ${needText}`,
          `Select a GPU that fits: export CUDA_VISIBLE_DEVICES=${fits[0]!.index}`,
        ),
      );
    } else if (first.freeMb * MIB < need + HEADROOM_BYTES) {
      findings.push(
        warn(
          `GPU ${first.index} has ${first.freeMb} MiB free: enough for the ${mib(need)} the model needs, but under ${mib(HEADROOM_BYTES)} left for the CUDA context and activations`,
          "Close other GPU programs (nvidia-smi lists them).",
        ),
      );
    }
    return combine(findings, `${lines.join("\n")}\n${needText}`);
  },
};
