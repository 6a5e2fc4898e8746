// Captured fact sets -> the verdicts and fixes users see. Each test breaks one thing the way it
// breaks on real machines (see the issue: stub libcuda, shadowing driver, old driver, ...).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CHECKS, runChecks } from "../../../src/commands/doctor/checks/index.js";
import type { Check } from "../../../src/commands/doctor/checks/types.js";
import { collectModel } from "../../../src/commands/doctor/collect.js";
import { parseAlsaPcm, parseFfmpegDevices } from "../../../src/lib/capture.js";
import {
  ALL_PASS,
  cmd,
  engineInfoCmd,
  ldconfigWithout,
  linuxH100,
  probeOk,
  statuses,
  text,
  verdicts,
  wslRtx4090,
} from "./scenarios.js";

test("healthy Linux H100: every check passes, with the GPU's numbers", () => {
  const v = verdicts(linuxH100());
  assert.deepEqual(statuses(linuxH100()), ALL_PASS);
  assert.match(
    v.gpu!.detail,
    /GPU 0: NVIDIA H100 80GB HBM3, cc 9\.0, driver 580\.95\.05 \(CUDA 13\.0\), 81559 MiB total, 81003 MiB free/,
  );
  assert.match(v.libcuda!.detail, /libcuda\.so\.1 -> \/lib\/x86_64-linux-gnu\/libcuda\.so\.1 \(ldconfig cache\)/);
  assert.match(v.libcuda!.detail, /cuInit ok: .*driver supports CUDA 13\.0, 1 device/);
  assert.match(v.cublas!.detail, /libcublas\.so\.13 -> .*\(version 13\.0\.0\)/);
  assert.match(
    v.toolkit!.detail,
    /nvcc 13\.0 at \/usr\/local\/cuda\/bin\/nvcc; targets .*sm_90.*; driver supports CUDA 13\.0/,
  );
  assert.match(v.platform!.detail, /^Ubuntu 24\.04\.3 LTS, kernel 6\.8\.0-87-generic, x64, glibc 2\.39$/);
  for (const r of Object.values(v)) assert.equal(r.fix, null);
});

test("healthy WSL2 RTX 4090: passes; WSL version and the /usr/lib/wsl/lib driver are shown", () => {
  const v = verdicts(wslRtx4090());
  assert.deepEqual(statuses(wslRtx4090()), ALL_PASS);
  assert.match(v.platform!.detail, /WSL2 \(WSL 2\.3\.26\.0\)/);
  assert.match(v.libcuda!.detail, /libcuda\.so\.1 -> \/usr\/lib\/wsl\/lib\/libcuda\.so\.1 \(ldconfig cache\)/);
  assert.match(v.gpu!.detail, /RTX 4090, cc 8\.9, driver 576\.88 \(CUDA 12\.9\)/);
});

test("no nvidia-smi: gpu fails; the fix depends on WSL2 vs Linux", () => {
  const linux = linuxH100();
  linux.nvidiaSmi = null;
  linux.nvidiaSmiBanner = null;
  const g = verdicts(linux).gpu!;
  assert.equal(g.status, "fail");
  assert.match(g.detail, /nvidia-smi not found/);
  assert.match(g.fix!, /ubuntu-drivers install/);
  const w = wslRtx4090();
  w.nvidiaSmi = null;
  assert.match(verdicts(w).gpu!.fix!, /driver on Windows \(not inside WSL\).*wsl --shutdown/);
});

test("nvidia-smi failing or hanging is reported with its own message", () => {
  const f = linuxH100();
  f.nvidiaSmi = cmd("nvidia-smi", text("smi-failing.txt"), 9);
  const g = verdicts(f).gpu!;
  assert.equal(g.status, "fail");
  assert.match(
    g.detail,
    /nvidia-smi failed \(exit 9\): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/,
  );
  f.nvidiaSmi = cmd("nvidia-smi", "", null, { timedOut: true, error: "timed out after 15000 ms" });
  assert.match(verdicts(f).gpu!.detail, /did not answer \(timed out\): the driver is hung/);
});

