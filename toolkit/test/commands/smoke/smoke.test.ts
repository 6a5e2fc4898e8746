// `vox smoke` end to end with the real CPU engine on the default fixture, a CUDA request on a
// machine without one, and a crashing engine.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SmokeReport } from "../../../src/commands/smoke/run.js";
import { schemaErrors } from "../../../src/lib/report.js";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir } from "../../../src/lib/paths.js";
import { readWav } from "../../../src/lib/wav.js";
import { fakeEngine, report, SEGFAULT, tempDir, vox } from "../vox-cli.js";

test("every input path passes on the bundled fixture (ffmpeg skipped or passed)", async () => {
  const r = await vox(["smoke", "--backend", "cpu", "--csv"]);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const rep = report<SmokeReport>(r, "smoke-");
  assert.deepEqual(schemaErrors("smoke", rep), []);
  assert.deepEqual(
    rep.checks.map((c) => c.id),
    ["file", "stdin-pcm", "stdin-wav", "ffmpeg", "concurrent", "bad-input", "realtime"],
  );
  for (const c of rep.checks.filter((x) => x.id !== "ffmpeg")) assert.equal(c.status, "pass", `${c.id}: ${c.detail}`);
  assert.ok(rep.checks.find((c) => c.id === "file")!.timingsMs!.wall! > 0);
  assert.match(r.stdout, /6 passed|7 passed/);
  assert.match(rep.checks.find((c) => c.id === "realtime")!.detail, /same text and token count as the file run/);
});

test("asking for CUDA where the engine has none fails with the engine's reason", async (t) => {
  const r = await vox(["smoke", "--backend", "cuda", "--json"]);
  const rep = report<SmokeReport>(r, "smoke-");
  if (rep.environment.cuda.available) return t.skip("this machine has a working CUDA device");
  assert.equal(r.exitCode, 2);
  assert.match(rep.checks[0]!.detail, /backend\/device error \(exit 5\)/);
});

test("a crashing engine is reported per check, in words", async () => {
  const r = await vox(["smoke", "--backend", "cpu"], { VOX_ENGINE: fakeEngine(SEGFAULT) });
  assert.equal(r.exitCode, 2);
  const file = report<SmokeReport>(r, "smoke-").checks[0]!;
  assert.equal(file.status, "fail");
  assert.match(file.detail, /engine crashed: segmentation fault/);
});

test("the ffmpeg pipe feeds the engine's stdin (a stand-in ffmpeg that prints the fixture's PCM)", async () => {
  const dir = tempDir("vox-ffmpeg-");
  const pcm = readWav(join(fixturesDir(), "tiny-real-windows", "test_speech.wav")).samples;
  writeFileSync(join(dir, "speech.s16le"), Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  writeFileSync(join(dir, "ffmpeg"), `#!/bin/sh\nexec cat "${join(dir, "speech.s16le")}"\n`);
  chmodSync(join(dir, "ffmpeg"), 0o755);
  const r = await vox(["smoke", "--backend", "cpu", "--ogg", join(dir, "speech.s16le")], {
    PATH: `${dir}:${process.env.PATH ?? ""}`,
  });
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const ff = report<SmokeReport>(r, "smoke-").checks.find((c) => c.id === "ffmpeg")!;
  assert.equal(ff.status, "pass", ff.detail);
  assert.match(ff.detail, /^57 tokens on cpu/);
  assert.match(ff.command ?? "", /^ffmpeg -i .* \| .*--stdin/);
});
