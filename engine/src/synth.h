/* synth.h — the synthetic-model writer behind `voxtral --write-synthetic DIR`.
 *
 * Writes DIR/params.json, DIR/consolidated.safetensors (random BF16, deterministic for a seed)
 * and DIR/tekken.json. size "full": the real model's params.json and all 711 tensors with the
 * real shapes (~8.9 GB, streamed; for speed measurements). size "tiny": a 2-layer model with
 * 64-wide encoder and decoder and a 1300-id vocabulary, for quick tests. Each file is written as
 * FILE.tmp and renamed when complete; params.json is removed first and written last, so an
 * interrupted run never leaves a folder that looks like a complete model. Weights follow the
 * recipe in MODEL.md: linears ~ N(0, 1/fan_in), biases ~ N(0, 0.01), norms 1.0, final norm 4.0,
 * token embeddings ~ N(0, 0.01) (×0.1). progress=1 prints progress lines on stderr. */
#ifndef VOX_SYNTH_H
#define VOX_SYNTH_H
#include <stdint.h>
#include "params.h"
#include "vox.h"

/* The hyper-parameters of size "full" (the real model's params.json) or "tiny"; VOX_EUSAGE otherwise. */
int vox_synth_params(const char *size, vox_params_t *p, vox_error_t *err);
int vox_synth_write(const char *dir, const char *size, uint64_t seed, int progress, vox_error_t *err);
#endif