test("WSL2: the toolkit's stubs/libcuda.so on LD_LIBRARY_PATH -> CUDA_ERROR_STUB_LIBRARY (34), fix names the folder", () => {
  const f = wslRtx4090();
  f.env.LD_LIBRARY_PATH = "/usr/local/cuda/lib64/stubs:/usr/local/cuda/lib64";
  f.cudaProbe.run = cmd(
    "cuda-probe",
    JSON.stringify({
      libcuda: {
        path: "/usr/local/cuda-12.4/targets/x86_64-linux/lib/stubs/libcuda.so",
        init: 34,
        init_name: "CUDA_ERROR_STUB_LIBRARY",
        driver_version: 12040,
        devices: 0,
      },
      cublas: {},
      cublasLt: {},
    }),
  );
  const v = verdicts(f).libcuda!;
  assert.equal(v.status, "fail");
  assert.match(
    v.detail,
    /LD_LIBRARY_PATH contains \/usr\/local\/cuda\/lib64\/stubs, whose libcuda\.so is the toolkit's stub \(CUDA_ERROR_STUB_LIBRARY, 34\)/,
  );
  assert.match(v.detail, /cuInit failed with 34 \(CUDA_ERROR_STUB_LIBRARY/);
  assert.match(v.fix!, /Remove \/usr\/local\/cuda\/lib64\/stubs from LD_LIBRARY_PATH/);
});

test("WSL2: a stub in the loader cache is caught from ldconfig alone", () => {
  const f = wslRtx4090();
  f.ldconfig = cmd("ldconfig -p", text("ldconfig-wsl2-stub.txt"));
  const v = verdicts(f).libcuda!;
  assert.equal(v.status, "fail");
  assert.match(
    v.detail,
    /loader cache lists the stub \/usr\/local\/cuda\/targets\/x86_64-linux\/lib\/stubs\/libcuda\.so/,
  );
  assert.match(v.fix!, /Remove \/usr\/local\/cuda\/targets\/x86_64-linux\/lib\/stubs/);
});

test("WSL2: a native Linux libcuda shadowing /usr/lib/wsl/lib fails with the purge command", () => {
  const f = wslRtx4090();
  f.ldconfig = cmd("ldconfig -p", text("ldconfig-wsl2-shadowed.txt"));
  const v = verdicts(f).libcuda!;
  assert.equal(v.status, "fail");
  assert.match(
    v.detail,
    /native Linux libcuda \(\/lib\/x86_64-linux-gnu\/libcuda\.so\.1\) comes before \/usr\/lib\/wsl\/lib\/libcuda\.so\.1.*shadows the WSL driver/,
  );
  assert.match(v.fix!, /apt-get remove --purge 'libnvidia-compute-\*'/);
  assert.match(v.detail, /libcuda\.so\.1 -> \/lib\/x86_64-linux-gnu\/libcuda\.so\.1 \(ldconfig cache\)/);
});

test("WSL2: /usr/lib/wsl/lib missing from the loader cache, or missing altogether", () => {
  const f = wslRtx4090();
  f.ldconfig = cmd("ldconfig -p", text("ldconfig-wsl2-nocache.txt"));
  const v = verdicts(f).libcuda!;
  assert.equal(v.status, "fail");
  assert.match(v.detail, /\/usr\/lib\/wsl\/lib is neither in the loader cache \(ldconfig -p\) nor in LD_LIBRARY_PATH/);
  assert.match(v.fix!, /echo \/usr\/lib\/wsl\/lib \| sudo tee \/etc\/ld\.so\.conf\.d\/ld\.wsl\.conf && sudo ldconfig/);
  // ... which LD_LIBRARY_PATH also cures.
  f.env.LD_LIBRARY_PATH = "/usr/lib/wsl/lib";
  assert.equal(verdicts(f).libcuda!.status, "pass");
  const g = wslRtx4090();
  g.libDirs["/usr/lib/wsl/lib"] = null;
  assert.match(
    verdicts(g).libcuda!.detail,
    /\/usr\/lib\/wsl\/lib does not exist: the Windows NVIDIA driver is not exposed to WSL/,
  );
});

test("WSL1 has no GPU", () => {
  const f = wslRtx4090();
  f.platform.kernel = "4.4.0-22621-Microsoft";
  f.platform.procVersion = "Linux version 4.4.0-22621-Microsoft (Microsoft@Microsoft.com)";
  const v = verdicts(f).platform!;
  assert.equal(v.status, "fail");
  assert.match(v.fix!, /wsl --set-version <distro> 2/);
});

test("driver too old for the CUDA 13 toolkit and cuBLAS 13 (error 35)", () => {
  const f = wslRtx4090(); // driver supports CUDA 12.9
  f.nvcc.version = cmd("nvcc --version", text("nvcc-13.0.txt"));
  f.nvcc.archs = cmd("nvcc --list-gpu-arch", text("nvcc-13.0-archs.txt"));
  f.cudaProbe.run = probeOk("/usr/lib/wsl/lib/libcuda.so.1.1", 12090, 13, "/usr/local/cuda/lib64");
  const v = verdicts(f);
  assert.equal(v.toolkit!.status, "fail");
  assert.match(
    v.toolkit!.detail,
    /nvcc 13\.0 is newer than the CUDA 12\.9 this driver supports.*cudaErrorInsufficientDriver 35/,
  );
  assert.match(v.toolkit!.fix!, /R580 or newer; on WSL2 update the Windows driver/);
  assert.equal(v.cublas!.status, "fail");
  assert.match(v.cublas!.detail, /cuBLAS 13 needs a driver supporting CUDA 13\.0, this driver supports CUDA 12\.9/);
});

test("libcublas missing: on disk but off the loader path -> LD_LIBRARY_PATH fix; absent -> install fix", () => {
  const f = linuxH100();
  const err = { error: "libcublas.so.12: cannot open shared object file: No such file or directory" };
  f.cudaProbe.run = cmd(
    "cuda-probe",
    JSON.stringify({
      libcuda: { path: "/usr/lib/x86_64-linux-gnu/libcuda.so.580.95.05", init: 0, driver_version: 13000, devices: 1 },
      cublas: err,
      cublasLt: err,
    }),
  );
  f.ldconfig = ldconfigWithout("cublas");
  let v = verdicts(f).cublas!;
  assert.equal(v.status, "fail");
  assert.match(
    v.detail,
    /libcublas\.so\.13 \/ \.so\.12 cannot be loaded \(libcublas\.so\.12: cannot open.*present in \/usr\/local\/cuda\/lib64/,
  );
  assert.match(v.fix!, /export LD_LIBRARY_PATH=\/usr\/local\/cuda\/lib64:\$LD_LIBRARY_PATH/);
  for (const d of Object.keys(f.libDirs)) f.libDirs[d] = f.libDirs[d]?.filter((n) => !n.includes("cublas")) ?? null;
  v = verdicts(f).cublas!;
  assert.match(v.fix!, /sudo apt-get install libcublas-13-0/);
});

test("nvcc 12.4 cannot target an RTX 5090 (sm_120); nor can an engine built for sm_80/sm_90", () => {
  const f = linuxH100();
  f.nvidiaSmi = cmd("nvidia-smi --query-gpu=...", text("smi-rtx5090-lowmem.csv").replace("6120", "30000"));
  f.nvcc.version = cmd("nvcc --version", text("nvcc-12.4.txt"));
  f.nvcc.archs = cmd("nvcc --list-gpu-arch", text("nvcc-12.4-archs.txt"));
  f.engine.info = engineInfoCmd(["cpu", "cuda"], ["sm_80", "sm_90"]);
  const v = verdicts(f);
  assert.equal(v.toolkit!.status, "fail");
  assert.match(
    v.toolkit!.detail,
    /nvcc 12\.4 cannot build for GPU 0 \(NVIDIA GeForce RTX 5090, sm_120\): that needs CUDA 12\.8 or newer/,
  );
  assert.match(v.toolkit!.fix!, /cuda-toolkit-13-0/);
  assert.equal(v.engine!.status, "fail");
  assert.match(
    v.engine!.detail,
    /no embedded kernel runs on GPU 0 \(NVIDIA GeForce RTX 5090, sm_120\); embedded: sm_80, sm_90/,
  );
  assert.match(v.engine!.fix!, /npx vox build --backend cuda --arch 120/);
});

test("SASS compatibility: sm_86 runs on an RTX 4090 (8.9); an engine without CUDA on a GPU box fails", () => {
  const f = wslRtx4090();
  f.engine.info = engineInfoCmd(["cpu", "cuda"], ["sm_86"]);
  assert.equal(verdicts(f).engine!.status, "pass");
  f.engine.info = engineInfoCmd(["cpu"], []);
  const v = verdicts(f).engine!;
  assert.equal(v.status, "fail");
  assert.match(v.detail, /built without the CUDA backend/);
  assert.equal(verdicts(f, "cpu").engine!.status, "pass");
});

test("too little VRAM for the real model: the numbers are shown", () => {
  const f = linuxH100();
  f.nvidiaSmi = cmd("nvidia-smi --query-gpu=...", text("smi-rtx5090-lowmem.csv"));
  f.model = collectModel("/nonexistent/voxtral-model");
  const v = verdicts(f).gpu!;
  assert.equal(v.status, "fail");
  assert.match(
    v.detail,
    /too little GPU memory: GPU 0 has 6120 MiB free, model needs 9281 MiB \(weights 8449 MiB \+ KV cache 832 MiB, the real 4B model\)/,
  );
  assert.match(v.fix!, /at least 11 GiB free/);
});

test("a second GPU that fits is suggested with CUDA_VISIBLE_DEVICES", () => {
  const f = linuxH100();
  f.model = collectModel("/nonexistent/voxtral-model");
  f.nvidiaSmi = cmd(
    "nvidia-smi --query-gpu=...",
    `${text("smi-rtx5090-lowmem.csv").trim()}\n${text("smi-h100-linux.csv").replace(/^0,/, "1,")}`,
  );
  const v = verdicts(f).gpu!;
  assert.equal(v.status, "warn");
  assert.match(v.fix!, /export CUDA_VISIBLE_DEVICES=1/);
});

test("native Linux without a driver: libcuda fails with the install hint", () => {
  const f = linuxH100();
  f.ldconfig = ldconfigWithout("libcuda");
  f.cudaProbe.run = cmd(
    "cuda-probe",
    JSON.stringify({
      libcuda: { error: "libcuda.so.1: cannot open shared object file: No such file or directory" },
      cublas: {},
      cublasLt: {},
    }),
  );
  const v = verdicts(f).libcuda!;
  assert.equal(v.status, "fail");
  assert.match(v.detail, /no NVIDIA driver is installed/);
});

test("cpu build tools: missing pieces fail before the engine is built, warn after", () => {
  const f = linuxH100();
  f.cc = { path: null, version: null };
  f.openblas = { pkgConfig: null, headers: [] };
  f.ldconfig = cmd("ldconfig -p", text("ldconfig-linux-native.txt").replace(/.*openblas.*\n/, ""));
  let v = verdicts(f).cpu!;
  assert.equal(v.status, "warn");
  assert.match(v.detail, /no C compiler.*already built/);
  f.engine = { path: "/x/voxtral", exists: false, info: null };
  v = verdicts(f).cpu!;
  assert.equal(v.status, "fail");
  assert.match(v.detail, /OpenBLAS headers \(cblas\.h\) not found/);
  assert.match(v.fix!, /libopenblas-dev/);
  assert.match(verdicts(f).engine!.fix!, /make -C engine/);
});

test("ffmpeg missing is a warning with the install command", () => {
  const f = linuxH100();
  f.ffmpeg = { path: null, version: null };
  const v = verdicts(f).ffmpeg!;
  assert.equal(v.status, "warn");
  assert.equal(v.fix, "sudo apt-get install ffmpeg");
});

test("capture: WSLg's PulseAudio, a desktop's PulseAudio, ALSA; none is a warning with the fix", () => {
  const wsl = verdicts(wslRtx4090()).capture!;
  assert.equal(wsl.status, "pass");
  assert.match(wsl.detail, /PulseAudio unix:\/mnt\/wslg\/PulseServer, source default/);
  const linux = linuxH100();
  assert.match(verdicts(linux).capture!.detail, /PulseAudio unix:\/run\/user\/1000\/pulse\/native/);
  // An ffmpeg without the pulse input falls back to ALSA when there is a capture card.
  linux.capture = { ...linux.capture!, ffmpegInputs: ["alsa", "lavfi"] };
  assert.match(verdicts(linux).capture!.detail, /ALSA device default \(00-00: ALC887-VD Analog\)/);
  // ... and warns when there is none.
  linux.capture = { ...linux.capture, alsaCapture: [] };
  let v = verdicts(linux).capture!;
  assert.equal(v.status, "warn");
  assert.match(v.detail, /no pulse input/);
  linux.capture = {
    pulseServerEnv: null,
    wslgSocket: false,
    userPulseSocket: null,
    alsaCapture: null,
    ffmpegInputs: ["alsa", "pulse"],
  };
  v = verdicts(linux).capture!;
  assert.equal(v.status, "warn");
  assert.match(v.detail, /^no capture device: .*only files can be transcribed/);
  assert.match(v.fix!, /wsl --update/);
  linux.capture = { ...linux.capture, ffmpegInputs: null };
  assert.match(verdicts(linux).capture!.fix!, /sudo apt-get install ffmpeg/);
  // Every other check is untouched by capture facts.
  assert.deepEqual({ ...statuses(linux), capture: "pass" }, ALL_PASS);
  delete linux.capture;
  assert.equal(verdicts(linux).capture!.status, "skip");
});

test("capture facts are parsed from /proc/asound/pcm and ffmpeg -devices", () => {
  const pcm =
    "00-00: ALC887-VD Analog : ALC887-VD Analog : playback 1 : capture 1\n00-01: ALC887-VD Digital : ALC887-VD Digital : playback 1\n01-03: HDMI 0 : HDMI 0 : playback 1\n";
  assert.deepEqual(parseAlsaPcm(pcm), ["00-00: ALC887-VD Analog"]);
  const devices =
    "Devices:\n D. = Demuxing supported\n .E = Muxing supported\n --\n DE alsa            ALSA audio output\n  E caca            caca\n D  lavfi           Libavfilter virtual input device\n DE pulse           Pulse audio output\n  E sdl,sdl2        SDL2 output device\n DE video4linux2,v4l2 Video4Linux2\n";
  assert.deepEqual(parseFfmpegDevices(devices), ["alsa", "lavfi", "pulse", "video4linux2", "v4l2"]);
});

test("--backend cpu skips the CUDA checks", () => {
  const f = linuxH100();
  f.nvidiaSmi = null;
  assert.deepEqual(statuses(f, "cpu"), { ...ALL_PASS, gpu: "skip", libcuda: "skip", cublas: "skip", toolkit: "skip" });
});

test("a check that throws is reported as failed and the others still run", () => {
  const boom: Check = {
    id: "boom" as Check["id"],
    title: "Boom",
    needs: "any",
    run: () => {
      throw new Error("kaboom");
    },
  };
  const r = runChecks(linuxH100(), "auto", [boom, ...CHECKS]);
  assert.equal(r.length, CHECKS.length + 1);
  assert.equal(r[0]!.status, "fail");
  assert.match(r[0]!.detail, /the boom check itself failed: kaboom/);
  assert.ok(r.slice(1).every((c) => c.status === "pass"));
  // Unparsable nvidia-smi output crashes only the checks that read it.
  const f = linuxH100();
  f.nvidiaSmi = cmd("nvidia-smi", "garbage line\n");
  const v = verdicts(f);
  assert.match(v.gpu!.detail, /the gpu check itself failed: unexpected nvidia-smi line/);
  assert.equal(v.model!.status, "pass");
});

test("a collector that failed makes the checks it feeds fail with the reason", () => {
  const f = linuxH100();
  f.collectorErrors = { gpu: "collector gpu timed out after 20000 ms" };
  const v = verdicts(f);
  assert.equal(v.gpu!.status, "fail");
  assert.match(v.gpu!.detail, /facts incomplete: collector gpu timed out after 20000 ms/);
  assert.equal(v.cublas!.status, "pass");
});

test("cuBLAS found only at the engine's fixed fallback path is noted (other programs may miss it)", () => {
  const f = linuxH100();
  const probeOut = JSON.parse(f.cudaProbe.run!.stdout);
  probeOut.cublas.opened = "/usr/local/cuda/lib64/libcublas.so.13";
  f.cudaProbe.run!.stdout = JSON.stringify(probeOut);
  const v = verdicts(f).cublas!;
  assert.equal(v.status, "pass");
  assert.match(
    v.detail,
    /found at the fixed path \/usr\/local\/cuda\/lib64\/libcublas\.so\.13, not through the loader cache \(sudo ldconfig registers it\)/,
  );
});
