// Facts interpreted once, for several checks: the GPUs, WSL, the driver's CUDA version, the probe,
// the engine's --info, and where the loader would take libcuda.so.1 from.
import { parseEngineInfo, type EngineInfo } from "../../lib/engine-info.js";
import type { Facts } from "./facts.js";
import {
  cudaIntToVersion,
  detectWsl,
  parseLdconfig,
  parseNvidiaSmi,
  parseSmiCudaVersion,
  type LdEntry,
  type SmiGpu,
  type WslInfo,
} from "./parse.js";

export const WSL_LIB = "/usr/lib/wsl/lib";

export function gpus(f: Facts): SmiGpu[] {
  return f.nvidiaSmi && f.nvidiaSmi.exitCode === 0 ? parseNvidiaSmi(f.nvidiaSmi.stdout) : [];
}

export function wsl(f: Facts): WslInfo {
  return detectWsl(f.platform.kernel, f.platform.procVersion, f.platform.wslVersionOutput);
}

export interface ProbeLib {
  soname?: string;
  /** The name dlopen succeeded with: a bare soname (loader search) or one of the engine's fixed paths. */
  opened?: string;
  path?: string;
  version?: number[];
  error?: string;
}

export interface ProbeResult {
  libcuda: {
    path?: string;
    init?: number;
    init_name?: string;
    driver_version?: number;
    devices?: number;
    error?: string;
  };
  cublas: ProbeLib;
  cublasLt: ProbeLib;
}

/** The probe's JSON, or null when it did not run or printed nothing usable. */
export function probe(f: Facts): ProbeResult | null {
  const run = f.cudaProbe.run;
  if (run?.exitCode !== 0) return null;
  try {
    const p = JSON.parse(run.stdout) as Partial<ProbeResult> | null;
    // Each part must be an object (a probe cut short, or edited facts, may lack one).
    const obj = (x: unknown) =>
      typeof x === "object" && x !== null && !Array.isArray(x) ? x : { error: "the probe reported nothing for it" };
    if (typeof p !== "object" || p === null) return null;
    return { ...p, libcuda: obj(p.libcuda), cublasLt: obj(p.cublasLt), cublas: obj(p.cublas) } as ProbeResult;
  } catch {
    return null;
  }
}

/** The CUDA version the driver supports ("13.0"): from cuDriverGetVersion, else nvidia-smi's banner. */
export function driverCuda(f: Facts): string | null {
  const v = probe(f)?.libcuda.driver_version;
  if (v && v > 0) return cudaIntToVersion(v);
  const info = engineInfo(f);
  if (info?.cuda?.driver_version) return cudaIntToVersion(info.cuda.driver_version);
  return f.nvidiaSmiBanner ? parseSmiCudaVersion(f.nvidiaSmiBanner.stdout) : null;
}

export function engineInfo(f: Facts): EngineInfo | null {
  const i = f.engine.info;
  if (i?.exitCode !== 0) return null;
  return parseEngineInfo(i.stdout);
}

/** 64-bit ldconfig entries for a soname (in cache order: the first is what dlopen takes). */
export function ldEntries(f: Facts, soname: string): LdEntry[] {
  if (f.ldconfig?.exitCode !== 0) return [];
  return parseLdconfig(f.ldconfig.stdout).filter((e) => e.soname === soname && !/i386|x32/.test(e.flags));
}

export function ldLibraryPath(f: Facts): string[] {
  return (f.env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d.length > 0);
}

/** Where dlopen(soname) lands, the way ld.so searches: LD_LIBRARY_PATH, then the ldconfig cache. */
export function resolveLib(f: Facts, soname: string): { path: string; via: string } | null {
  for (const d of ldLibraryPath(f)) {
    if (f.libDirs[d]?.includes(soname)) return { path: `${d.replace(/\/$/, "")}/${soname}`, via: "LD_LIBRARY_PATH" };
  }
  const e = ldEntries(f, soname)[0];
  return e ? { path: e.path, via: "ldconfig cache" } : null;
}
