// The real cuda-probe.c, compiled and run by the collector against fake driver libraries built
// here: a stub libcuda whose cuInit returns CUDA_ERROR_STUB_LIBRARY (34), like the toolkit's
// stubs/libcuda.so, and a working one with cuBLAS 12 next to it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runChecks } from "../../../src/commands/doctor/checks/index.js";
import { collectFacts, collectors } from "../../../src/commands/doctor/collect.js";
import { probe } from "../../../src/commands/doctor/derive.js";
import { which } from "../../../src/lib/exec.js";
import { trackedTempDir } from "../../../src/lib/cleanup.js";

const cc = which("cc") ?? which("gcc");

function sharedLib(dir: string, soname: string, source: string): void {
  const src = join(dir, `${soname}.c`);
  writeFileSync(src, source);
  const r = spawnSync(cc!, ["-shared", "-fPIC", "-o", join(dir, soname), src], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

function fakeDriver(initResult: number, driverVersion: number): string {
  const dir = trackedTempDir("vox-fakecuda-");
  sharedLib(
    dir,
    "libcuda.so.1",
    `
    int cuInit(unsigned f) { (void)f; return ${initResult}; }
    int cuDriverGetVersion(int *v) { *v = ${driverVersion}; return 0; }
    int cuDeviceGetCount(int *n) { *n = 1; return 0; }
    int cuGetErrorName(int e, const char **s) { *s = e == 34 ? "CUDA_ERROR_STUB_LIBRARY" : "CUDA_SUCCESS"; return 0; }`,
  );
  return dir;
}

async function probeWith(dir: string) {
  const env = { ...process.env, LD_LIBRARY_PATH: dir };
  const f = await collectFacts(
    { modelDir: "/nonexistent", env },
    { cudaProbe: collectors.cudaProbe!, libraries: collectors.libraries! },
  );
  return {
    f,
    libcuda: runChecks(f, "auto").find((c) => c.id === "libcuda")!,
    cublas: runChecks(f, "auto").find((c) => c.id === "cublas")!,
  };
}

test("a stub libcuda on LD_LIBRARY_PATH: the probe sees cuInit return 34", {
  skip: !cc && "no C compiler",
}, async () => {
  const dir = fakeDriver(34, 12040);
  const { f, libcuda } = await probeWith(dir);
  assert.deepEqual(f.collectorErrors, {});
  assert.equal(probe(f)?.libcuda.init, 34);
  assert.equal(libcuda.status, "fail");
  assert.match(
    libcuda.detail,
    new RegExp(`cuInit failed with 34 \\(CUDA_ERROR_STUB_LIBRARY.*using ${dir}/libcuda\\.so\\.1`),
  );
  assert.match(libcuda.detail, new RegExp(`libcuda\\.so\\.1 -> ${dir}/libcuda\\.so\\.1 \\(LD_LIBRARY_PATH\\)`));
});

test("a working driver and cuBLAS 12: versions come from cublas(Lt)GetProperty", {
  skip: !cc && "no C compiler",
}, async () => {
  const dir = fakeDriver(0, 12090);
  const prop = (fn: string) => `int ${fn}(int t, int *v) { *v = t == 0 ? 12 : t == 1 ? 9 : 1; return 0; }`;
  sharedLib(dir, "libcublasLt.so.12", prop("cublasLtGetProperty"));
  sharedLib(dir, "libcublas.so.12", prop("cublasGetProperty"));
  const { f, libcuda, cublas } = await probeWith(dir);
  assert.equal(probe(f)?.libcuda.driver_version, 12090);
  assert.match(libcuda.detail, /cuInit ok: .*driver supports CUDA 12\.9, 1 device/);
  assert.equal(cublas.status, "pass", cublas.detail);
  assert.match(cublas.detail, new RegExp(`libcublas\\.so\\.12 -> ${dir}/libcublas\\.so\\.12 \\(version 12\\.9\\.1\\)`));
});
