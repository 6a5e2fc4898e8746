// Ctrl-C during a bench: the clip folder it made in $TMPDIR is removed and the exit code is 130.
import assert from "node:assert/strict";
import { execa } from "execa";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fixturesDir, packageRoot } from "../../../src/lib/paths.js";
import { fakeEngine, tempDir } from "../vox-cli.js";

test("vox-bench interrupted while the engine runs leaves nothing in $TMPDIR", async () => {
  const work = tempDir("vox-bench-int-");
  const tmp = join(work, "tmp");
  mkdirSync(tmp);
  const engine = fakeEngine("sleep 20"); // any run but --info hangs
  const bin = join(packageRoot(), "dist", "toolkit", "src", "bin", "vox-bench.js");
  const child = execa(
    process.execPath,
    [bin, "--model", join(fixturesDir(), "tiny-real-windows"), "--backend", "cpu", "--seconds", "1,2"],
    {
      reject: false,
      env: { TMPDIR: tmp, VOX_ENGINE: engine, VOX_REPORTS_DIR: join(work, "reports") },
    },
  );
  const clips = () => readdirSync(tmp).filter((d) => d.startsWith("vox-bench-"));
  let exited = false;
  void child.finally(() => {
    exited = true;
  });
  while (!exited && !(clips().length === 1 && existsSync(join(tmp, clips()[0]!, "clip-2s.wav")))) await sleep(50);
  assert.equal(exited, false, "the bench ended before it was interrupted");
  child.kill("SIGINT");
  const r = await child;
  assert.equal(r.exitCode, 130, String(r.stderr));
  assert.deepEqual(readdirSync(tmp), [], "the clip folder is removed");
  assert.deepEqual(readdirSync(join(work, "reports")), [], "no report for an interrupted run");
});
