// Copy bandwidth of the device a backend runs on, measured in the same bench run by the engine
// (`voxtral --bench-copy --backend B`: a 1 GiB copy on that backend): the denominator of "% of copy
// bandwidth" and of the decoder's floor (bytes per step / bandwidth). Counted as bytes read + bytes
// written per second (a device-to-device copy of N bytes moves 2N), the usual convention.
import { runEngine } from "../../lib/engine.js";
import type { Backend, Bandwidth } from "./types.js";

const METHOD = "voxtral --bench-copy";

/** Parses `{"copy_gbps": f, "bytes": n, ...}` from the engine's stdout; null when it is not that. */
function parseCopyProbe(stdout: string): { gbps: number; bytes: number } | null {
  try {
    const j = JSON.parse(stdout) as { copy_gbps?: unknown; bytes?: unknown };
    if (typeof j.copy_gbps === "number" && j.copy_gbps > 0 && typeof j.bytes === "number")
      return { gbps: j.copy_gbps, bytes: j.bytes };
  } catch {
    /* not JSON: reported below with the output */
  }
  return null;
}

/** Never throws: a failed measurement is a null bandwidth with the reason (the runs still happen). */
export async function measureBandwidth(backend: Backend, engine?: string): Promise<Bandwidth> {
  const r = await runEngine(["--bench-copy", "--backend", backend], { binary: engine, timeoutMs: 120_000 });
  const probe = r.failure ? null : parseCopyProbe(r.stdout);
  if (probe) return { backend, gbps: probe.gbps, bytes: probe.bytes, method: METHOD, error: null };
  const why = r.failure ?? `printed no {copy_gbps, bytes} JSON: ${JSON.stringify(r.stdout.slice(0, 120))}`;
  return { backend, gbps: null, bytes: null, method: METHOD, error: why };
}
