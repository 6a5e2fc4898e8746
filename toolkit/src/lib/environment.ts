// The environment block every report carries (checks/schemas/environment.schema.json): toolkit and
// engine versions and commits, GPUs, driver, CUDA and OS facts. Collection never throws: a missing
// engine or nvidia-smi becomes null fields and an `error` in words, so a report can always be written.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import type { EnvironmentSchema } from "../generated/schemas.js";
import { parseEngineJson, runEngine } from "./engine.js";
import type { EngineInfo } from "./engine-info.js";
import { runCommand } from "./exec.js";
import { collectNvidiaSmi, environmentSmiCsv } from "./nvidia-smi.js";
import { engineBinary, packageRoot } from "./paths.js";

/** Generated from checks/schemas/environment.schema.json. */
export type Environment = EnvironmentSchema;

export interface RawFacts {
  /** `voxtral --info` as printed (lib/engine-info.ts has the contract); not checked here, so buildEnvironment
   *  reads a field the engine left out as null or empty. */
  info: EngineInfo | null;
  infoError: string | null;
  enginePath: string;
  /** one line per GPU, "index, name, driver_version, compute_cap, memory.total" (lib/nvidia-smi.ts) */
  smiCsv: string | null;
  /** `nvidia-smi` plain output (for "CUDA Version: 13.0"). */
  smiBanner: string | null;
  nvccVersion: string | null;
  toolkitVersion: string;
  toolkitCommit: string | null;
  procVersion: string | null;
  osRelease: string | null;
}

/** `voxtral --info`, parsed; never throws. */
export async function engineInfo(binary = engineBinary()): Promise<{ info: EngineInfo | null; error: string | null }> {
  const r = await runEngine(["--info"], { binary, timeoutMs: 20_000 });
  if (r.failure) return { info: null, error: r.failure };
  try {
    return { info: parseEngineJson<EngineInfo>(r), error: null };
  } catch (e) {
    return { info: null, error: (e as Error).message };
  }
}

function readOrNull(p: string): string | null {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return null;
  }
}

/** The commit checked out in `dir`, read from its .git (no git binary needed; a linked worktree's .git file
 *  and a shared refs folder are followed); null outside a git checkout. */
function gitCommit(dir: string): string | null {
  let gitDir = join(dir, ".git");
  const link = /^gitdir: (.+)$/m.exec(readOrNull(gitDir) ?? "")?.[1]?.trim();
  if (link) gitDir = resolve(dir, link);
  const common = readOrNull(join(gitDir, "commondir"))?.trim();
  const refsDir = common ? resolve(gitDir, common) : gitDir;
  const head = readOrNull(join(gitDir, "HEAD"))?.trim();
  if (!head) return null;
  if (!head.startsWith("ref: ")) return head;
  const ref = head.slice(5);
  const loose = readOrNull(join(refsDir, ref))?.trim();
  if (loose) return loose;
  const packed = readOrNull(join(refsDir, "packed-refs")) ?? "";
  return (
    packed
      .split("\n")
      .find((l) => l.endsWith(` ${ref}`))
      ?.split(" ")[0] ?? null
  );
}

/** The toolkit's package.json version and the commit of its checkout (null outside git): every report's. */
export function toolkitIdentity(root = packageRoot()): { version: string; commit: string | null } {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return { version: pkg.version, commit: gitCommit(root) };
}

/** Collects the raw facts (processes and files); `build` pure-maps them. */
async function collectRawFacts(binary = engineBinary()): Promise<RawFacts> {
  const toolkit = toolkitIdentity();
  const [engine, smi, nvcc] = await Promise.all([
    existsSync(binary)
      ? engineInfo(binary)
      : Promise.resolve({ info: null, error: `engine not built (${binary} does not exist)` }),
    collectNvidiaSmi(),
    runCommand(process.env.CUDA_HOME ? join(process.env.CUDA_HOME, "bin", "nvcc") : "nvcc", ["--version"]),
  ]);
  return {
    info: engine.info,
    infoError: engine.error,
    enginePath: binary,
    smiCsv: environmentSmiCsv(smi.query),
    smiBanner: smi.banner?.exitCode === 0 ? smi.banner.stdout : null,
    nvccVersion: nvcc.exitCode === 0 ? (/release ([\d.]+)/.exec(nvcc.stdout)?.[1] ?? null) : null,
    toolkitVersion: toolkit.version,
    toolkitCommit: toolkit.commit,
    procVersion: readOrNull("/proc/version"),
    osRelease: readOrNull("/etc/os-release"),
  };
}

/** Pure: raw facts -> the schema's environment block. */
export function buildEnvironment(f: RawFacts): Environment {
  const smiRows = (f.smiCsv ?? "")
    .split("\n")
    .map((l) => l.split(",").map((s) => s.trim()))
    .filter((c) => c.length >= 5 && /^\d+$/.test(c[0]!));
  const infoDevices = f.info?.cuda?.devices ?? [];
  const gpus =
    smiRows.length > 0
      ? smiRows.map((c) => ({
          index: Number(c[0]),
          name: c[1]!,
          computeCapability: c[3] || null,
          totalMb: Number(c[4]) || null,
        }))
      : infoDevices.map((d) => ({
          index: d.index,
          name: d.name,
          computeCapability: d.cc ?? null,
          totalMb: d.total_mb ?? null,
        }));
  const driverNum = f.info?.cuda?.driver_version ?? null;
  const bannerCuda = /CUDA Version:\s*([\d.]+)/.exec(f.smiBanner ?? "")?.[1] ?? null;
  const wsl = /microsoft/i.test(f.procVersion ?? "") ? (/WSL2/i.test(f.procVersion ?? "") ? 2 : 1) : null;
  const cpus = os.cpus();
  return {
    toolkit: { version: f.toolkitVersion, commit: f.toolkitCommit },
    engine: {
      path: f.enginePath,
      available: f.info !== null,
      version: f.info?.version ?? null,
      commit: f.info?.commit ?? null,
      backends: f.info?.backends ?? [],
      cudaArchs: f.info?.cuda_archs ?? [],
      blas: f.info?.blas ?? null,
      error: f.infoError,
    },
    gpus,
    driver: {
      version: smiRows[0]?.[2] ?? null,
      cudaVersion: bannerCuda ?? (driverNum ? `${Math.floor(driverNum / 1000)}.${(driverNum % 1000) / 10}` : null),
    },
    cuda: {
      available: f.info?.cuda?.available ?? false,
      reason: f.info?.cuda?.reason ?? (f.info ? null : "engine --info unavailable"),
      libcuda: f.info?.cuda?.libcuda ?? null,
      cublasVersion: f.info?.cuda?.cublas_version ?? null,
      nvccVersion: f.nvccVersion,
    },
    os: {
      platform: process.platform,
      release: os.release(),
      distro: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(f.osRelease ?? "")?.[1] ?? null,
      wsl,
      arch: process.arch,
      cpu: cpus[0]?.model.trim() ?? "unknown",
      cores: cpus.length,
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
    },
    host: createHash("sha256").update(os.hostname()).digest("hex").slice(0, 8),
  };
}

/** Facts for a report header; never throws. */
export async function collectEnvironment(binary = engineBinary()): Promise<Environment> {
  return buildEnvironment(await collectRawFacts(binary));
}
