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

/* Activation scratch of one forward of up to `rows` rows. */
typedef struct {
    int rows;
    float *x, *h;      /* backend [rows, dim] residual stream, normed */
    float *q, *att;    /* backend [rows, n_heads*head_dim] */
    float *k, *v;      /* backend [rows, n_kv_heads*head_dim] */
    float *f1, *f3;    /* backend [rows, hidden_dim] */
    int head_rows;     /* rows that get logits (the LM head): <= rows */
    float *logits;     /* backend [head_rows, vocab] of the last forward */
    int32_t *in, *out; /* backend [head_rows]: input tokens, argmax of each row */
} vox_dec_bufs;

int vox_dec_bufs_init(vox_dec_bufs *b, const vox_model_t *m, int rows, int head_rows);
void vox_dec_bufs_free(vox_dec_bufs *b, const vox_model_t *m);

/* The positions past the prompt a decoder's KV rings hold from the start (then they double as the
 * stream grows, to the window: a short stream holds 1/15 of a full window's KV memory). */
#define VOX_KV_ROOM 512

typedef struct {
    const vox_model_t *m;
    int L;              /* prompt length */
    int32_t *prompt;    /* host [L] */
    float **ada;        /* [n_layers] backend [dim] */
    vox_kv_t **kv;      /* [n_layers] */
    int64_t kv_room;    /* positions every ring holds now (they grow with the stream: backend.h kv_grow) */
    vox_dec_bufs b;     /* [L-1] rows (the prefill) */
    int32_t *ids;       /* backend [L] prompt ids */
    int32_t *tok;       /* backend [1]: the step's input token, replaced by its argmax */
    vox_graph_t *graph; /* captured step body (backends with graph capture) */
} vox_decoder_t;

/* spec_rows: the most rows of its speculating forwards (1..VOX_MAX_SPEC), the rows that get logits
 * (half a MB each at the real vocabulary): 1 where it never speculates. */
int vox_decoder_init(vox_decoder_t *d, const vox_model_t *m, int delay_tokens, int spec_rows, vox_error_t *err);
void vox_decoder_free(vox_decoder_t *d);
/* Positions 0..L-2; emb is backend [L-1, dim] (audio embeddings 0..L-2). */
int vox_decoder_prefill(vox_decoder_t *d, const float *emb);
/* One position pos >= L-1 with audio embedding emb_row (backend [dim]); *token = argmax. */
int vox_decoder_step(vox_decoder_t *d, const float *emb_row, int64_t pos, int *token);
/* Speculation block: positions pos .. pos+k-1 (k <= VOX_MAX_SPEC, emb backend [k, dim]) in one
 * forward, causal inside the block like the prefill. Row 0's input is the step's input token,
 * row i > 0 guesses `guess` (the previous row's output, if the guess holds). out[i] = argmax of
 * row i (logits in d->b.logits row i). Then vox_decoder_accept with the rows kept. */
int vox_decoder_forward(vox_decoder_t *d, const float *emb, int64_t pos, int k, int guess, int32_t *out);
/* Keep rows 0..a-1 of the last forward (a >= 1): row a-1's output is the next input token.
 * Positions past them are rewritten by the next forward before anything reads them. */
int vox_decoder_accept(vox_decoder_t *d, int a);
/* One position of each of n <= VOX_MAX_ROWS distinct decoders in one forward: decoder d[i] at
 * position pos[i] >= its L-1 with embedding emb[i] (backend [dim]). out[i] = its argmax (logits
 * in scratch->logits row i); every d[i]'s next input token is set. scratch has >= n head rows. */
int vox_decoder_step_rows(vox_dec_bufs *scratch, vox_decoder_t *const *d, const float *const *emb, const int64_t *pos,
                          int n, int32_t *out);
/* The prefills (positions 0..L-2) of n >= 1 distinct decoders in one forward of their rows together
 * (sum of their L-1 <= scratch->rows, <= VOX_MAX_ROWS; no LM head: scratch may have 1 head row):
 * emb[i] is decoder i's backend [L-1, dim] embeddings. */
int vox_decoder_prefill_rows(vox_dec_bufs *scratch, vox_decoder_t *const *d, const float *const *emb, int n);
/* Bytes of this decoder's KV rings now (they grow with the positions on the CPU). */
size_t vox_decoder_kv_bytes(const vox_decoder_t *d);
#endif
