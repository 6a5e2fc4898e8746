// Captured fact sets for the doctor's tests: a healthy Linux H100 box and a healthy WSL2 RTX 4090
// box built from real command outputs (toolkit/test/fixtures/doctor/), which tests then break one
// way at a time. Helpers return fresh copies, so a test can mutate freely.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runChecks, type CheckResult } from "../../../src/commands/doctor/checks/index.js";
import { collectModel } from "../../../src/commands/doctor/collect.js";
import type { CmdFact, Facts } from "../../../src/commands/doctor/facts.js";
import type { BackendChoice } from "../../../src/lib/backend.js";
import { packageRoot } from "../../../src/lib/paths.js";
import { fixture } from "../../helpers.js";

export const text = (name: string): string => readFileSync(fixture("doctor", name), "utf8");

export function cmd(
  cmdline: string,
  stdout: string,
  exitCode: number | null = 0,
  extra: Partial<CmdFact> = {},
): CmdFact {
  return { cmd: cmdline, found: true, exitCode, stdout, stderr: "", timedOut: false, error: null, ...extra };
}

/** `ldconfig -p` of the healthy Linux box without the lines that mention `lib` (a library not installed). */
export function ldconfigWithout(lib: string): CmdFact {
  return cmd(
    "ldconfig -p",
    text("ldconfig-linux-native.txt")
      .split("\n")
      .filter((l) => !l.includes(lib))
      .join("\n"),
  );
}

/** The checks' results by id. */
export function verdicts(f: Facts, backend: BackendChoice = "auto"): Record<string, CheckResult> {
  return Object.fromEntries(runChecks(f, backend).map((r) => [r.id, r]));
}

/** The checks' statuses by id. */
export function statuses(f: Facts, backend: BackendChoice = "auto"): Record<string, string> {
  return Object.fromEntries(runChecks(f, backend).map((r) => [r.id, r.status]));
}

/** Every check passing, in the report's order. */
export const ALL_PASS = {
  platform: "pass",
  gpu: "pass",
  libcuda: "pass",
  cublas: "pass",
  toolkit: "pass",
  cpu: "pass",
  ffmpeg: "pass",
  capture: "pass",
  engine: "pass",
  model: "pass",
};

/** The probe's output (cuda-probe.c) for a working driver and cuBLAS of the given major. */
export function probeOk(libcuda: string, driverVersion: number, blasMajor: 12 | 13, blasDir: string): CmdFact {
  const lib = (n: string) => ({
    soname: `lib${n}.so.${blasMajor}`,
    path: `${blasDir}/lib${n}.so.${blasMajor}.${blasMajor === 13 ? "0.0.19" : "9.1.3"}`,
    version: [blasMajor, 0, 0],
  });
  return cmd(
    "cuda-probe",
    JSON.stringify({
      libcuda: { path: libcuda, init: 0, init_name: "CUDA_SUCCESS", driver_version: driverVersion, devices: 1 },
      cublasLt: lib("cublasLt"),
      cublas: lib("cublas"),
    }),
  );
}

export function engineInfoCmd(backends: string[], archs: string[], cuda: object | null = null): CmdFact {
  const info = {
    engine: "voxtral",
    version: "0.1.0",
    commit: "abc1234",
    backends,
    cuda_archs: archs,
    blas: "openblas 0.3.26",
    cuda,
  };
  return cmd("engine/build/voxtral --info", JSON.stringify(info));
}

export const TINY_MODEL = join(packageRoot(), "checks", "fixtures", "tiny-delay");

function common(): Omit<
  Facts,
  "platform" | "nvidiaSmi" | "nvidiaSmiBanner" | "ldconfig" | "libDirs" | "cudaProbe" | "env"
> {
  return {
    factsVersion: 1,
    collectedAt: "2026-11-21T22:50:00.000Z",
    ldSoConf: {},
    nvcc: {
      path: "/usr/local/cuda/bin/nvcc",
      version: cmd("nvcc --version", text("nvcc-13.0.txt")),
      archs: cmd("nvcc --list-gpu-arch", text("nvcc-13.0-archs.txt")),
    },
    cc: { path: "/usr/bin/cc", version: cmd("cc --version", "cc (Ubuntu 13.3.0-6ubuntu2~24.04) 13.3.0\n") },
    make: { path: "/usr/bin/make" },
    openblas: {
      pkgConfig: cmd(
        "pkg-config --modversion --cflags --libs openblas",
        "0.3.26\n-I/usr/include/x86_64-linux-gnu/openblas-pthread/\n-lopenblas\n",
      ),
      headers: ["/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h"],
    },
    ffmpeg: {
      path: "/usr/bin/ffmpeg",
      version: cmd("ffmpeg -version", "ffmpeg version 6.1.1-3ubuntu5 Copyright (c) 2000-2023 the FFmpeg developers\n"),
    },
    capture: {
      pulseServerEnv: null,
      wslgSocket: false,
      userPulseSocket: "/run/user/1000/pulse/native",
      alsaCapture: ["00-00: ALC887-VD Analog"],
      ffmpegInputs: ["alsa", "lavfi", "oss", "pulse", "x11grab"],
    },
    engine: {
      path: "/home/ada/vox/engine/build/voxtral",
      exists: true,
      info: engineInfoCmd(["cpu", "cuda"], ["sm_80", "sm_86", "sm_89", "sm_90", "sm_120"]),
    },
    model: collectModel(TINY_MODEL),
    collectorErrors: {},
  };
}

