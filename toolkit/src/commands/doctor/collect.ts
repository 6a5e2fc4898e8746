// Collectors: each gathers one group of facts from this machine, under its own timeout. A collector
// that throws or times out is recorded in facts.collectorErrors and its group keeps empty defaults,
// so the other collectors (and all checks) still run.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { hostname, release, tmpdir } from "node:os";
import { join } from "node:path";
import { collectCaptureFacts } from "../../lib/capture.js";
import { type EngineResult, runEngine, runEngineSync } from "../../lib/engine.js";
import { runCommand, which } from "../../lib/exec.js";
import { engineBinary, packageRoot } from "../../lib/paths.js";
import { readSafetensorsHeader } from "../../lib/safetensors.js";
import { TENSORS_TIMEOUT_MS, tensorsArgs, type TensorSource } from "../../lib/tensors.js";
import type { CmdFact, Facts, ModelFacts, TekkenFacts } from "./facts.js";
import { collectNvidiaSmi } from "../../lib/nvidia-smi.js";

export interface CollectOptions {
  modelDir: string;
  env?: NodeJS.ProcessEnv;
  /** Per-collector time limit (default 20 s). */
  timeoutMs?: number;
}

/** Library file names worth listing: the CUDA driver, cuBLAS, NVML, the runtime, OpenBLAS. */
const LIB_NAME = /^lib(cuda|cublas|cublasLt|nvidia-ml|cudart|openblas)\.so/;

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function listLibs(dir: string): string[] | null {
  try {
    return readdirSync(dir)
      .filter((n) => LIB_NAME.test(n))
      .sort();
  } catch {
    return null;
  }
}

/** Directories the loader or the CUDA toolkit may take libcuda / libcublas from. */
function libDirsOfInterest(env: NodeJS.ProcessEnv): string[] {
  const cudaHomes = [env.CUDA_HOME, env.CUDA_PATH, "/usr/local/cuda"].filter((d): d is string => !!d);
  const dirs = [
    "/usr/lib/wsl/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    ...cudaHomes.flatMap((h) => [
      join(h, "lib64"),
      join(h, "lib64", "stubs"),
      join(h, "targets/x86_64-linux/lib"),
      join(h, "targets/x86_64-linux/lib/stubs"),
    ]),
    ...(env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d.length > 0),
  ];
  return [...new Set(dirs)];
}

function defaultFacts(modelDir: string, env: NodeJS.ProcessEnv): Facts {
  const pick = (k: "PATH" | "LD_LIBRARY_PATH" | "CUDA_HOME" | "CUDA_PATH" | "VOX_ENGINE") =>
    env[k] !== undefined ? { [k]: env[k] } : {};
  return {
    factsVersion: 1,
    collectedAt: new Date().toISOString(),
    platform: {
      os: process.platform,
      arch: process.arch,
      kernel: release(),
      hostname: hostname(),
      osRelease: null,
      procVersion: null,
      glibc: null,
      wslVersionOutput: null,
    },
    env: {
      ...pick("PATH"),
      ...pick("LD_LIBRARY_PATH"),
      ...pick("CUDA_HOME"),
      ...pick("CUDA_PATH"),
      ...pick("VOX_ENGINE"),
    },
    nvidiaSmi: null,
    nvidiaSmiBanner: null,
    ldconfig: null,
    libDirs: {},
    ldSoConf: {},
    cudaProbe: { run: null, skipped: "not collected" },
    nvcc: { path: null, version: null, archs: null },
    cc: { path: null, version: null },
    make: { path: null },
    openblas: { pkgConfig: null, headers: [] },
    ffmpeg: { path: null, version: null },
    engine: { path: engineBinary(env), exists: false, info: null },
    model: {
      dir: modelDir,
      exists: false,
      files: { "params.json": null, "consolidated.safetensors": null, "tekken.json": null },
      paramsText: null,
      safetensors: null,
      tekken: null,
    },
    collectorErrors: {},
  };
}

type Collector = (f: Facts, env: NodeJS.ProcessEnv) => Promise<void>;

/** Decodes `wsl.exe --version`, which prints UTF-16LE. */
function decodeWslOutput(s: string): string {
  return s.includes("\u0000") ? s.replace(/\u0000/g, "") : s;
}

