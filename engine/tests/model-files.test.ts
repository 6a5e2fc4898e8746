// Model files changed under a running engine (on a copy of a fixture model in a temporary folder):
//   - consolidated.safetensors truncated while mapped: the next read of a lost page raises SIGBUS,
//     which becomes one line `voxtral: error: model file … changed or was truncated while in use. …`,
//     an error event with --events, and exit 3 (not a death by signal, exit 135);
//   - a file modified in place or replaced while the engine runs: the run finishes and one
//     `voxtral: note:` line per file says it changed (modified / new inode); an untouched run has none.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startEngine } from "../../toolkit/src/lib/engine.js";
import { fixturesDir } from "../../toolkit/src/lib/paths.js";

const fx = join(fixturesDir(), "tiny-delay");
const work = mkdtempSync(join(tmpdir(), "vox-model-files-"));
after(() => rmSync(work, { recursive: true, force: true }));
const FILES = ["params.json", "consolidated.safetensors", "tekken.json"];
const wav = readFileSync(join(fx, "jfk.wav"));

function copyModel(name: string): string {
  const m = mkdtempSync(join(work, `${name}-`));
  for (const f of FILES) copyFileSync(join(fx, f), join(m, f));
  return m;
}

/** Starts the engine on `model` with the WAV's first half on stdin; resolves once a token is out. */
async function runUntilFirstToken(model: string, extra: string[] = []) {
  const run = startEngine(["-d", model, "--stdin", "--events", "--delay-ms", "960", "--backend", "cpu", ...extra], {
    stdinPipe: true,
  });
  let out = "";
  run.process.stdout!.on("data", (d: Buffer | string) => {
    out += d.toString();
  });
  run.process.stdin!.write(wav.subarray(0, wav.length / 2));
  while (!out.includes('"type":"token"')) await sleep(20);
  return run;
}

test("a model file truncated while mapped: one error line and event, exit 3", async () => {
  const m = copyModel("trunc");
  const { process: p, result } = await runUntilFirstToken(m);
  truncateSync(join(m, "consolidated.safetensors"), 4096);
  p.stdin!.end(wav.subarray(wav.length / 2));
  const r = await result;
  assert.equal(r.signal, null, "no death by SIGBUS");
  assert.equal(r.exitCode, 3, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.equal(
    lines[0],
    `voxtral: error: model file ${m}/consolidated.safetensors changed or was truncated while in use. ` +
      "Leave the model files alone while voxtral runs; re-download the file if it is damaged",
  );
  const last = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { type: string; code: string; exit_code: number };
  assert.deepEqual([last.type, last.code, last.exit_code], ["error", "model", 3]);
});

test("files modified or replaced during the run: a note for each, the run completes", async () => {
  const m = copyModel("change");
  const { process: p, result } = await runUntilFirstToken(m);
  utimesSync(join(m, "tekken.json"), new Date(2001, 0, 1), new Date(2001, 0, 1)); // modified in place
  copyFileSync(join(fx, "consolidated.safetensors"), join(m, "new.safetensors"));
  renameSync(join(m, "new.safetensors"), join(m, "consolidated.safetensors")); // replaced (new inode)
  p.stdin!.end(wav.subarray(wav.length / 2));
  const r = await result;
  assert.equal(r.exitCode, 0, r.stderr);
  const notes = r.stderr.trim().split("\n").sort();
  assert.deepEqual(notes, [
    `voxtral: note: model file ${m}/consolidated.safetensors was replaced (new inode) while voxtral ran; this result may ` +
      "mix old and new contents. Run again to use the new file",
    `voxtral: note: model file ${m}/tekken.json was modified while voxtral ran; this result may mix old and new ` +
      "contents. Run again to use the new file",
  ]);
});

test("an untouched model: no note", async () => {
  const m = copyModel("same");
  const { process: p, result } = await runUntilFirstToken(m);
  p.stdin!.end(wav.subarray(wav.length / 2));
  const r = await result;
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stderr, "");
});
