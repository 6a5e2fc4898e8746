// The model check on the repository's real fixture model (checks/fixtures/tiny-delay, written by the
// reference generator) and on copies broken the ways downloads break.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { modelCheck } from "../../../src/commands/doctor/checks/model.js";
import { collectModel } from "../../../src/commands/doctor/collect.js";
import { linuxH100, TINY_MODEL } from "./scenarios.js";
import { trackedTempDir } from "../../../src/lib/cleanup.js";

const FILES = ["params.json", "consolidated.safetensors", "tekken.json"];

function copyModel(files = FILES): string {
  const d = trackedTempDir("vox-model-");
  for (const f of files) copyFileSync(join(TINY_MODEL, f), join(d, f));
  return d;
}

function judge(dir: string) {
  const f = linuxH100();
  f.model = collectModel(dir);
  return modelCheck.run(f, "auto");
}

test("the fixture model passes: files, sizes, every tensor, tekken", () => {
  const v = judge(TINY_MODEL);
  assert.equal(v.status, "pass", v.detail);
  assert.match(v.detail, /consolidated\.safetensors: 57 tensors, header valid/);
  assert.match(v.detail, /tekken\.json: vocab \d+, \d+ special tokens/);
});

test("a truncated copy fails and says to download again", () => {
  const d = copyModel();
  const p = join(d, "consolidated.safetensors");
  truncateSync(p, readFileSync(p).length - 1000);
  const v = judge(d);
  assert.equal(v.status, "fail");
  assert.match(
    v.detail,
    /consolidated\.safetensors is invalid: .*ends at byte \d+ of a \d+-byte data section \(file truncated\?\)/,
  );
  assert.match(v.fix!, /download it again.*hf download mistralai\/Voxtral-Mini-4B-Realtime-2602/);
});

test("missing folder or files", () => {
  assert.match(judge("/nonexistent/voxtral-model").detail, /model folder \/nonexistent\/voxtral-model not found/);
  const v = judge(copyModel(["params.json"]));
  assert.equal(v.status, "fail");
  assert.match(v.detail, /lacks consolidated\.safetensors, tekken\.json/);
  assert.match(v.fix!, /--local-dir/);
});

test("a tensor missing from the header, or shapes that do not match params.json", () => {
  const d = copyModel();
  const p = join(d, "consolidated.safetensors");
  const buf = readFileSync(p);
  const n = Number(buf.readBigUInt64LE(0));
  // Rename one tensor (same length, so the data section stays where it is).
  const header = buf
    .subarray(8, 8 + n)
    .toString("utf8")
    .replace('"norm.weight"', '"nrm.weight_"');
  writeFileSync(p, Buffer.concat([buf.subarray(0, 8), Buffer.from(header), buf.subarray(8 + n)]));
  let v = judge(d);
  assert.equal(v.status, "fail");
  assert.match(v.detail, /1 of the 57 tensors params\.json implies are missing: norm\.weight/);
  const params = JSON.parse(readFileSync(join(TINY_MODEL, "params.json"), "utf8"));
  params.hidden_dim += 2;
  writeFileSync(join(d, "params.json"), JSON.stringify(params));
  v = judge(d);
  assert.match(
    v.detail,
    /tensors have the wrong shape: layers\.0\.feed_forward\.w1\.weight is \[\d+,\d+\], params\.json implies/,
  );
});

test("tekken.json: not JSON, or without the streaming special tokens", () => {
  const d = copyModel();
  writeFileSync(join(d, "tekken.json"), '{"vocab": [');
  assert.match(judge(d).detail, /tekken\.json: not valid JSON/);
  const t = JSON.parse(readFileSync(join(TINY_MODEL, "tekken.json"), "utf8"));
  t.special_tokens = t.special_tokens.filter((s: { token_str: string }) => s.token_str !== "[STREAMING_PAD]");
  writeFileSync(join(d, "tekken.json"), JSON.stringify(t));
  const v = judge(d);
  assert.equal(v.status, "fail");
  assert.match(v.detail, /tekken\.json lacks special tokens \[STREAMING_PAD\]=32/);
});

test("the tensor list comes from the engine: without one it is not checked, and the fix is npx vox build", () => {
  const f = linuxH100();
  f.model = collectModel(TINY_MODEL, "/nonexistent/voxtral");
  let v = modelCheck.run(f, "auto");
  assert.equal(v.status, "warn");
  assert.match(v.detail, /tensor names and shapes not checked: .*the engine, which is not built/);
  assert.match(v.fix!, /npx vox build/);
  f.model = collectModel(TINY_MODEL, "/bin/false"); // an engine that has no --tensors
  v = modelCheck.run(f, "auto");
  assert.equal(v.status, "warn");
  assert.match(v.fix!, /Rebuild the engine: npx vox build/);
  delete f.model.tensors; // a fact set saved before the list was collected
  v = modelCheck.run(f, "auto");
  assert.equal(v.status, "pass", v.detail);
  assert.match(v.detail, /tensor names and shapes not checked: this fact set was saved before/);
});
