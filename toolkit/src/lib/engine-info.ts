// `voxtral --info` (engine CLI contract): the engine's build and what its CUDA loader found; with -d DIR
// also what the engine derives from the model's params.json. EngineInfo is the one type of that output
// (the doctor's checks and the environment block of every report read it).
import { parseEngineJson, runEngine } from "./engine.js";
import { engineBinary } from "./paths.js";

export interface EngineInfo {
  engine: string;
  version: string;
  commit: string;
  backends: string[];
  cuda_archs: string[];
  blas: string;
  cuda: {
    available: boolean;
    reason: string | null;
    libcuda: string | null;
    driver_version: number | null;
    libcublas: string | null;
    libcublasLt: string | null;
    cublas_version: number | null;
    devices: Array<{ index: number; name: string; cc: string; total_mb: number; free_mb: number }>;
  } | null;
}

/** --info output that does not follow the engine CLI contract. */
export class EngineInfoError extends Error {}

/** Parses --info stdout; throws EngineInfoError naming what is missing when it does not follow the contract. */
export function parseEngineInfo(stdout: string): EngineInfo {
  let j: Partial<EngineInfo>;
  try {
    j = JSON.parse(stdout) as Partial<EngineInfo>;
  } catch {
    throw new EngineInfoError(`voxtral --info printed no JSON: ${JSON.stringify(stdout.slice(0, 120))}`);
  }
  if (typeof j !== "object" || j === null || Array.isArray(j))
    throw new EngineInfoError("voxtral --info: the JSON is not an object");
  if (!Array.isArray(j.backends)) throw new EngineInfoError("voxtral --info: no 'backends' array");
  return {
    engine: String(j.engine ?? "voxtral"),
    version: String(j.version ?? "?"),
    commit: String(j.commit ?? "?"),
    backends: j.backends.map(String),
    cuda_archs: Array.isArray(j.cuda_archs) ? j.cuda_archs.map(String) : [],
    blas: String(j.blas ?? "?"),
    cuda: j.cuda ?? null,
  };
}

/** Whether SASS built for `arch` ("sm_86") runs on a GPU of compute capability sm (e.g. 89):
 *  same major, minor not above the GPU's ("f" family variants alike); "a" variants only on their exact GPU. */
export function archRunsOn(arch: string, sm: number): boolean {
  const m = /^sm_(\d+)([af]?)$/.exec(arch);
  if (!m) return false;
  const a = Number(m[1]);
  if (m[2] === "a") return a === sm;
  return Math.floor(a / 10) === Math.floor(sm / 10) && a % 10 <= sm % 10;
}

/** `voxtral --info -d DIR`'s "model" object: facts the engine derives from params.json (nothing is loaded). */
export interface ModelFacts {
  /** bytes the decoder reads per step (BF16 weights of every layer, final norm, tied LM head): the floor's numerator */
  decoder_bytes_per_step: number;
  n_layers: number;
  dim: number;
  vocab_size: number;
}

/** Asks the engine for the model's facts; throws Error with the engine's own error line when it refuses. */
export async function engineModelFacts(modelDir: string, binary = engineBinary()): Promise<ModelFacts> {
  const r = await runEngine(["--info", "-d", modelDir], { binary, timeoutMs: 20_000 });
  if (r.failure) throw new Error(r.failure);
  const facts = parseEngineJson<{ model?: ModelFacts }>(r).model;
  if (typeof facts?.decoder_bytes_per_step !== "number") {
    throw new Error(`${binary} --info -d gave no model.decoder_bytes_per_step (an engine older than this toolkit)`);
  }
  return facts;
}
