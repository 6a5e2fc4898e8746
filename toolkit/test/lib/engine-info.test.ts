// `voxtral --info -d DIR`: the engine's decoder bytes per step (the floor's numerator) against the tensors
// really in a fixture's safetensors file, and against the real model's shapes; a bad folder fails cleanly.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { engineModelFacts } from "../../src/lib/engine-info.js";
import { REAL_MODEL } from "../../src/lib/model.js";
import { fixturesDir } from "../../src/lib/paths.js";
import { readSafetensorsHeader } from "../../src/lib/safetensors.js";
import { engineTensors } from "../../src/lib/tensors.js";
import { decoderTensorBytes } from "../helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "vox-engine-info-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("decoder_bytes_per_step = the BF16 bytes of the decoder tensors in the fixture's file", async () => {
  const dir = join(fixturesDir(), "tiny-delay");
  const header = readSafetensorsHeader(join(dir, "consolidated.safetensors"));
  const tensors = JSON.parse(header.headerText!) as Record<string, { dtype: string; shape: number[] }>;
  let bytes = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const decoder = (name.startsWith("layers.") && !name.includes(".ada_rms_norm_t_cond.")) || name === "norm.weight";
    if (decoder || name.endsWith("tok_embeddings.weight")) bytes += 2 * t.shape.reduce((a, d) => a * d, 1);
  }
  const facts = await engineModelFacts(dir);
  assert.ok(bytes > 0);
  assert.equal(facts.decoder_bytes_per_step, bytes);
  assert.equal(
    facts.n_layers,
    (JSON.parse(readFileSync(join(dir, "params.json"), "utf8")) as { n_layers: number }).n_layers,
  );
});

test("the real model's shapes: decoder_bytes_per_step sums the engine's tensor list (3.43 B parameters)", async () => {
  const params = JSON.parse(readFileSync(join(fixturesDir(), "tiny-delay", "params.json"), "utf8")) as Record<
    string,
    unknown
  >;
  Object.assign(params, {
    dim: REAL_MODEL.dim,
    n_layers: REAL_MODEL.nLayers,
    head_dim: REAL_MODEL.headDim,
    hidden_dim: REAL_MODEL.hiddenDim,
    n_heads: REAL_MODEL.nHeads,
    n_kv_heads: REAL_MODEL.nKvHeads,
    vocab_size: REAL_MODEL.vocabSize,
  });
  const dir = join(tmp, "real-params");
  mkdirSync(dir);
  writeFileSync(join(dir, "params.json"), JSON.stringify(params));
  const facts = await engineModelFacts(dir);
  assert.equal(facts.decoder_bytes_per_step, decoderTensorBytes(await engineTensors({ modelDir: dir })));
  assert.equal(facts.decoder_bytes_per_step, decoderTensorBytes(await engineTensors({ size: "full" })));
  assert.ok(Math.abs(facts.decoder_bytes_per_step / 2 / 1e9 - 3.43) < 0.005, `${facts.decoder_bytes_per_step}`);
});

test("a folder without params.json: the engine's one-line error, no facts", async () => {
  await assert.rejects(engineModelFacts(join(tmp, "missing")), /does not exist/);
});
