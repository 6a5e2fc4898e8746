// The input-parser fuzzer (engine/fuzz/fuzz_inputs.c) on every test run: `make -C engine fuzz`
// builds it with ASan + UBSan and feeds mutated params.json, tekken.json, safetensors headers and
// WAV files / streams to the real loaders. A crash, a sanitizer report or a broken error contract
// fails it; the output names the seed and the kept input to reproduce with. Iterations are kept
// small here (a few seconds on a 2-core machine); `make -C engine fuzz FUZZ_ITERATIONS=100000` for more.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../toolkit/src/lib/paths.js";

const ITERATIONS = 1000;
const TARGETS = 5; // params, tokenizer, weights, wav-file, wav-stream

test(`input loaders survive ${ITERATIONS * TARGETS} mutated inputs (make -C engine fuzz)`, () => {
  const r = spawnSync(
    "make",
    ["-s", "-C", join(packageRoot(), "engine"), "fuzz", `FUZZ_ITERATIONS=${ITERATIONS}`, "FUZZ_SEED=1"],
    {
      encoding: "utf8",
      timeout: 180_000,
    },
  );
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.signal, null, `make fuzz died from ${r.signal}:\n${out}`);
  assert.equal(r.status, 0, `make -C engine fuzz failed:\n${out}`);
  const m = /fuzz: (\d+) inputs, (\d+) failures/.exec(r.stdout);
  assert.ok(m, `no summary line in the fuzzer's output:\n${out}`);
  assert.equal(Number(m[1]), ITERATIONS * TARGETS, out);
  assert.equal(Number(m[2]), 0, out);
  // Each target must both accept some mutants and reject others: otherwise the mutations miss
  // the loader (all rejected at the first byte) or never reach its checks (all accepted).
  const counts = /fuzz: accepted \/ tried:(.*)/.exec(r.stdout);
  assert.ok(counts, out);
  for (const [, name, ok, tried] of counts[1].matchAll(/ (\S+) (\d+)\/(\d+)/g)) {
    assert.ok(Number(ok) > 0 && Number(ok) < Number(tried), `target ${name}: ${ok} of ${tried} accepted\n${out}`);
  }
});
