// Copy bandwidth of the device a backend runs on, measured in the same bench run: the denominator of
// "% of copy bandwidth" and of the decoder's floor (bytes per step / bandwidth). Counted as bytes read
// + bytes written per second (a device-to-device copy of N bytes moves 2N), the usual convention.
//
// Order of methods, the one used is named in the report:
//   1. `voxtral --bench-copy --backend B` (the engine's own 1 GiB copy on that backend);
//   2. only for an engine without it: cuda: PyTorch's device-to-device copy when python3 with torch
//      is present; cpu: Node's Buffer.copy (memmove on one thread: a lower bound of all cores).
import { performance } from "node:perf_hooks";
import { runEngine } from "../../lib/engine.js";
import { runCommand } from "../../lib/exec.js";
import type { Backend, Bandwidth } from "./types.js";

const GB = 1e9;

/** Best of `rounds` timed copies of `bytes` between two host buffers. */
export function hostCopyGBps(bytes = 256 * 2 ** 20, rounds = 6): number {
  const a = Buffer.alloc(bytes, 1);
  const b = Buffer.alloc(bytes);
  a.copy(b); // touch both (page faults out of the timing)
  let best = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    a.copy(b);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (2 * bytes) / s / GB);
  }
  return best;
}

const TORCH_PROBE = `
import json, torch
n = 1 << 30
a = torch.empty(n, dtype=torch.uint8, device="cuda"); b = torch.empty_like(a)
b.copy_(a); torch.cuda.synchronize()
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
best = 0.0
for _ in range(5):
    s.record()
    for _ in range(10): b.copy_(a)
    e.record(); torch.cuda.synchronize()
    best = max(best, 2 * n * 10 / (s.elapsed_time(e) / 1e3) / 1e9)
print(json.dumps({"copy_gbps": best, "bytes": n}))
`;

/** Parses `{"copy_gbps": f, "bytes": n}` from a probe's stdout; null when it is not that. */
export function parseCopyProbe(stdout: string): { gbps: number; bytes: number } | null {
  try {
    const j = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as { copy_gbps?: unknown; bytes?: unknown };
    if (typeof j.copy_gbps === "number" && j.copy_gbps > 0 && typeof j.bytes === "number") return { gbps: j.copy_gbps, bytes: j.bytes };
  } catch {
    /* not JSON: the caller reports the probe's output */
  }
  return null;
}

export async function measureBandwidth(backend: Backend, engine?: string): Promise<Bandwidth> {
  const viaEngine = await runEngine(["--bench-copy", "--backend", backend, "--json"], { binary: engine, timeoutMs: 120_000 });
  const fromEngine = viaEngine.failure ? null : parseCopyProbe(viaEngine.stdout);
  if (fromEngine) return { backend, gbps: fromEngine.gbps, bytes: fromEngine.bytes, method: "voxtral --bench-copy", error: null };
  const engineWhy = viaEngine.failure ?? "voxtral --bench-copy printed no {copy_gbps, bytes}";

  if (backend === "cpu") {
    const bytes = 256 * 2 ** 20;
    return { backend, gbps: hostCopyGBps(bytes), bytes, method: "Node Buffer.copy on one thread", error: null };
  }
  const py = await runCommand("python3", ["-c", TORCH_PROBE], { timeoutMs: 120_000 });
  const fromTorch = py.exitCode === 0 ? parseCopyProbe(py.stdout) : null;
  if (fromTorch) return { backend, gbps: fromTorch.gbps, bytes: fromTorch.bytes, method: "PyTorch device-to-device copy", error: null };
  const pyWhy = !py.found ? "python3 not found" : (py.error ?? (py.stderr.trim().split("\n").at(-1) || `exit ${py.exitCode}`));
  return { backend, gbps: null, bytes: null, method: "none", error: `engine: ${engineWhy}; python3/torch: ${pyWhy}` };
}
