import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gpuNeedBytes, kvCacheBytes, parseParams, REAL_MODEL } from "../../src/lib/model.js";
import { packageRoot } from "../../src/lib/paths.js";

test("the real model's KV cache is 872 MB (MODEL.md); the GPU needs weights + KV cache", () => {
  assert.equal(kvCacheBytes(REAL_MODEL), 26 * 2 * 8 * 128 * 2 * 8192);
  assert.equal(gpuNeedBytes(1000, REAL_MODEL), 1000 + kvCacheBytes(REAL_MODEL));
});

test("params.json of a fixture parses; a missing key is named", () => {
  const text = readFileSync(join(packageRoot(), "checks", "fixtures", "tiny-delay", "params.json"), "utf8");
  const p = parseParams(text);
  assert.ok(p.dim > 0 && p.encLayers > 0);
  const j = JSON.parse(text);
  delete j.multimodal.whisper_model_args.encoder_args.head_dim;
  assert.throws(
    () => parseParams(JSON.stringify(j)),
    /params\.json: encoder_args\.head_dim must be a positive integer, found undefined/,
  );
  assert.throws(() => parseParams("{"), /params\.json is not valid JSON/);
  assert.throws(() => parseParams("{}"), /multimodal is missing/);
});
