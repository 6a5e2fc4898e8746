/* encoder.h — conv stem + causal Whisper-style encoder, incremental.
 *
 * Shapes (T = mel frames fed so far, S = encoder positions = T/2):
 *   mel [k, n_mels] -> conv0 (k3 s1, 2 frames of causal left context, GELU) -> [k, enc_dim]
 *   -> conv1 (k3 s2, 1 row of causal left context, GELU) -> [~k/2, enc_dim]
 *   -> enc_n_layers x { x += Wo·Attn(RoPE(Wq n + bq), RoPE(Wk n), Wv n + bv) + bo, n = RMSNorm(x);
 *                      x += W2·(silu(W1 m) ⊙ W3 m) + b2, m = RMSNorm(x) }
 *   -> final RMSNorm -> out [n_out, enc_dim]
 * The carried state between pushes: the last 2 mel frames, the conv0 rows conv1 still needs,
 * and one KV ring per layer (enc_sliding_window + chunk slots). RoPE positions count encoder
 * positions from 0. The offline schedule always gives a multiple of 4 positions, so the
 * "drop positions from the left" rule of MODEL.md never applies here. */
#ifndef VOX_ENCODER_H
#define VOX_ENCODER_H
#include "model.h"

#define VOX_ENC_GRAPHS 4

typedef struct {
    const vox_model_t *m;
    int chunk;       /* max encoder positions per push; mel frames per push <= 2*chunk */
    float *mel_host; /* host [2*chunk + 2, n_mels]: 2 carried frames, then the new ones */
    float *mel_in;   /* backend copy of mel_host */
    float *cols;     /* backend [2*chunk, 3*max(n_mels, enc_dim)] im2col scratch */
    float *c0;       /* backend [2*chunk + 2, enc_dim]: conv0 rows, carried rows first */
    int c0_carry;    /* rows of c0 kept for the next conv1 output (1 zero row at start) */
    float *x;        /* backend [chunk, enc_dim] residual stream */
    float *h;        /* backend [chunk, enc_dim] normed */
    float *q, *att;  /* backend [chunk, n_heads*head_dim] */
    float *k, *v;    /* backend [chunk, n_kv_heads*head_dim] */
    float *f1, *f3;  /* backend [chunk, enc_hidden] */
    vox_kv_t **kv;   /* [enc_n_layers] */
    int64_t pos;     /* encoder positions produced so far */
    /* The layers over n positions, captured (backends with graphs) the second time a push has n
     * positions, for the last VOX_ENC_GRAPHS distinct n: full chunks offline, the few sizes live
     * audio arrives in (80 ms appends give 4 positions; a turn of the server up to 16). */
    struct {
        int n, uses;    /* uses: pushes of n positions since the entry was made; n = 0: free */
        long long last; /* push count at its last use (the least recent goes first) */
        vox_graph_t *graph;
    } graphs[VOX_ENC_GRAPHS];
    long long pushes;
} vox_encoder_t;

int vox_encoder_init(vox_encoder_t *e, const vox_model_t *m, int chunk, vox_error_t *err);
void vox_encoder_free(vox_encoder_t *e);
/* Feed k mel frames (host [k, n_mels], 0 <= k <= 2*chunk); writes the new encoder outputs to
 * out (backend, [*n_out, enc_dim], *n_out <= chunk). Errors: backend code, message in be->err. */
int vox_encoder_push(vox_encoder_t *e, const float *mel, int k, float *out, int *n_out);
#endif
