// What params.json implies: the hyper-parameters (Mistral layout, MODEL.md), every tensor name and
// shape consolidated.safetensors must hold, and the memory the model needs on the GPU.

export interface ModelParams {
  dim: number;
  nLayers: number;
  headDim: number;
  hiddenDim: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  slidingWindow: number;
  adaTCondDim: number;
  encDim: number;
  encLayers: number;
  encHeadDim: number;
  encHiddenDim: number;
  encHeads: number;
  encKvHeads: number;
  nMels: number;
  downsample: number;
}

/** The real Voxtral Realtime 4B (MODEL.md), used when no params.json is given. */
/** The three files of a model folder, as downloaded. */
export const MODEL_FILES = ["params.json", "consolidated.safetensors", "tekken.json"] as const;

export const REAL_MODEL: ModelParams = {
  dim: 3072,
  nLayers: 26,
  headDim: 128,
  hiddenDim: 9216,
  nHeads: 32,
  nKvHeads: 8,
  vocabSize: 131072,
  slidingWindow: 8192,
  adaTCondDim: 32,
  encDim: 1280,
  encLayers: 32,
  encHeadDim: 64,
  encHiddenDim: 5120,
  encHeads: 32,
  encKvHeads: 32,
  nMels: 128,
  downsample: 4,
};

type Json = Record<string, unknown>;

function int(obj: Json, key: string, where: string, fallback?: number): number {
  const v = obj[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0)
    throw new Error(`params.json: ${where}${key} must be a positive integer, found ${JSON.stringify(v)}`);
  return v;
}

function obj(parent: Json, key: string, where: string): Json {
  const v = parent[key];
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error(`params.json: ${where}${key} is missing or not an object`);
  return v as Json;
}

/** Parses params.json text; throws Error naming the missing or bad key. */
export function parseParams(text: string): ModelParams {
  let root: Json;
  try {
    root = JSON.parse(text) as Json;
  } catch (e) {
    throw new Error(`params.json is not valid JSON (${(e as Error).message})`);
  }
  const wma = obj(obj(root, "multimodal", ""), "whisper_model_args", "multimodal.");
  const enc = obj(wma, "encoder_args", "multimodal.whisper_model_args.");
  const audio = obj(enc, "audio_encoding_args", "encoder_args.");
  const down = obj(wma, "downsample_args", "multimodal.whisper_model_args.");
  const encHeads = int(enc, "n_heads", "encoder_args.");
  return {
    dim: int(root, "dim", ""),
    nLayers: int(root, "n_layers", ""),
    headDim: int(root, "head_dim", ""),
    hiddenDim: int(root, "hidden_dim", ""),
    nHeads: int(root, "n_heads", ""),
    nKvHeads: int(root, "n_kv_heads", ""),
    vocabSize: int(root, "vocab_size", ""),
    slidingWindow: int(root, "sliding_window", ""),
    adaTCondDim: int(root, "ada_rms_norm_t_cond_dim", "", 32),
    encDim: int(enc, "dim", "encoder_args."),
    encLayers: int(enc, "n_layers", "encoder_args."),
    encHeadDim: int(enc, "head_dim", "encoder_args."),
    encHiddenDim: int(enc, "hidden_dim", "encoder_args."),
    encHeads,
    encKvHeads: int(enc, "n_kv_heads", "encoder_args.", encHeads),
    nMels: int(audio, "num_mel_bins", "audio_encoding_args."),
    downsample: int(down, "downsample_factor", "downsample_args."),
  };
}

