/* decoder.c — see decoder.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"

/* ada_l = U·gelu(D·t_cond) for one layer, on the host in double (64 KB of weights per layer). */
static void compute_ada(const vox_dec_layer_host_t *w, int dim, int tdim, const double *tc, double *hid, float *out) {
    for (int i = 0; i < tdim; i++) {
        double s = 0.0;
        for (int k = 0; k < dim; k++) s += (double)vox_tensor_get_f32(w->ada_down, (size_t)i * dim + k) * tc[k];
        hid[i] = 0.5 * s * (1.0 + erf(s / sqrt(2.0)));
    }
    for (int r = 0; r < dim; r++) {
        double s = 0.0;
        for (int i = 0; i < tdim; i++) s += (double)vox_tensor_get_f32(w->ada_up, (size_t)r * tdim + i) * hid[i];
        out[r] = (float)s;
    }
}

int vox_decoder_init(vox_decoder_t *d, const vox_model_t *m, int delay_tokens, vox_error_t *err) {
    memset(d, 0, sizeof *d);
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    d->m = m;
    d->L = 1 + VOX_LEFT_PAD_TOKENS + delay_tokens;
    int n = d->L - 1, dim = p->dim, qw = p->n_heads * p->head_dim, kw = p->n_kv_heads * p->head_dim;
    d->prompt = malloc((size_t)d->L * sizeof(int32_t));
    d->ada = calloc((size_t)p->n_layers, sizeof *d->ada);
    d->kv = calloc((size_t)p->n_layers, sizeof *d->kv);
    double *tc = malloc((size_t)dim * sizeof(double));
    float *ada = malloc((size_t)dim * sizeof(float));
    double *hid = malloc((size_t)p->ada_t_cond_dim * sizeof(double));
    d->x = o->alloc(be, (size_t)n * dim);
    d->h = o->alloc(be, (size_t)n * dim);
    d->q = o->alloc(be, (size_t)n * qw);
    d->att = o->alloc(be, (size_t)n * qw);
    d->k = o->alloc(be, (size_t)n * kw);
    d->v = o->alloc(be, (size_t)n * kw);
    d->f1 = o->alloc(be, (size_t)n * p->hidden_dim);
    d->f3 = o->alloc(be, (size_t)n * p->hidden_dim);
    d->logits = o->alloc(be, (size_t)p->vocab_size);
    d->ids = o->alloc_i32(be, (size_t)d->L);
    d->tok = o->alloc_i32(be, 1);
    int ok = d->prompt && d->ada && d->kv && tc && ada && hid && d->x && d->h && d->q && d->att && d->k &&
             d->v && d->f1 && d->f3 && d->logits && d->ids && d->tok;
    if (ok) {
        d->prompt[0] = m->tok.bos;
        for (int i = 1; i < d->L; i++) d->prompt[i] = m->tok.streaming_pad;
        ok = o->upload(be, d->ids, d->prompt, (size_t)d->L * sizeof(int32_t)) == 0;
        int half = dim / 2;
        for (int j = 0; j < half; j++) {
            double f = exp(-log(10000.0) * j / half);
            tc[j] = cos(delay_tokens * f);
            tc[half + j] = sin(delay_tokens * f);
        }
    }
    for (int l = 0; ok && l < p->n_layers; l++) {
        compute_ada(&m->w.dec[l], dim, p->ada_t_cond_dim, tc, hid, ada);
        d->ada[l] = o->alloc(be, (size_t)dim);
        d->kv[l] = o->kv_new(be, p->sliding_window + n, p->n_kv_heads, p->head_dim);
        ok = d->ada[l] && d->kv[l] && o->upload(be, d->ada[l], ada, (size_t)dim * sizeof(float)) == 0;
    }
    free(tc);
    free(ada);
    free(hid);
    if (!ok) {
        vox_decoder_free(d);
        if (be->err.code) return vox_model_error(be, be->err.code, err);
        return vox_fail(err, VOX_ENOMEM, "out of memory for the decoder buffers. Use a machine with more memory");
    }
    return 0;
}

void vox_decoder_free(vox_decoder_t *d) {
    if (!d->m) return;
    vox_backend_t *be = d->m->be;
    const vox_backend_ops *o = be->ops;
    if (d->graph) o->graph_free(be, d->graph);
    void *bufs[] = {d->x, d->h, d->q, d->att, d->k, d->v, d->f1, d->f3, d->logits, d->ids, d->tok};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (bufs[i]) o->free(be, bufs[i]);
    for (int l = 0; l < d->m->p.n_layers; l++) {
        if (d->ada && d->ada[l]) o->free(be, d->ada[l]);
        if (d->kv && d->kv[l]) o->kv_free(be, d->kv[l]);
    }
    free(d->ada);
    free(d->kv);
    free(d->prompt);
    memset(d, 0, sizeof *d);
}

