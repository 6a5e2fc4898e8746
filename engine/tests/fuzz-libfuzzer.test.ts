// The libFuzzer form of fuzz/fuzz_inputs.c (clang): built by `make -C engine build/fuzz_libfuzzer`, it
// runs from any folder (the fixture is found from the binary's path), keeps inputs on one target with
// VOX_FUZZ_TARGET, mixes libFuzzer's own mutations with the custom mutator, and leaves nothing behind
// (no file in the current folder, no /tmp folder, no work folder under engine/build/fuzz).
// Skipped with the reason when clang or its libFuzzer runtime is missing.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { packageRoot } from "../../toolkit/src/lib/paths.js";

const engine = join(packageRoot(), "engine");
const bin = join(engine, "build", "fuzz_libfuzzer");
const cwd = mkdtempSync(join(tmpdir(), "vox-libfuzzer-cwd-"));
after(() => rmSync(cwd, { recursive: true, force: true }));
const TARGETS = ["params", "tokenizer", "weights", "wav-file", "wav-stream"];

const build = spawnSync("make", ["-C", engine, "build/fuzz_libfuzzer"], { encoding: "utf8" });
const skip =
  build.status === 0
    ? false
    : `the libFuzzer target does not build here (clang with -fsanitize=fuzzer): ${(build.stderr || "")
        .trim()
        .split("\n")
        .at(-1)}`;

const tmpEntries = () => readdirSync(tmpdir()).filter((e) => e.startsWith("vox-libfuzzer-") && !cwd.endsWith(e));
const workDirs = () =>
  existsSync(join(engine, "build", "fuzz"))
    ? readdirSync(join(engine, "build", "fuzz")).filter((e) => e.startsWith("libfuzzer-") && !e.endsWith(".log"))
    : [];

for (const t of TARGETS) {
  test(`libFuzzer, target ${t}: 300 runs from a foreign folder, both mutation kinds, nothing left behind`, {
    skip,
  }, () => {
    const before = tmpEntries();
    const r = spawnSync(bin, ["-runs=300", "-max_len=1048576", "-timeout=20", "-seed=1"], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, VOX_FUZZ_TARGET: t },
    });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    assert.match(r.stderr, /Done 300 runs/);
    assert.match(r.stderr, /MS: \d+ [^\n]*Custom/, "the custom mutator ran");
    assert.match(
      r.stderr,
      /MS: \d+ [^\n]*(ChangeBit|ShuffleBytes|InsertByte|EraseBytes|CopyPart|ChangeByte|CrossOver)/,
      "libFuzzer's own mutations ran",
    );
    assert.deepEqual(readdirSync(cwd), [], "nothing written to the current folder");
    assert.deepEqual(tmpEntries(), before, "nothing left in the temporary folder");
    assert.deepEqual(workDirs(), [], "the work folder is removed at exit");
  });
}

test("libFuzzer: an unknown VOX_FUZZ_TARGET is refused with the list", { skip }, () => {
  const r = spawnSync(bin, ["-runs=1"], { cwd, encoding: "utf8", env: { ...process.env, VOX_FUZZ_TARGET: "nope" } });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown VOX_FUZZ_TARGET 'nope'\. Use params, tokenizer, weights, wav-file or wav-stream/);
});
