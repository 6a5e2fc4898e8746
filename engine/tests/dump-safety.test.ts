// --dump never leaves a file that looks complete but is not: the folder is proved writable before any
// work (a read-only folder fails before the model is even looked at), every file is written under a
// temporary name and renamed when complete, and when one fails (a full disk, a name taken by a folder)
// the files of this run are removed, no temporary file remains, and the message names the reason.
// The transcription itself is not lost: the result is printed before the dumps are written.
// Full and read-only disks are small tmpfs mounts (needs root; skipped with the reason otherwise).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseEngineJson, runEngine } from "../../toolkit/src/lib/engine.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";

const dir = join(fixturesDir(), "tiny-delay");
const base = ["-d", dir, "-i", join(dir, "jfk.wav"), "--delay-ms", "960", "--backend", "cpu", "--json"];
const work = mkdtempSync(join(tmpdir(), "vox-dump-"));
const mounted: string[] = [];
after(() => {
  for (const m of mounted) spawnSync("umount", [m]);
  rmSync(work, { recursive: true, force: true });
});

/** Mounts a tmpfs of `size` at a new folder; null (with the reason) when this machine cannot. */
function tmpfs(name: string, options: string): { path: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: "mounting a tmpfs needs root" };
  const path = join(work, name);
  mkdirSync(path);
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", path], { encoding: "utf8" });
  if (r.status !== 0) return { skip: `mount -t tmpfs failed here: ${(r.stderr || r.error?.message || "").trim()}` };
  mounted.push(path);
  return { path };
}

function oneErrorLine(stderr: string, re: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, re);
}

test("a complete dump: four files, nothing else left in the folder", async () => {
  const out = join(work, "ok");
  const r = await runEngine([...base, "--dump", out]);
  assert.equal(r.failure, null, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ["audio_embeds.npy", "logits.npy", "mel.npy", "tokens.json"]);
});

test("a full disk: exit 2 naming the reason, no dump file left, the result still printed", async (t) => {
  const m = tmpfs("full", "size=64k"); // logits.npy alone is 149 x 1300 x 4 bytes = 775 kB
  if ("skip" in m) {
    t.skip(m.skip);
    return;
  }
  const r = await runEngine([...base, "--dump", m.path]);
  assert.equal(r.exitCode, 2, r.stderr);
  oneErrorLine(r.stderr, /^voxtral: error: cannot write .*\.npy: No space left on device\. /);
  assert.deepEqual(readdirSync(m.path), [], "no partial or temporary file remains");
  assert.ok(parseEngineJson<{ tokens: number[] }>(r).tokens.length > 10, "the transcription is printed");
});

test("a read-only folder fails before any work (before the model is read)", async (t) => {
  const m = tmpfs("ro", "size=64k,ro");
  if ("skip" in m) {
    t.skip(m.skip);
    return;
  }
  const r = await runEngine(["-d", join(work, "no-model-here"), "-i", join(dir, "jfk.wav"), "--dump", m.path]);
  assert.equal(r.exitCode, 2, `the dump folder is checked first (a model error would be exit 3): ${r.stderr}`);
  oneErrorLine(
    r.stderr,
    /^voxtral: error: the dump folder .* is not writable: Read-only file system\. Choose a writable --dump folder$/,
  );
  assert.equal(r.stdout, "");
});

test("a dump name taken by a folder: exit 2, the files already written are removed, no temporary file", async () => {
  const out = join(work, "taken");
  mkdirSync(join(out, "logits.npy"), { recursive: true });
  const r = await runEngine([...base, "--dump", out]);
  assert.equal(r.exitCode, 2, r.stderr);
  oneErrorLine(r.stderr, /^voxtral: error: cannot write .*logits\.npy: Is a directory\. /);
  assert.deepEqual(readdirSync(out), ["logits.npy"], "mel.npy and audio_embeds.npy of this run are removed too");
  assert.deepEqual(readdirSync(join(out, "logits.npy")), []);
});
