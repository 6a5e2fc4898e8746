/* adapter.h — audio-language adapter: every 4 consecutive encoder outputs ([4, enc_dim], i.e.
 * one row of [.., 4*enc_dim]) become one audio embedding:
 *   emb = proj2 · gelu(proj0 · concat4(enc))      [dim]
 * The encoder writes its outputs at vox_adapter_slot(); up to 3 leftover rows wait for the
 * next push. */
#ifndef VOX_ADAPTER_H
#define VOX_ADAPTER_H
#include "model.h"

typedef struct {
    const vox_model_t *m;
    int chunk;  /* max encoder rows per push */
    float *in;  /* backend [chunk + g - 1, enc_dim] (g = downsample_factor = 4): leftover rows, then new */
    int left;   /* leftover rows (0..g-1) at the start of `in` */
    float *hid; /* backend [(chunk + g - 1)/g, dim] */
} vox_adapter_t;

int vox_adapter_init(vox_adapter_t *a, const vox_model_t *m, int chunk, vox_error_t *err);
void vox_adapter_free(vox_adapter_t *a);
/* Where the encoder should write its next (up to chunk) output rows. */
float *vox_adapter_slot(vox_adapter_t *a);
/* n_new rows were written at the slot: write the complete groups' embeddings to out
 * (backend [*n_emb, dim]). */
int vox_adapter_push(vox_adapter_t *a, int n_new, float *out, int *n_emb);
#endif
