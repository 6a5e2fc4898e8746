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
/* Passes of several encoders on backends with graphs run a multiple of this many rows (the rest
 * padding), so that a few sizes cover every pass and each replays as a graph. */
#define VOX_PASS_STEP 32

/* The layers' activations over `rows` rows: one encoder's pushes, or the rows of several encoders
 * run together (vox_encoder_run_rows). */
typedef struct {
    int rows;
    float *x;       /* [rows, enc_dim] residual stream */
    float *h;       /* [rows, enc_dim] normed */
    float *q, *att; /* [rows, n_heads*head_dim] */
    float *k, *v;   /* [rows, n_kv_heads*head_dim] */
    float *f1, *f3; /* [rows, enc_hidden] */
    /* Passes (vox_encoder_run_rows) of (i + 1) * VOX_PASS_STEP rows: run op by op the first time,
     * captured the second, replayed after. */
    struct {
        int uses;
        vox_graph_t *graph;
    } pass[(VOX_MAX_ROWS + VOX_PASS_STEP - 1) / VOX_PASS_STEP];
} vox_enc_bufs;

int vox_enc_bufs_init(vox_enc_bufs *b, const vox_model_t *m, int rows);
void vox_enc_bufs_free(vox_enc_bufs *b, const vox_model_t *m);

typedef struct {
    const vox_model_t *m;
    int chunk;       /* max encoder positions per push; mel frames per push <= 2*chunk */
    float *mel_host; /* host [2*chunk + 2, n_mels]: 2 carried frames, then the new ones */
    float *mel_in;   /* backend copy of mel_host */
    float *cols;     /* backend [2*chunk, 3*max(n_mels, enc_dim)] im2col scratch */
    float *c0;       /* backend [2*chunk + 2, enc_dim]: conv0 rows, carried rows first */
    int c0_carry;    /* rows of c0 kept for the next conv1 output (1 zero row at start) */
    vox_enc_bufs b;  /* chunk rows: b.x gets the conv stem's output */
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
/* A push in two halves, so that several encoders' layers can run in one pass (batch.c): the conv
 * stem of k mel frames (host [k, n_mels], 0 <= k <= 2*chunk; e->b.x gets *n_out <= chunk new rows),
 * then the layers and final norm of those rows into out (backend [n, enc_dim]), alone
 * (vox_encoder_run) or with other encoders' (vox_encoder_run_rows). Errors: backend code, message
 * in be->err. */
int vox_encoder_stem(vox_encoder_t *e, const float *mel, int k, int *n_out);
int vox_encoder_run(vox_encoder_t *e, int n, float *out);
/* The layers and final norm of stem rows of e[0..count) in one pass over the weights, with g as
 * the scratch: rows from[i] .. from[i]+n[i]-1 of e[i]'s stem output (the next ones of that encoder:
 * a push's rows may run over several passes, in order), each row at its own position over its own
 * encoder's KV rings; out[i] gets their n[i] outputs. n[0] + ... + n[count-1] <= g->rows <=
 * ops->batch_rows. Each row gives the values it gives alone where the backend keeps rows exact
 * (the CPU). */
int vox_encoder_run_rows(vox_enc_bufs *g, vox_encoder_t *const *e, const int *from, const int *n, float *const *out,
                         int count);
#endif
