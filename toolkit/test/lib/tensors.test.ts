// `voxtral --tensors`: the engine's one list of the tensors a checkpoint must hold, as the toolkit reads it
// (the doctor's model check, vox-bench's weight bytes); the real model's facts from MODEL.md.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { fixturesDir } from "../../src/lib/paths.js";
import { readSafetensorsHeader } from "../../src/lib/safetensors.js";
import { bf16Bytes, bf16BytesOf, engineTensors, parseTensorTable } from "../../src/lib/tensors.js";

test("the real model: 711 tensors, 8.86 GB of BF16 (MODEL.md)", async () => {
  const t = await engineTensors({ size: "full" });
  assert.equal(t.size, 711);
  const shape = (n: string) => t.get(n)?.shape;
  assert.deepEqual(shape("mm_streams_embeddings.embedding_module.tok_embeddings.weight"), [131072, 3072]);
  assert.deepEqual(shape("mm_streams_embeddings.embedding_module.audio_language_projection.0.weight"), [3072, 5120]);
  assert.deepEqual(shape("layers.25.attention.wk.weight"), [1024, 3072]);
  assert.deepEqual(shape("layers.0.ada_rms_norm_t_cond.0.weight"), [32, 3072]);
  assert.deepEqual(
    shape("mm_streams_embeddings.embedding_module.whisper_encoder.conv_layers.0.conv.weight"),
    [1280, 128, 3],
  );
  assert.ok([...t.values()].every((s) => s.dtype === "BF16"));
  assert.equal(bf16Bytes(t), 8_859_358_720);
});

test("each fixture checkpoint (the reference generator's) holds exactly the engine's list for its params.json", async () => {
  for (const name of ["tiny-delay", "tiny-real-windows", "tiny-small-windows"]) {
    const dir = join(fixturesDir(), name);
    const header = JSON.parse(readSafetensorsHeader(join(dir, "consolidated.safetensors")).headerText!) as Record<
      string,
      { dtype: string; shape: number[] }
    >;
    delete header.__metadata__;
    const want = Object.fromEntries([...(await engineTensors({ modelDir: dir }))].map(([n, s]) => [n, s]));
    const have = Object.fromEntries(Object.entries(header).map(([n, s]) => [n, { shape: s.shape, dtype: s.dtype }]));
    assert.deepEqual(have, want, name);
  }
});

test("a folder without params.json: the engine's one-line error; output off the contract is named", async () => {
  await assert.rejects(engineTensors({ modelDir: "/nonexistent/voxtral-model" }), /model files error \(exit 3\)/);
  assert.throws(() => parseTensorTable("nope"), /printed no JSON/);
  assert.throws(() => parseTensorTable('{"tensors":[{"name":"x","shape":[0],"dtype":"BF16"}]}'), /positive shape/);
  assert.equal(bf16BytesOf({ exitCode: 0, stdout: '{"tensors":[{"name":"x","shape":[2,3],"dtype":"BF16"}]}' }), 12);
  assert.equal(bf16BytesOf({ exitCode: 2, stdout: "" }), null);
  assert.equal(bf16BytesOf(null), null);
});
