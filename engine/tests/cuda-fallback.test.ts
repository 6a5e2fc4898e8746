// The CUDA backend on a machine without a GPU (CI): its sources compile — the kernels too, where nvcc
// exists — and the one binary still starts, says once why it runs on the CPU, and refuses
// --backend cuda with exit 5 and the reason.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runEngine } from "../../toolkit/src/lib/engine.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";

interface Info {
  backends: string[];
  cuda_archs: string[];
  cuda: { available: boolean; reason: string | null };
}

const info = async (): Promise<Info> => JSON.parse((await runEngine(["--info"])).stdout) as Info;
const nvcc = spawnSync("sh", ["-c", "command -v nvcc || ls /usr/local/cuda/bin/nvcc"], {
  encoding: "utf8",
}).stdout.trim();
const fx = join(fixturesDir(), "tiny-real-windows");
const wav = join(fx, "test_speech.wav");

test("the CUDA host code is always built in; with nvcc the kernels are embedded for every default arch", {
  skip: nvcc ? false : "no nvcc on this machine: kernels not compiled",
}, async () => {
  const i = await info();
  assert.ok(i.backends.includes("cuda"));
  for (const a of ["sm_80", "sm_86", "sm_89", "sm_90"])
    assert.ok(i.cuda_archs.includes(a), `${a} embedded (${i.cuda_archs.join(",")})`);
});

test("without a GPU, --backend cuda is exit 5 with one line naming the reason", async (t) => {
  const i = await info();
  if (i.cuda.available) return t.skip("this machine has a working GPU");
  assert.ok(i.cuda.reason && i.cuda.reason.length > 10);
  const r = await runEngine(["-d", fx, "-i", wav, "--backend", "cuda"]);
  assert.equal(r.exitCode, 5);
  assert.equal(r.signal, null);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^voxtral: error: .+\. .+/);
});

test("without a GPU, --backend auto transcribes on the CPU and says why exactly once", async (t) => {
  const i = await info();
  if (i.cuda.available) return t.skip("this machine has a working GPU");
  const r = await runEngine(["-d", fx, "-i", wav, "--backend", "auto", "--json"]);
  assert.equal(r.failure, null, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { backend: string }).backend, "cpu");
  const notes = r.stderr.split("\n").filter((l) => l.startsWith("voxtral: note:"));
  assert.equal(notes.length, 1);
  assert.match(notes[0], /using the CPU backend because the CUDA backend did not start/);
  assert.ok(existsSync(wav));
});