/* All layers over n rows of d->x at positions pos0.. (the caller has set the position register). */
static int layers(vox_decoder_t *d, int n) {
    const vox_model_t *m = d->m;
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int dim = p->dim, H = p->n_heads, KVH = p->n_kv_heads, hd = p->head_dim;
    float eps = (float)p->norm_eps, theta = (float)p->rope_theta;
    for (int l = 0; l < p->n_layers; l++) {
        const vox_dec_layer_backend_t *L = &m->dec[l];
        /* q/k/v and w1/w3 each read one input: one linear_multi (one GEMV launch on CUDA) */
        const vox_bweight_t *qkv_w[3] = {L->wq, L->wk, L->wv}, *ffn_w[2] = {L->w1, L->w3};
        float *qkv_y[3] = {d->q, d->k, d->v}, *ffn_y[2] = {d->f1, d->f3};
        TRY(o->rmsnorm(be, d->h, d->x, L->attention_norm, NULL, n, dim, eps));
        TRY(o->linear_multi(be, 3, qkv_y, d->h, qkv_w, n));
        TRY(o->rope(be, d->q, n, H, hd, theta));
        TRY(o->rope(be, d->k, n, KVH, hd, theta));
        TRY(o->kv_write(be, d->kv[l], d->k, d->v, n));
        TRY(o->attention(be, d->att, d->q, d->kv[l], n, H, p->sliding_window));
        TRY(o->linear(be, d->x, d->att, L->wo, NULL, n, 1));
        TRY(o->rmsnorm(be, d->h, d->x, L->ffn_norm, d->ada[l], n, dim, eps));
        TRY(o->linear_multi(be, 2, ffn_y, d->h, ffn_w, n));
        TRY(o->silu_mul(be, d->f1, d->f3, (size_t)n * p->hidden_dim));
        TRY(o->linear(be, d->x, d->f1, L->w2, NULL, n, 1));
    }
    return 0;
}

int vox_decoder_prefill(vox_decoder_t *d, const float *emb) {
    const vox_model_t *m = d->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int n = d->L - 1;
    TRY(o->set_pos(be, 0));
    TRY(o->copy(be, d->x, emb, (size_t)n * m->p.dim * sizeof(float)));
    TRY(o->embed(be, d->x, m->tok_embeddings, d->ids, n, 1));
    return layers(d, n);
}

/* The step body: no allocation, no host sync, positions from the register (graph-capturable).
 * In: d->x = audio embedding, d->tok = input token. Out: d->tok = argmax, d->logits. */
static int step_body(vox_decoder_t *d) {
    const vox_model_t *m = d->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    TRY(o->embed(be, d->x, m->tok_embeddings, d->tok, 1, 1));
    TRY(layers(d, 1));
    TRY(o->rmsnorm(be, d->h, d->x, m->norm, NULL, 1, m->p.dim, (float)m->p.norm_eps));
    TRY(o->linear(be, d->logits, d->h, m->tok_embeddings, NULL, 1, 0));
    return o->argmax(be, d->tok, d->logits, 1, m->p.vocab_size);
}

int vox_decoder_step(vox_decoder_t *d, const float *emb_row, int64_t pos, int *token) {
    const vox_model_t *m = d->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    TRY(o->set_pos(be, pos));
    TRY(o->copy(be, d->x, emb_row, (size_t)m->p.dim * sizeof(float)));
    if (pos == d->L - 1) TRY(o->upload(be, d->tok, &d->prompt[d->L - 1], sizeof(int32_t)));
    if (o->graph_begin) {
        if (!d->graph) {
            TRY(o->graph_begin(be));
            int rc = step_body(d);
            vox_graph_t *g = NULL;
            int rc2 = o->graph_end(be, &g);   /* always end the capture, even after a failure */
            TRY(rc);
            TRY(rc2);
            d->graph = g;
        }
        TRY(o->graph_launch(be, d->graph));
    } else {
        TRY(step_body(d));
    }
    int32_t t;
    TRY(o->download(be, &t, d->tok, sizeof t));
    *token = t;
    return 0;
}