/** Every tensor the engine loads, with its shape (linear weights are [out, in]). 711 for the real model. */
export function expectedTensors(p: ModelParams): Map<string, number[]> {
  const t = new Map<string, number[]>();
  const E = "mm_streams_embeddings.embedding_module.";
  const W = `${E}whisper_encoder.`;
  t.set(`${E}tok_embeddings.weight`, [p.vocabSize, p.dim]);
  t.set(`${W}conv_layers.0.conv.weight`, [p.encDim, p.nMels, 3]);
  t.set(`${W}conv_layers.0.conv.bias`, [p.encDim]);
  t.set(`${W}conv_layers.1.conv.weight`, [p.encDim, p.encDim, 3]);
  t.set(`${W}conv_layers.1.conv.bias`, [p.encDim]);
  const eq = p.encHeads * p.encHeadDim;
  const ekv = p.encKvHeads * p.encHeadDim;
  for (let i = 0; i < p.encLayers; i++) {
    const L = `${W}transformer.layers.${i}.`;
    t.set(`${L}attention.wq.weight`, [eq, p.encDim]);
    t.set(`${L}attention.wq.bias`, [eq]);
    t.set(`${L}attention.wk.weight`, [ekv, p.encDim]);
    t.set(`${L}attention.wv.weight`, [ekv, p.encDim]);
    t.set(`${L}attention.wv.bias`, [ekv]);
    t.set(`${L}attention.wo.weight`, [p.encDim, eq]);
    t.set(`${L}attention.wo.bias`, [p.encDim]);
    t.set(`${L}attention_norm.weight`, [p.encDim]);
    t.set(`${L}feed_forward.w1.weight`, [p.encHiddenDim, p.encDim]);
    t.set(`${L}feed_forward.w2.weight`, [p.encDim, p.encHiddenDim]);
    t.set(`${L}feed_forward.w2.bias`, [p.encDim]);
    t.set(`${L}feed_forward.w3.weight`, [p.encHiddenDim, p.encDim]);
    t.set(`${L}ffn_norm.weight`, [p.encDim]);
  }
  t.set(`${W}transformer.norm.weight`, [p.encDim]);
  t.set(`${E}audio_language_projection.0.weight`, [p.dim, p.downsample * p.encDim]);
  t.set(`${E}audio_language_projection.2.weight`, [p.dim, p.dim]);
  const q = p.nHeads * p.headDim;
  const kv = p.nKvHeads * p.headDim;
  for (let i = 0; i < p.nLayers; i++) {
    const L = `layers.${i}.`;
    t.set(`${L}attention_norm.weight`, [p.dim]);
    t.set(`${L}attention.wq.weight`, [q, p.dim]);
    t.set(`${L}attention.wk.weight`, [kv, p.dim]);
    t.set(`${L}attention.wv.weight`, [kv, p.dim]);
    t.set(`${L}attention.wo.weight`, [p.dim, q]);
    t.set(`${L}ffn_norm.weight`, [p.dim]);
    t.set(`${L}feed_forward.w1.weight`, [p.hiddenDim, p.dim]);
    t.set(`${L}feed_forward.w2.weight`, [p.dim, p.hiddenDim]);
    t.set(`${L}feed_forward.w3.weight`, [p.hiddenDim, p.dim]);
    t.set(`${L}ada_rms_norm_t_cond.0.weight`, [p.adaTCondDim, p.dim]);
    t.set(`${L}ada_rms_norm_t_cond.2.weight`, [p.dim, p.adaTCondDim]);
  }
  t.set("norm.weight", [p.dim]);
  return t;
}

/** Bytes of all expected tensors in BF16 (the real model: 711 tensors, about 8.9 GB). */
export function bf16WeightBytes(p: ModelParams): number {
  let n = 0;
  for (const shape of expectedTensors(p).values()) n += shape.reduce((a, d) => a * d, 1);
  return n * 2;
}

/** Decoder KV cache at its largest (the ring buffer holds sliding_window positions), FP16/BF16. */
export function kvCacheBytes(p: ModelParams): number {
  return p.nLayers * 2 * p.nKvHeads * p.headDim * 2 * p.slidingWindow;
}

/** GPU memory the model needs: weights plus the full KV cache. */
export function gpuNeedBytes(weightsBytes: number, p: ModelParams): number {
  return weightsBytes + kvCacheBytes(p);
}
