// `voxtral --bench-copy`: the copy-bandwidth probe vox-bench divides decoder speed by.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runEngine } from "../../toolkit/src/lib/engine.js";

test("--bench-copy on the CPU prints one JSON object with a positive bandwidth", async () => {
  const r = await runEngine(["--bench-copy", "64", "--backend", "cpu"]);
  assert.equal(r.failure, null, r.stderr);
  const j = JSON.parse(r.stdout) as {
    backend: string;
    bytes: number;
    iterations: number;
    ms_median: number;
    copy_gbps: number;
  };
  assert.equal(j.backend, "cpu");
  assert.equal(j.bytes, 64 * 2 ** 20);
  assert.equal(j.iterations, 20);
  assert.ok(j.ms_median > 0 && j.copy_gbps > 0);
  // read + written bytes over the median time
  assert.ok(Math.abs(j.copy_gbps - (2 * j.bytes) / (j.ms_median * 1e6)) / j.copy_gbps < 0.01);
});

test("--bench-copy refuses a bad size and an unavailable backend in one line", async () => {
  const bad = await runEngine(["--bench-copy", "0"]);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /^voxtral: error: --bench-copy needs an integer from 1 to 65536/);
  const info = JSON.parse((await runEngine(["--info"])).stdout) as { cuda: { available: boolean } };
  if (!info.cuda.available) {
    const cuda = await runEngine(["--bench-copy", "8", "--backend", "cuda"]);
    assert.equal(cuda.exitCode, 5);
    assert.equal(cuda.stderr.trim().split("\n").length, 1);
  }
});
