/* decoder.h — the text decoder on the offline/streaming schedule of MODEL.md.
 *
 * Input at position p: audio_embeds[p] + tok_embeddings[token]. Per layer (GQA, interleaved
 * RoPE, causal window sliding_window, no biases):
 *   h += Wo·Attn(RoPE(Wq n), RoPE(Wk n), Wv n),     n = RMSNorm(h)·attention_norm
 *   h += W2·(silu(W1 n) ⊙ W3 n),                    n = RMSNorm(h)·ffn_norm·(1 + ada_l)
 * then logits = RMSNorm(h)·norm · tok_embeddingsᵀ and a greedy argmax on the backend.
 * ada_l = U·gelu(D·t_cond) is computed once (on the host) from the delay:
 *   t_cond = [cos(t f_j), sin(t f_j)], f_j = exp(-ln(10000) j / (dim/2)), t = delay tokens.
 * Prompt: [BOS] + [STREAMING_PAD] x (32 + delay_tokens) = L ids. Prefill runs positions
 * 0..L-2 in one batch; every later position is a step (the first step, at L-1, reads prompt[L-1];
 * the others read the previous argmax, which never leaves the backend). The KV ring has
 * sliding_window + L - 1 slots, so memory is flat however long the audio runs. */
#ifndef VOX_DECODER_H
#define VOX_DECODER_H
#include "model.h"

#define VOX_LEFT_PAD_TOKENS 32

typedef struct {
    const vox_model_t *m;
    int L;                  /* prompt length */
    int32_t *prompt;        /* host [L] */
    float **ada;            /* [n_layers] backend [dim] */
    vox_kv_t **kv;          /* [n_layers] */
    float *x, *h;           /* backend [L-1, dim] residual stream, normed */
    float *q, *att;         /* backend [L-1, n_heads*head_dim] */
    float *k, *v;           /* backend [L-1, n_kv_heads*head_dim] */
    float *f1, *f3;         /* backend [L-1, hidden_dim] */
    float *logits;          /* backend [vocab] of the last step */
    int32_t *ids;           /* backend [L] prompt ids */
    int32_t *tok;           /* backend [1]: the step's input token, replaced by its argmax */
    vox_graph_t *graph;     /* captured step body (backends with graph capture) */
} vox_decoder_t;

int vox_decoder_init(vox_decoder_t *d, const vox_model_t *m, int delay_tokens, vox_error_t *err);
void vox_decoder_free(vox_decoder_t *d);
/* Positions 0..L-2; emb is backend [L-1, dim] (audio embeddings 0..L-2). */
int vox_decoder_prefill(vox_decoder_t *d, const float *emb);
/* One position pos >= L-1 with audio embedding emb_row (backend [dim]); *token = argmax. */
int vox_decoder_step(vox_decoder_t *d, const float *emb_row, int64_t pos, int *token);
#endif
