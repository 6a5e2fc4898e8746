// The engine's C unit tests of its input side (engine/tests/test_io.c: JSON, params.json,
// safetensors validation, tekken.json, WAV / raw PCM, resampler, .npy, synthetic writer),
// built and run through `make -C engine test`, which also runs engine/tests/test_resample.c and
// engine/tests/test_heap.c (the CUDA backend's device heap on a fake driver).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../toolkit/src/lib/paths.js";

test("engine I/O unit tests (make -C engine test)", () => {
  const r = spawnSync("make", ["-s", "-C", join(packageRoot(), "engine"), "test"], {
    encoding: "utf8",
    timeout: 300_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.signal, null, `test_io died from ${r.signal}:\n${out}`);
  assert.equal(r.status, 0, `make -C engine test failed:\n${out}`);
  assert.match(r.stdout, /test_io: \d+ passed, 0 failed/, out);
  // tests/test_resample.c: the resampler as a filter (THD+N, pass band, stop band; a quarter-length filter fails).
  assert.match(r.stdout, /test_resample: the engine's filter meets the limits; a quarter-length one does not/, out);
  // tests/test_heap.c: reuse without driver calls, chunks, a full device, VOX_CUDA_HEAP=0, a random run.
  assert.match(r.stdout, /test_heap: \d+ passed, 0 failed/, out);
});
