import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ccToSm,
  compareVersions,
  cudaIntToVersion,
  detectWsl,
  parseGpuArchList,
  parseLdconfig,
  parseNvccVersion,
  parseNvidiaSmi,
  parseSmiCudaVersion,
} from "../../../src/commands/doctor/parse.js";
import { archRunsOn } from "../../../src/lib/engine-info.js";
import { text } from "./scenarios.js";

test("nvidia-smi query CSV and banner", () => {
  const [g] = parseNvidiaSmi(text("smi-h100-linux.csv"));
  assert.deepEqual(g, {
    index: 0,
    name: "NVIDIA H100 80GB HBM3",
    uuid: "GPU-3f9a2c1e-7b4d-4e8a-9c61-2d5f8e0a1b7c",
    driver: "580.95.05",
    cc: "9.0",
    totalMb: 81559,
    freeMb: 81003,
    busId: "00000000:19:00.0",
  });
  assert.equal(parseSmiCudaVersion(text("smi-h100-banner.txt")), "13.0");
  assert.equal(parseSmiCudaVersion(text("smi-rtx4090-wsl-banner.txt")), "12.9");
  assert.throws(() => parseNvidiaSmi("0, only, three"), /unexpected nvidia-smi line/);
  assert.deepEqual(parseNvidiaSmi("\n"), []);
});

test("ldconfig -p entries keep cache order and flags", () => {
  const e = parseLdconfig(text("ldconfig-wsl2-shadowed.txt")).filter((x) => x.soname === "libcuda.so.1");
  assert.deepEqual(
    e.map((x) => x.path),
    ["/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"],
  );
  const native = parseLdconfig(text("ldconfig-linux-native.txt"));
  assert.equal(native.find((x) => x.soname === "libc.so.6")?.flags, "libc6,x86-64, OS ABI: Linux 3.2.0");
  assert.equal(native.length, 9);
});

test("nvcc version and architecture list", () => {
  assert.equal(parseNvccVersion(text("nvcc-13.0.txt")), "13.0");
  assert.equal(parseNvccVersion(text("nvcc-12.4.txt")), "12.4");
  assert.deepEqual(
    parseGpuArchList(text("nvcc-13.0-archs.txt")),
    [75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121],
  );
  assert.ok(!parseGpuArchList(text("nvcc-12.4-archs.txt")).includes(120));
});

test("versions, compute capabilities and SASS compatibility", () => {
  assert.equal(ccToSm("12.0"), 120);
  assert.equal(ccToSm("8.9"), 89);
  assert.equal(ccToSm("x"), null);
  assert.ok(compareVersions("13.0", "12.9") > 0);
  assert.equal(compareVersions("12.8", "12.8.0"), 0);
  assert.equal(cudaIntToVersion(12090), "12.9");
  assert.equal(cudaIntToVersion(13000), "13.0");
  assert.ok(archRunsOn("sm_80", 86));
  assert.ok(archRunsOn("sm_86", 89));
  assert.ok(!archRunsOn("sm_89", 86));
  assert.ok(!archRunsOn("sm_90", 120));
  assert.ok(archRunsOn("sm_90a", 90));
  assert.ok(!archRunsOn("sm_90a", 91));
});

test("WSL detection from the kernel release and wsl.exe --version", () => {
  assert.deepEqual(detectWsl("5.15.167.4-microsoft-standard-WSL2", null, text("wsl-version.txt")), {
    isWsl: true,
    generation: 2,
    version: "2.3.26.0",
  });
  assert.deepEqual(detectWsl("4.4.0-22621-Microsoft", null, null), { isWsl: true, generation: 1, version: null });
  assert.deepEqual(detectWsl("6.8.0-87-generic", "Linux version 6.8.0-87-generic", null), {
    isWsl: false,
    generation: null,
    version: null,
  });
});
