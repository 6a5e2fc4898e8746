// ensureWritableDir and writeFileAtomic: folders created level by level, unusable ones refused with
// OutputError (exit 73) before anything is written, and no partial or temporary file left behind.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { EXIT, OutputError } from "../../src/lib/errors.js";
import { ensureWritableDir, writeFileAtomic } from "../../src/lib/output.js";
import { tempDir } from "../commands/vox-cli.js";

test("ensureWritableDir creates missing levels and leaves no probe file", () => {
  const root = tempDir("vox-output-");
  const dir = ensureWritableDir(join(root, "a", "b", "c"), "report folder");
  assert.equal(dir, join(root, "a", "b", "c"));
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(ensureWritableDir(dir), dir, "an existing folder is fine");
});

test("ensureWritableDir refuses a file on the path, a missing folder when asked not to create, and /proc", () => {
  const root = tempDir("vox-output-");
  writeFileSync(join(root, "f"), "x");
  const cases: Array<[() => unknown, RegExp]> = [
    [
      () => ensureWritableDir(join(root, "f", "sub"), "--out-dir"),
      /--out-dir .*f\/sub cannot be created: .*\/f is a file, not a folder/,
    ],
    [() => ensureWritableDir(join(root, "f")), /is a file, not a folder/],
    [
      () => ensureWritableDir(join(root, "nope"), "--save-facts folder", false),
      /--save-facts folder .*nope does not exist/,
    ],
    [() => ensureWritableDir("/proc/vox-nope/x"), /cannot be created: \/proc\/vox-nope/],
  ];
  for (const [fn, msg] of cases) {
    assert.throws(
      fn,
      (e: unknown) => e instanceof OutputError && e.exitCode === EXIT.cannotWrite && msg.test(e.message),
    );
  }
  assert.deepEqual(readdirSync(root), ["f"], "nothing created on failure");
});

test("writeFileAtomic replaces the whole file, and a failed write leaves neither a partial nor a temporary file", () => {
  const root = tempDir("vox-output-");
  const p = join(root, "r.json");
  writeFileAtomic(p, "old");
  writeFileAtomic(p, "new content");
  assert.equal(readFileSync(p, "utf8"), "new content");
  assert.deepEqual(readdirSync(root), ["r.json"]);
  mkdirSync(join(root, "taken.json")); // rename over a folder fails after the temporary file is written
  assert.throws(
    () => writeFileAtomic(join(root, "taken.json"), "x"),
    (e: unknown) => e instanceof OutputError && /cannot write .*taken\.json/.test(e.message),
  );
  assert.deepEqual(readdirSync(root).sort(), ["r.json", "taken.json"]);
  assert.deepEqual(readdirSync(join(root, "taken.json")), []);
});
