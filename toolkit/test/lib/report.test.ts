// The report writer: validation before writing, file names, CSV and extra views; and the shared
// environment block built from captured facts (an H200 machine's nvidia-smi and engine --info).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { buildEnvironment, type RawFacts } from "../../src/lib/environment.js";
import { SchemaError } from "../../src/lib/errors.js";
import { fileStamp, reportHeader, schemaErrors, writeReport } from "../../src/lib/report.js";
import { trackedTempDir } from "../../src/lib/cleanup.js";

const H200_INFO = {
  engine: "voxtral",
  version: "0.1.0",
  commit: "395f593f962f",
  backends: ["cpu", "cuda"],
  cuda_archs: ["sm_90"],
  blas: "OpenBLAS 0.3.26",
  cuda: {
    available: true,
    reason: null,
    libcuda: "/usr/local/nvidia/lib64/libcuda.so.580.159.04",
    driver_version: 13000,
    libcublas: "/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublas.so.13.1.0.3",
    libcublasLt: "/usr/local/cuda-13.0/targets/x86_64-linux/lib/libcublasLt.so.13.1.0.3",
    cublas_version: 130100,
    devices: [{ index: 0, name: "NVIDIA H200", cc: "9.0", total_mb: 143155, free_mb: 142629 }],
  },
};

function facts(over: Partial<RawFacts> = {}): RawFacts {
  return {
    info: H200_INFO,
    infoError: null,
    enginePath: "/x/voxtral",
    smiCsv: "0, NVIDIA H200, 580.159.04, 9.0, 143771\n",
    smiBanner: "| NVIDIA-SMI 580.159.04   Driver Version: 580.159.04   CUDA Version: 13.0 |",
    nvccVersion: "13.0",
    toolkitVersion: "0.1.0",
    toolkitCommit: "abc",
    procVersion: "Linux version 6.8.0 (buildd@lcy02) #1 SMP",
    osRelease: 'PRETTY_NAME="Ubuntu 24.04.2 LTS"\nNAME="Ubuntu"\n',
    ...over,
  };
}

test("environment from captured facts: GPU, driver, CUDA, engine, OS; valid against its schema", () => {
  const e = buildEnvironment(facts());
  assert.deepEqual(e.gpus, [{ index: 0, name: "NVIDIA H200", computeCapability: "9.0", totalMb: 143771 }]);
  assert.deepEqual(e.driver, { version: "580.159.04", cudaVersion: "13.0" });
  assert.equal(e.cuda.cublasVersion, 130100);
  assert.equal(e.engine.commit, "395f593f962f");
  assert.equal(e.os.distro, "Ubuntu 24.04.2 LTS");
  assert.equal(e.os.wsl, null);
  assert.match(e.host, /^[0-9a-f]{8}$/);
  assert.deepEqual(schemaErrors("environment", e), []);
});

test("no engine and no nvidia-smi still give a valid block, the reason in words; WSL2 detected", () => {
  const e = buildEnvironment(
    facts({
      info: null,
      infoError: "engine not built",
      smiCsv: null,
      smiBanner: null,
      procVersion: "Linux version 5.15.167.4-microsoft-standard-WSL2",
    }),
  );
  assert.equal(e.engine.available, false);
  assert.equal(e.engine.error, "engine not built");
  assert.deepEqual(e.gpus, []);
  assert.equal(e.os.wsl, 2);
  assert.deepEqual(schemaErrors("environment", e), []);
});

test("reportHeader: version, kind, time (under the report's own name) and environment, in that order", () => {
  const env = buildEnvironment(facts());
  const now = new Date("2026-11-21T23:00:00.123Z");
  const at = "2026-11-21T23:00:00.123Z";
  const cases: Array<[object, Array<[string, unknown]>]> = [
    [
      reportHeader("gate", env, { now }),
      [
        ["schemaVersion", 1],
        ["kind", "gate"],
        ["createdAt", at],
        ["environment", env],
      ],
    ],
    [
      reportHeader("doctor", env, { now, timeKey: "generatedAt" }),
      [
        ["schemaVersion", 1],
        ["kind", "doctor"],
        ["generatedAt", at],
        ["environment", env],
      ],
    ],
    [
      reportHeader("compare", null, { now }),
      [
        ["schemaVersion", 1],
        ["kind", "compare"],
        ["createdAt", at],
      ],
    ],
    [
      reportHeader("build-info", null, { now, timeKey: "builtAt" }),
      [
        ["schemaVersion", 1],
        ["kind", "build-info"],
        ["builtAt", at],
      ],
    ],
  ];
  for (const [header, entries] of cases) assert.deepEqual(Object.entries(header), entries);
});

test("writeReport validates first: an invalid report is a SchemaError and nothing is written", () => {
  const dir = trackedTempDir("vox-report-");
  assert.throws(
    () => writeReport("gate", { kind: "gate" }, { command: "gate", outDir: dir }),
    (e: unknown) => e instanceof SchemaError && /must have required property/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), []);
});

test("JSON, CSV and extras are written; a second report in the same second gets -2", () => {
  const dir = trackedTempDir("vox-report-");
  const env = buildEnvironment(facts());
  const data = {
    schemaVersion: 1,
    kind: "gate",
    createdAt: "2026-11-21T23:00:00Z",
    environment: env,
    config: "c",
    candidateOverride: null,
    stages: [],
    summary: { passed: 0, failed: 0, skipped: 0 },
    status: "fail",
  };
  const now = new Date("2026-11-21T23:00:00.123Z");
  const opts = {
    command: "gate",
    outDir: dir,
    csv: true,
    now,
    rows: () => [{ a: 1, b: "x,y" }],
    extra: { md: () => "# hi\n" },
  };
  const w1 = writeReport("gate", data, opts);
  const w2 = writeReport("gate", data, opts);
  assert.equal(w1.json, join(dir, `gate-${fileStamp(now)}.json`));
  assert.equal(fileStamp(now), "2026-11-21T23-00-00Z");
  assert.equal(w2.json, join(dir, "gate-2026-11-21T23-00-00Z-2.json"));
  assert.equal(readFileSync(w1.csv!, "utf8"), 'a,b\n1,"x,y"\n');
  assert.equal(readFileSync(w1.extra.md!, "utf8"), "# hi\n");
  assert.ok(existsSync(w2.json));
});