/** Ubuntu 24.04 on an H100 with driver 580 (CUDA 13.0), CUDA 13 toolkit and cuBLAS 13. */
export function linuxH100(): Facts {
  const cudaLib = "/usr/local/cuda/targets/x86_64-linux/lib";
  return {
    ...common(),
    platform: {
      os: "linux",
      arch: "x64",
      kernel: "6.8.0-87-generic",
      hostname: "gpu-node-17",
      osRelease: 'PRETTY_NAME="Ubuntu 24.04.3 LTS"\n',
      procVersion: "Linux version 6.8.0-87-generic (buildd@lcy02-amd64-034)",
      glibc: "2.39",
      wslVersionOutput: null,
    },
    env: { PATH: "/usr/local/cuda/bin:/usr/bin:/bin", CUDA_HOME: "/usr/local/cuda" },
    nvidiaSmi: cmd("nvidia-smi --query-gpu=...", text("smi-h100-linux.csv")),
    nvidiaSmiBanner: cmd("nvidia-smi", text("smi-h100-banner.txt")),
    ldconfig: cmd("ldconfig -p", text("ldconfig-linux-native.txt")),
    libDirs: {
      "/usr/lib/wsl/lib": null,
      "/usr/lib/x86_64-linux-gnu": [
        "libcuda.so",
        "libcuda.so.1",
        "libcuda.so.580.95.05",
        "libnvidia-ml.so.1",
        "libopenblas.so.0",
      ],
      "/usr/local/cuda/lib64": [
        "libcublas.so",
        "libcublas.so.13",
        "libcublas.so.13.0.0.19",
        "libcublasLt.so",
        "libcublasLt.so.13",
        "libcublasLt.so.13.0.0.19",
        "libcudart.so.13",
      ],
      "/usr/local/cuda/lib64/stubs": ["libcublas.so", "libcublasLt.so", "libcuda.so", "libnvidia-ml.so"],
      [cudaLib]: ["libcublas.so.13", "libcublasLt.so.13", "libcudart.so.13"],
    },
    cudaProbe: { run: probeOk("/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05", 13000, 13, cudaLib), skipped: null },
  };
}

/** Windows 11 + WSL2 Ubuntu 24.04 with an RTX 4090, Windows driver 576.88 (CUDA 12.9), CUDA 12 libraries. */
export function wslRtx4090(): Facts {
  const cudaLib = "/usr/local/cuda/targets/x86_64-linux/lib";
  const f: Facts = {
    ...common(),
    platform: {
      os: "linux",
      arch: "x64",
      kernel: "5.15.167.4-microsoft-standard-WSL2",
      hostname: "DESKTOP-7Q2KJ3M",
      osRelease: 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\n',
      procVersion: "Linux version 5.15.167.4-microsoft-standard-WSL2 (root@f9c826d3017f) (gcc (GCC) 11.2.0)",
      glibc: "2.39",
      wslVersionOutput: text("wsl-version.txt"),
    },
    env: { PATH: "/usr/local/cuda/bin:/usr/bin:/bin:/usr/lib/wsl/lib", CUDA_HOME: "/usr/local/cuda" },
    // WSLg: a PulseAudio socket, no ALSA sound cards.
    capture: {
      pulseServerEnv: null,
      wslgSocket: true,
      userPulseSocket: null,
      alsaCapture: null,
      ffmpegInputs: ["alsa", "lavfi", "pulse"],
    },
    nvidiaSmi: cmd("nvidia-smi --query-gpu=...", text("smi-rtx4090-wsl.csv")),
    nvidiaSmiBanner: cmd("nvidia-smi", text("smi-rtx4090-wsl-banner.txt")),
    ldconfig: cmd("ldconfig -p", text("ldconfig-wsl2.txt")),
    libDirs: {
      "/usr/lib/wsl/lib": ["libcuda.so", "libcuda.so.1", "libcuda.so.1.1", "libnvidia-ml.so.1"],
      "/usr/lib/x86_64-linux-gnu": ["libopenblas.so.0"],
      "/usr/local/cuda/lib64": ["libcublas.so.12", "libcublasLt.so.12", "libcudart.so.12"],
      "/usr/local/cuda/lib64/stubs": ["libcuda.so", "libcublas.so", "libcublasLt.so"],
      [cudaLib]: ["libcublas.so.12", "libcublasLt.so.12", "libcudart.so.12"],
    },
    ldSoConf: { "ld.wsl.conf": "/usr/lib/wsl/lib\n" },
    cudaProbe: { run: probeOk("/usr/lib/wsl/lib/libcuda.so.1.1", 12090, 12, cudaLib), skipped: null },
  };
  f.nvcc = {
    path: "/usr/local/cuda/bin/nvcc",
    version: cmd("nvcc --version", text("nvcc-12.4.txt")),
    archs: cmd("nvcc --list-gpu-arch", text("nvcc-12.4-archs.txt")),
  };
  return f;
}
