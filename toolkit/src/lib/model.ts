// What params.json implies: the hyper-parameters (Mistral layout, MODEL.md) and the memory the model
// needs on the GPU. The tensors consolidated.safetensors must hold come from the engine (lib/tensors.ts).

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

/** The three files of a model folder, as downloaded. */
export const MODEL_FILES = ["params.json", "consolidated.safetensors", "tekken.json"] as const;

/** The real Voxtral Realtime 4B (MODEL.md), used when no params.json is given. */
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

/** Decoder KV cache at its largest (the ring buffer holds sliding_window positions), FP16/BF16. */
export function kvCacheBytes(p: ModelParams): number {
  return p.nLayers * 2 * p.nKvHeads * p.headDim * 2 * p.slidingWindow;
}

/** GPU memory the model needs: weights plus the full KV cache. */
export function gpuNeedBytes(weightsBytes: number, p: ModelParams): number {
  return weightsBytes + kvCacheBytes(p);
}
