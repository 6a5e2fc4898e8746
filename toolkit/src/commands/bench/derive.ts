// Work counts from params.json and the throughput they imply. Pure.
//
// Decoder bytes per step come from the engine (`voxtral --info -d DIR`, model.decoder_bytes_per_step).
//
// Encoder FLOPs (2 per multiply-add) for n_audio decoder positions (8 mel frames = 4 encoder
// positions each): conv stem (k=3: 128→enc over the mel frames, enc→enc at stride 2), per encoder
// layer the q/k/v/o projections, the SwiGLU feed-forward and attention scores + weighted values over
// a causal window, then the adapter (4·enc→dim, dim→dim) per decoder position. 180 s ≈ 19 TFLOP.
import type { ModelParams } from "../../lib/model.js";
import type { Derived, Sample } from "./types.js";
import type { Summary } from "../../lib/stats.js";

/** Σ_{i<n} min(i + 1, w): keys each query attends to over a causal window of w. */
export function windowedPairs(n: number, w: number): number {
  if (n <= w) return (n * (n + 1)) / 2;
  return (w * (w + 1)) / 2 + (n - w) * w;
}

export function encoderFlops(p: ModelParams, nAudio: number, encoderWindow: number): number {
  const melFrames = 8 * nAudio;
  const encPos = (melFrames / 2) | 0;
  const eq = p.encHeads * p.encHeadDim;
  const ekv = p.encKvHeads * p.encHeadDim;
  const stem = 2 * 3 * (p.nMels * p.encDim * melFrames + p.encDim * p.encDim * encPos);
  const proj = 2 * encPos * (2 * p.encDim * eq + 2 * p.encDim * ekv);
  const ffn = 2 * encPos * 3 * p.encDim * p.encHiddenDim;
  const attn = 2 * 2 * p.encHeads * p.encHeadDim * windowedPairs(encPos, encoderWindow);
  const adapter = 2 * nAudio * (p.downsample * p.encDim * p.dim + p.dim * p.dim);
  return stem + p.encLayers * (proj + ffn + attn) + adapter;
}

/** Throughput from the median sample times; null where a denominator is missing or zero. */
export function derive(opts: {
  params: ModelParams;
  encoderWindow: number;
  bytesPerStep: number;
  copyGBps: number | null;
  samples: readonly Sample[];
  msPerStep: Summary;
  encoderAdapterMs: Summary;
}): Derived {
  const nAudio = opts.samples[0]?.nAudio ?? 0;
  const ms = opts.msPerStep.median;
  const decoderGBps = ms > 0 ? opts.bytesPerStep / (ms * 1e-3) / 1e9 : null;
  const copy = opts.copyGBps;
  const encoderTflop = encoderFlops(opts.params, nAudio, opts.encoderWindow) / 1e12;
  const encMs = opts.encoderAdapterMs.median;
  return {
    decoderGBps,
    copyGBps: copy,
    pctOfCopy: decoderGBps !== null && copy ? (100 * decoderGBps) / copy : null,
    floorMsPerStep: copy ? (opts.bytesPerStep / (copy * 1e9)) * 1e3 : null,
    encoderTflop,
    encoderTflops: encMs > 0 ? encoderTflop / (encMs * 1e-3) : null,
  };
}
