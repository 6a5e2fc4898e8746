// The on-demand engine build under its lock, on a fresh copy of the package (sources, no engine
// binary): two `vox transcribe` started at once both succeed and make runs once; a lock left by a
// killed run is taken over; a live holder is waited for.
import assert from "node:assert/strict";
import { execa } from "execa";
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildLockPath } from "../../src/lib/build-lock.js";
import { packageRoot } from "../../src/lib/paths.js";
import { tempDir } from "../commands/vox-cli.js";

const root = packageRoot();
const copy = join(tempDir("vox-fresh-clone-"), "vox");
mkdirSync(copy);
for (const p of ["package.json", "dist", "checks"]) cpSync(join(root, p), join(copy, p), { recursive: true });
cpSync(join(root, "engine"), join(copy, "engine"), {
  recursive: true,
  filter: (src) => !src.startsWith(join(root, "engine", "build")),
});
symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
const vox = join(copy, "dist", "toolkit", "src", "bin", "vox.js");
const env = { VOX_ENGINE: "", VOX_COMMIT: "testcopy" };
const transcribe = () =>
  execa(process.execPath, [vox, "transcribe", "--backend", "cpu"], {
    reject: false,
    env,
    cwd: copy,
    timeout: 15 * 60_000,
  });

describe("engine build on demand", () => {
  it("two transcriptions at once on a fresh copy: both succeed, the engine is built once", async () => {
    assert.equal(existsSync(join(copy, "engine", "build", "voxtral")), false);
    const [a, b] = await Promise.all([transcribe(), transcribe()]);
    for (const r of [a, b]) assert.equal(r.exitCode, 0, String(r.stderr));
    const builds = [a, b].filter((r) => /building it now with make -C engine/.test(String(r.stderr)));
    assert.equal(builds.length, 1, `exactly one process builds:\n${a.stderr}\n---\n${b.stderr}`);
    assert.equal(a.stdout, b.stdout, "the same transcript");
    assert.equal(existsSync(buildLockPath(copy)), false, "the lock is released");
  });

  it("a stale lock (its process is gone) is taken over; nothing is rebuilt", async () => {
    const dead = await execa(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    writeFileSync(buildLockPath(copy), `${dead.stdout}\n`);
    const r = await transcribe();
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.doesNotMatch(String(r.stderr), /building|waiting/);
    assert.equal(existsSync(buildLockPath(copy)), false);
  });

  it("a live holder is waited for, then its binary used", async () => {
    writeFileSync(buildLockPath(copy), `${process.pid}\n`); // this test process: alive
    const child = transcribe();
    let seen = "";
    await new Promise<void>((done) => {
      child.stderr!.on("data", (d: Buffer) => {
        seen += d.toString();
        if (/another vox process is building the engine; waiting/.test(seen)) done();
      });
    });
    rmSync(buildLockPath(copy)); // the holder is done
    const r = await child;
    assert.equal(r.exitCode, 0, String(r.stderr));
  });
});
