// The serve-mode fuzzer (engine/fuzz/fuzz_serve.c) on every test run: `make -C engine fuzz-serve`
// builds it with ASan + UBSan and runs mutated frame sequences (types, ids, lengths, option JSON,
// dropped / duplicated / moved frames, byte noise) through the whole serve loop on the fixture
// model. A crash, a sanitizer report or an event out of contract fails it. Few inputs here (each
// one decodes audio); `make -C engine fuzz-serve FUZZ_SERVE_ITERATIONS=5000` for more.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { packageRoot } from "../../toolkit/src/lib/paths.js";

const ITERATIONS = 40;

test(`serve mode survives ${ITERATIONS} mutated frame sequences (make -C engine fuzz-serve)`, () => {
  const r = spawnSync(
    "make",
    ["-s", "-C", join(packageRoot(), "engine"), "fuzz-serve", `FUZZ_SERVE_ITERATIONS=${ITERATIONS}`, "FUZZ_SEED=1"],
    {
      encoding: "utf8",
      timeout: 300_000,
    },
  );
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.signal, null, `make fuzz-serve died from ${r.signal}:\n${out}`);
  assert.equal(r.status, 0, `make -C engine fuzz-serve failed:\n${out}`);
  const m = /fuzz_serve: (\d+) inputs, (\d+) failures, (\d+) served to the end/.exec(r.stdout);
  assert.ok(m, `no summary line in the fuzzer's output:\n${out}`);
  assert.equal(Number(m[1]), ITERATIONS, out);
  assert.equal(Number(m[2]), 0, out);
  // Both outcomes must occur: mutants that the framing refuses and mutants served to the end.
  assert.ok(Number(m[3]) > 0 && Number(m[3]) < ITERATIONS, `${m[3]} of ${ITERATIONS} served to the end\n${out}`);
});
