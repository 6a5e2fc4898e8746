// `voxtral --info` (engine CLI contract): the engine's build and what its CUDA loader found.
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
  if (typeof j !== "object" || j === null || Array.isArray(j)) throw new EngineInfoError("voxtral --info: the JSON is not an object");
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
