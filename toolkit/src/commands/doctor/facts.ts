// The facts the doctor collects: plain JSON (raw command outputs, file listings, small file
// contents), so a fact set can be saved (--save-facts), replayed (--facts) and kept as a test fixture.
// Checks read only this; they never touch the machine.
import type { CaptureFacts } from "../../lib/capture.js";
import type { CmdFact } from "../../lib/exec.js";
import type { SafetensorsHeader } from "../../lib/safetensors.js";

export type { CmdFact };

export interface PlatformFacts {
  os: string; // process.platform
  arch: string;
  kernel: string; // uname -r
  hostname: string;
  osRelease: string | null; // /etc/os-release
  procVersion: string | null; // /proc/version
  glibc: string | null;
  /** `wsl.exe --version` through WSL interop (null when not WSL or unavailable). */
  wslVersionOutput: string | null;
}

export interface CudaProbeFacts {
  /** The tiny C probe: dlopen("libcuda.so.1") + cuInit + cuDriverGetVersion, and cuBLAS loads. */
  run: CmdFact | null;
  /** Why there is no probe run (no C compiler, compile error). */
  skipped: string | null;
}

export interface ModelFacts {
  dir: string;
  exists: boolean;
  /** The path exists but is a file, not a folder (absent in fact sets saved by older versions). */
  isFile?: boolean;
  /** Sizes of the three model files, null when missing. */
  files: Record<"params.json" | "consolidated.safetensors" | "tekken.json", number | null>;
  paramsText: string | null;
  safetensors: SafetensorsHeader | null;
  tekken: TekkenFacts | null;
  /** `voxtral --tensors -d DIR`: the engine's list of the tensors this params.json implies (lib/tensors.ts).
   *  null: no params.json, or no engine binary to ask; absent in fact sets saved before it was collected. */
  tensors?: CmdFact | null;
  /** `voxtral --tensors`: the real model's list, to size it when the folder's params.json gave none. */
  realTensors?: CmdFact | null;
}

export interface TekkenFacts {
  parseError: string | null;
  vocabSize: number | null;
  defaultNumSpecialTokens: number | null;
  specialTokens: Array<{ rank: number; token_str: string }>;
}

export interface Facts {
  factsVersion: 1;
  collectedAt: string;
  platform: PlatformFacts;
  env: Partial<Record<"PATH" | "LD_LIBRARY_PATH" | "CUDA_HOME" | "CUDA_PATH" | "VOX_ENGINE", string>>;
  /** nvidia-smi --query-gpu=... --format=csv,noheader,nounits; null when nvidia-smi is not on PATH. */
  nvidiaSmi: CmdFact | null;
  /** Plain `nvidia-smi` (its banner holds "CUDA Version"); null when not on PATH. */
  nvidiaSmiBanner: CmdFact | null;
  ldconfig: CmdFact | null;
  /** Library directories of interest -> the CUDA/BLAS-related file names in them (null: no such dir). */
  libDirs: Record<string, string[] | null>;
  /** /etc/ld.so.conf.d/*.conf -> content. */
  ldSoConf: Record<string, string>;
  cudaProbe: CudaProbeFacts;
  nvcc: { path: string | null; version: CmdFact | null; archs: CmdFact | null };
  cc: { path: string | null; version: CmdFact | null };
  make: { path: string | null };
  openblas: { pkgConfig: CmdFact | null; headers: string[] };
  ffmpeg: { path: string | null; version: CmdFact | null };
  /** Microphone capture (PulseAudio / ALSA / ffmpeg input devices); absent in fact sets saved before it existed. */
  capture?: CaptureFacts;
  engine: { path: string; exists: boolean; info: CmdFact | null };
  model: ModelFacts;
  /** Collectors that threw or timed out: name -> message. Their facts keep empty defaults. */
  collectorErrors: Record<string, string>;
}