const collectors: Record<string, Collector> = {
  async platform(f) {
    f.platform.osRelease = readText("/etc/os-release");
    f.platform.procVersion = readText("/proc/version");
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    f.platform.glibc = header?.glibcVersionRuntime ?? null;
    if (/microsoft/i.test(`${f.platform.kernel} ${f.platform.procVersion ?? ""}`)) {
      const wsl = await runCommand("wsl.exe", ["--version"], { timeoutMs: 5000 });
      f.platform.wslVersionOutput = wsl.found && wsl.exitCode === 0 ? decodeWslOutput(wsl.stdout) : null;
    }
  },
  async gpu(f, env) {
    const smi = await collectNvidiaSmi(env);
    f.nvidiaSmi = smi.query;
    f.nvidiaSmiBanner = smi.banner;
  },
  async libraries(f, env) {
    const ldconfig = which("ldconfig", `${env.PATH ?? ""}:/sbin:/usr/sbin`);
    if (ldconfig) f.ldconfig = await runCommand(ldconfig, ["-p"]);
    for (const d of libDirsOfInterest(env)) f.libDirs[d] = listLibs(d);
    for (const name of listDir("/etc/ld.so.conf.d")) {
      const text = readText(join("/etc/ld.so.conf.d", name));
      if (text !== null) f.ldSoConf[name] = text;
    }
  },
  async cudaProbe(f, env) {
    const cc = which("cc", env.PATH) ?? which("gcc", env.PATH);
    if (!cc) {
      f.cudaProbe = { run: null, skipped: "no C compiler to build the probe (cc/gcc not on PATH)" };
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "vox-probe-"));
    try {
      const src = join(packageRoot(), "toolkit", "src", "commands", "doctor", "cuda-probe.c");
      const exe = join(dir, "cuda-probe");
      const libs = join(packageRoot(), "engine", "src", "cuda"); // libs.h: the engine's library search lists
      const build = await runCommand(cc, ["-O1", "-I", libs, "-o", exe, src, "-ldl"], { timeoutMs: 30_000 });
      if (build.exitCode !== 0) {
        f.cudaProbe = {
          run: null,
          skipped: `probe did not compile: ${(build.stderr || build.error || "").trim().split("\n")[0]}`,
        };
        return;
      }
      f.cudaProbe = { run: await runCommand(exe, [], { timeoutMs: 30_000, env }), skipped: null };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  async nvcc(f, env) {
    const homes = [env.CUDA_HOME, env.CUDA_PATH, "/usr/local/cuda"].filter((d): d is string => !!d);
    const path =
      which("nvcc", env.PATH) ?? homes.map((h) => join(h, "bin", "nvcc")).find((p) => which(p) !== null) ?? null;
    f.nvcc.path = path;
    if (!path) return;
    f.nvcc.version = await runCommand(path, ["--version"]);
    f.nvcc.archs = await runCommand(path, ["--list-gpu-arch"]);
  },
  async cpuBuild(f, env) {
    f.cc.path = which("cc", env.PATH) ?? which("gcc", env.PATH);
    if (f.cc.path) f.cc.version = await runCommand(f.cc.path, ["--version"]);
    f.make.path = which("make", env.PATH);
    const pkgConfig = which("pkg-config", env.PATH);
    if (pkgConfig)
      f.openblas.pkgConfig = await runCommand(pkgConfig, ["--modversion", "--cflags", "--libs", "openblas"]);
    f.openblas.headers = [
      "/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h",
      "/usr/include/aarch64-linux-gnu/openblas-pthread/cblas.h",
      "/usr/include/openblas/cblas.h",
      "/usr/include/cblas.h",
      "/opt/OpenBLAS/include/cblas.h",
    ].filter((p) => existsSync(p));
  },
  async ffmpeg(f, env) {
    f.ffmpeg.path = which("ffmpeg", env.PATH);
    if (f.ffmpeg.path) f.ffmpeg.version = await runCommand(f.ffmpeg.path, ["-hide_banner", "-version"]);
  },
  async capture(f, env) {
    f.capture = await collectCaptureFacts(env);
  },
  async engine(f, env) {
    f.engine.path = engineBinary(env);
    f.engine.exists = existsSync(f.engine.path);
    if (!f.engine.exists) return;
    f.engine.info = cmdFact(await runEngine(["--info"], { binary: f.engine.path, timeoutMs: 30_000 }));
  },
  async model(f, env) {
    f.model = collectModel(f.model.dir, engineBinary(env));
  },
};

function cmdFact(r: EngineResult): CmdFact {
  return {
    cmd: r.command,
    found: r.failureKind !== "spawn",
    exitCode: r.exitCode,
    stdout: r.stdout,
    stderr: r.stderr,
    timedOut: r.timedOut,
    error: r.failure,
  };
}

/** The engine's tensor list for a source, or null without an engine binary. */
function tensorsFact(from: TensorSource, engine: string): CmdFact | null {
  if (!existsSync(engine)) return null;
  return cmdFact(runEngineSync(tensorsArgs(from), { binary: engine, timeoutMs: TENSORS_TIMEOUT_MS }));
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function fileSize(p: string): number | null {
  try {
    const s = statSync(p);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

/** Model folder facts: sizes, params.json text, the safetensors header, a tekken.json summary, and
 *  the engine's list of the tensors params.json implies (asked of `engine` when it exists). */
export function collectModel(dir: string, engine: string = engineBinary()): ModelFacts {
  const files: ModelFacts["files"] = {
    "params.json": fileSize(join(dir, "params.json")),
    "consolidated.safetensors": fileSize(join(dir, "consolidated.safetensors")),
    "tekken.json": fileSize(join(dir, "tekken.json")),
  };
  const exists = existsSync(dir);
  const paramsText = files["params.json"] !== null ? readText(join(dir, "params.json")) : null;
  let safetensors: ModelFacts["safetensors"] = null;
  if (files["consolidated.safetensors"] !== null) {
    try {
      safetensors = readSafetensorsHeader(join(dir, "consolidated.safetensors"));
    } catch (e) {
      safetensors = {
        fileSize: files["consolidated.safetensors"],
        headerLength: null,
        headerText: null,
        readError: (e as Error).message,
      };
    }
  }
  const tekken = files["tekken.json"] !== null ? summarizeTekken(readText(join(dir, "tekken.json"))) : null;
  const isFile = exists && !statSync(dir).isDirectory();
  const tensors = paramsText !== null ? tensorsFact({ modelDir: dir }, engine) : null;
  const realTensors = tensors?.exitCode === 0 ? null : tensorsFact({ size: "full" }, engine);
  return { dir, exists, ...(isFile ? { isFile } : {}), files, paramsText, safetensors, tekken, tensors, realTensors };
}

function summarizeTekken(text: string | null): TekkenFacts {
  const empty = { vocabSize: null, defaultNumSpecialTokens: null, specialTokens: [] };
  if (text === null) return { parseError: "could not read the file", ...empty };
  let j: { vocab?: unknown; config?: { default_num_special_tokens?: unknown }; special_tokens?: unknown };
  try {
    j = JSON.parse(text);
  } catch (e) {
    return { parseError: `not valid JSON (${(e as Error).message})`, ...empty };
  }
  const special = Array.isArray(j.special_tokens)
    ? j.special_tokens
        .filter(
          (t): t is { rank: number; token_str: string } =>
            typeof t?.rank === "number" && typeof t?.token_str === "string",
        )
        .map((t) => ({ rank: t.rank, token_str: t.token_str }))
    : [];
  return {
    parseError: null,
    vocabSize: Array.isArray(j.vocab) ? j.vocab.length : null,
    defaultNumSpecialTokens:
      typeof j.config?.default_num_special_tokens === "number" ? j.config.default_num_special_tokens : null,
    specialTokens: special,
  };
}

function withTimeout(p: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`collector ${name} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Runs every collector concurrently; returns the facts (never throws). */
export async function collectFacts(opts: CollectOptions, only: Record<string, Collector> = collectors): Promise<Facts> {
  const env = opts.env ?? process.env;
  const facts = defaultFacts(opts.modelDir, env);
  await Promise.all(
    Object.entries(only).map(async ([name, collect]) => {
      try {
        await withTimeout(
          Promise.resolve().then(() => collect(facts, env)),
          opts.timeoutMs ?? 20_000,
          name,
        );
      } catch (e) {
        facts.collectorErrors[name] = (e as Error).message;
      }
    }),
  );
  return facts;
}

export { collectors };
export type { Collector };
