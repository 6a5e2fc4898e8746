/* mel.h — streaming log-mel spectrogram (Whisper/Voxtral style, MODEL.md "Log-mel").
 *
 * Frame t is the periodic-Hann-windowed 400-sample span centred on sample t*hop of the
 * reflect-padded signal (200 samples of reflection on each side), power spectrum over
 * 201 bins, Slaney mel filter bank (n_mels filters, 0..8000 Hz, Slaney norm), then
 * log10(max(mel, 1e-10)), max(x, global_log_mel_max - 8), (x + 4) / 4.
 * The STFT's last frame is dropped, so N samples (N a multiple of hop) give N/hop frames.
 *
 * Streaming: push samples as they arrive; a frame is emitted as soon as every sample it
 * needs is known (frame t needs samples up to t*hop + 199). finish() supplies the right
 * reflection and emits the rest. Pushing the same samples in any chunking gives exactly
 * the frames of the one-shot computation.
 */
#ifndef VOX_MEL_H
#define VOX_MEL_H
#include <stddef.h>
#include "params.h"

typedef struct vox_mel vox_mel_t;

vox_mel_t *vox_mel_new(const vox_params_t *p); /* NULL on out of memory */
void vox_mel_free(vox_mel_t *m);

/* Feed n samples (16 kHz mono). Returns 0, or VOX_ENOMEM. */
int vox_mel_push(vox_mel_t *m, const float *x, size_t n);
/* End of input: no more samples will come. */
int vox_mel_finish(vox_mel_t *m);
/* Copy up to max ready frames ([k, n_mels] row-major) into out, remove them; returns k. */
size_t vox_mel_take(vox_mel_t *m, float *out, size_t max);
#endif
