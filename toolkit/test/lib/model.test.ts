import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  bf16WeightBytes,
  expectedTensors,
  gpuNeedBytes,
  kvCacheBytes,
  parseParams,
  REAL_MODEL,
} from "../../src/lib/model.js";
import { packageRoot } from "../../src/lib/paths.js";

test("the real model implies 711 tensors, 8.86 GB of BF16 and an 872 MB KV cache (MODEL.md)", () => {
  const t = expectedTensors(REAL_MODEL);
  assert.equal(t.size, 711);
  assert.deepEqual(t.get("mm_streams_embeddings.embedding_module.tok_embeddings.weight"), [131072, 3072]);
  assert.deepEqual(t.get("mm_streams_embeddings.embedding_module.audio_language_projection.0.weight"), [3072, 5120]);
  assert.deepEqual(t.get("layers.25.attention.wk.weight"), [1024, 3072]);
  assert.deepEqual(t.get("layers.0.ada_rms_norm_t_cond.0.weight"), [32, 3072]);
  assert.deepEqual(
    t.get("mm_streams_embeddings.embedding_module.whisper_encoder.conv_layers.0.conv.weight"),
    [1280, 128, 3],
  );
  assert.equal(bf16WeightBytes(REAL_MODEL), 8_859_358_720);
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
