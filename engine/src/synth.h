/* synth.h — the synthetic-model writer behind `voxtral --write-synthetic DIR`.
 *
 * Writes DIR/params.json, DIR/consolidated.safetensors (random BF16, deterministic for a seed)
 * and DIR/tekken.json. size "full": the real model's params.json and all 711 tensors with the
 * real shapes (~8.9 GB, streamed; for speed measurements). size "tiny": a 2-layer model with
 * 64-wide encoder and decoder and a 1300-id vocabulary, for quick tests. Each file is written as
 * FILE.tmp and renamed when complete; params.json is removed first and written last, so an
 * interrupted run never leaves a folder that looks like a complete model. Weights follow the
 * recipe in MODEL.md: linears ~ N(0, 1/fan_in), biases ~ N(0, 0.01), norms 1.0, final norm 4.0,
 * token embeddings ~ N(0, 0.01) (×0.1). progress=1 prints progress lines on stderr.
 *
 * pad_rate in [0, 1) (negative: off) makes [STREAMING_PAD] win about that fraction of the decoder
 * steps, as real speech does (a random model never emits it): column 0 of the token embeddings
 * becomes a constant c for every id (so the final hidden state carries a positive feature, about
 * c / its rms), the PAD row gets c + d there, and the final norm's weight at column 0 is raised to g,
 * which gives PAD's logit an advantage g·d·x̂₀ over every other id. g is solved from a picture of the
 * full model's logits measured on a GPU (synth.c); the tiny model uses a Gaussian one. The random
 * model is bistable (the token fed back boosts its own next logit), so a run lands near one of the
 * two ends rather than at an intermediate rate: the rate a run measures is the fact to report.
 * DIR/synthetic-pad.json records c, d, g and the picture used. */
#ifndef VOX_SYNTH_H
#define VOX_SYNTH_H
#include <stdint.h>
#include "params.h"
#include "vox.h"

/* The hyper-parameters of size "full" (the real model's params.json) or "tiny"; VOX_EUSAGE otherwise. */
int vox_synth_params(const char *size, vox_params_t *p, vox_error_t *err);
int vox_synth_write(const char *dir, const char *size, uint64_t seed, double pad_rate, int progress, vox_error_t *err);

#endif
