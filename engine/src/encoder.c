/* encoder.c — see encoder.h for the computation and the carried state. */
#include <stdlib.h>
#include <string.h>

#include "encoder.h"

int vox_encoder_init(vox_encoder_t *e, const vox_model_t *m, int chunk, vox_error_t *err) {
    memset(e, 0, sizeof *e);
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    e->m = m;
    e->chunk = chunk;
    int nm = p->n_mels, d = p->enc_dim, qw = p->enc_n_heads * p->enc_head_dim;
    int kw = p->enc_n_kv_heads * p->enc_head_dim, cw = 3 * (nm > d ? nm : d);
    size_t fr = (size_t)2 * chunk + 2;
    e->mel_host = calloc(fr * nm, sizeof(float));
    e->mel_in = be->ops->alloc(be, fr * nm);
    e->cols = be->ops->alloc(be, (size_t)2 * chunk * cw);
    e->c0 = be->ops->alloc(be, fr * d);
    e->x = be->ops->alloc(be, (size_t)chunk * d);
    e->h = be->ops->alloc(be, (size_t)chunk * d);
    e->q = be->ops->alloc(be, (size_t)chunk * qw);
    e->att = be->ops->alloc(be, (size_t)chunk * qw);
    e->k = be->ops->alloc(be, (size_t)chunk * kw);
    e->v = be->ops->alloc(be, (size_t)chunk * kw);
    e->f1 = be->ops->alloc(be, (size_t)chunk * p->enc_hidden_dim);
    e->f3 = be->ops->alloc(be, (size_t)chunk * p->enc_hidden_dim);
    e->kv = calloc((size_t)p->enc_n_layers, sizeof *e->kv);
    int ok = e->mel_host && e->mel_in && e->cols && e->c0 && e->x && e->h && e->q && e->att && e->k && e->v && e->f1 &&
             e->f3 && e->kv;
    for (int l = 0; ok && l < p->enc_n_layers; l++) {
        e->kv[l] = be->ops->kv_new(be, p->enc_sliding_window + chunk, p->enc_n_kv_heads, p->enc_head_dim);
        ok = e->kv[l] != NULL;
    }
    /* conv1's causal left context: one zero row, uploaded explicitly (backends need not zero
     * their allocations). */
    if (ok) {
        float *zero = calloc((size_t)d, sizeof(float));
        ok = zero && be->ops->upload(be, e->c0, zero, (size_t)d * sizeof(float)) == 0;
        free(zero);
    }
    e->c0_carry = 1;
    if (!ok) {
        vox_encoder_free(e);
        if (be->err.code) return vox_model_error(be, be->err.code, err);
        return vox_fail(err, VOX_ENOMEM, "out of memory for the encoder buffers. Use a machine with more memory");
    }
    return 0;
}

void vox_encoder_free(vox_encoder_t *e) {
    if (!e->m) return;
    vox_backend_t *be = e->m->be;
    for (int i = 0; i < VOX_ENC_GRAPHS; i++)
        if (e->graphs[i].graph) be->ops->graph_free(be, e->graphs[i].graph);
    float *bufs[] = {e->mel_in, e->cols, e->c0, e->x, e->h, e->q, e->att, e->k, e->v, e->f1, e->f3};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (bufs[i]) be->ops->free(be, bufs[i]);
    if (e->kv)
        for (int l = 0; l < e->m->p.enc_n_layers; l++)
            if (e->kv[l]) be->ops->kv_free(be, e->kv[l]);
    free(e->kv);
    free(e->mel_host);
    memset(e, 0, sizeof *e);
}

/* Conv stem over k new mel frames -> e->x [*n1, enc_dim]. */
static int conv_stem(vox_encoder_t *e, const float *mel, int k, int *n1) {
    const vox_model_t *m = e->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int nm = m->p.n_mels, d = m->p.enc_dim;
    *n1 = 0;
    if (k == 0) return 0;
    /* conv0 (k3 s1): rows [2 carried frames | k new] give k outputs, appended after the carry. */
    memcpy(e->mel_host + (size_t)2 * nm, mel, (size_t)k * nm * sizeof(float));
    TRY(o->upload(be, e->mel_in, e->mel_host, (size_t)(k + 2) * nm * sizeof(float)));
    memmove(e->mel_host, e->mel_host + (size_t)k * nm, (size_t)2 * nm * sizeof(float));
    TRY(o->im2col_k3(be, e->cols, e->mel_in, k, nm, 1));
    float *c0_new = e->c0 + (size_t)e->c0_carry * d;
    TRY(o->linear(be, c0_new, e->cols, m->conv0_w, m->conv0_b, k, 0));
    TRY(o->gelu(be, c0_new, (size_t)k * d));
    /* conv1 (k3 s2): output u reads rows 2u, 2u+1, 2u+2 of c0. */
    int rows = e->c0_carry + k;
    int n = rows >= 3 ? (rows - 3) / 2 + 1 : 0;
    if (n > 0) {
        TRY(o->im2col_k3(be, e->cols, e->c0, n, d, 2));
        TRY(o->linear(be, e->x, e->cols, m->conv1_w, m->conv1_b, n, 0));
        TRY(o->gelu(be, e->x, (size_t)n * d));
        /* Keep rows 2n.. (1 or 2 rows; they never overlap their destination since 2n >= 2). */
        int keep = rows - 2 * n;
        TRY(o->copy(be, e->c0, e->c0 + (size_t)2 * n * d, (size_t)keep * d * sizeof(float)));
        e->c0_carry = keep;
    } else {
        e->c0_carry = rows;
    }
    *n1 = n;
    return 0;
}

/* Every layer over n rows of e->x at positions pos0.. (the caller has set the position
 * register): no allocation, no host sync, so graph-capturable once the scratch has grown. */
static int layers(vox_encoder_t *e, int n) {
    const vox_model_t *m = e->m;
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int d = p->enc_dim, H = p->enc_n_heads;
    float eps = (float)p->enc_norm_eps, theta = (float)p->enc_rope_theta;
    for (int l = 0; l < p->enc_n_layers; l++) {
        const vox_enc_layer_backend_t *L = &m->enc[l];
        TRY(o->rmsnorm(be, e->h, e->x, L->attention_norm, NULL, n, d, eps));
        TRY(o->linear(be, e->q, e->h, L->wq, L->bq, n, 0));
        TRY(o->linear(be, e->k, e->h, L->wk, NULL, n, 0));
        TRY(o->linear(be, e->v, e->h, L->wv, L->bv, n, 0));
        TRY(o->rope_kv_write(be, e->kv[l], e->q, e->k, e->v, n, H, theta));
        TRY(o->attention(be, e->att, e->q, e->kv[l], n, H, p->enc_sliding_window));
        TRY(o->linear(be, e->x, e->att, L->wo, L->bo, n, 1));
        TRY(o->rmsnorm(be, e->h, e->x, L->ffn_norm, NULL, n, d, eps));
        TRY(o->linear(be, e->f1, e->h, L->w1, NULL, n, 0));
        TRY(o->linear(be, e->f3, e->h, L->w3, NULL, n, 0));
        TRY(o->silu_mul(be, e->f1, e->f3, (size_t)n * p->enc_hidden_dim));
        TRY(o->linear(be, e->x, e->f1, L->w2, L->b2, n, 1));
    }
    return 0;
}

/* The graph entry for pushes of n positions: the one for n, else a free one or the least recently
 * used (its graph freed: every earlier push has finished, stream.c syncs after each). */
static int graph_entry(vox_encoder_t *e, int n) {
    int pick = 0;
    for (int i = 0; i < VOX_ENC_GRAPHS; i++) {
        if (e->graphs[i].n == n) return i;
        if (e->graphs[i].last < e->graphs[pick].last) pick = i;
    }
    if (e->graphs[pick].graph) e->m->be->ops->graph_free(e->m->be, e->graphs[pick].graph);
    e->graphs[pick].graph = NULL;
    e->graphs[pick].n = n;
    e->graphs[pick].uses = 0;
    return pick;
}

/* The layers over n positions: the first push of n runs them op by op (scratch grows, GEMM plans
 * are made), the second captures them as a graph, and every later one replays it. */
static int run_layers(vox_encoder_t *e, int n) {
    vox_backend_t *be = e->m->be;
    const vox_backend_ops *o = be->ops;
    if (!o->graph_begin) return layers(e, n);
    int i = graph_entry(e, n);
    e->graphs[i].last = ++e->pushes;
    if (e->graphs[i].uses++ == 0) return layers(e, n);
    if (!e->graphs[i].graph) {
        TRY(o->graph_begin(be));
        int rc = layers(e, n);
        vox_graph_t *g = NULL;
        int rc2 = o->graph_end(be, &g); /* always end the capture, even after a failure */
        TRY(rc);
        TRY(rc2);
        e->graphs[i].graph = g;
    }
    return o->graph_launch(be, e->graphs[i].graph);
}

int vox_encoder_push(vox_encoder_t *e, const float *mel, int k, float *out, int *n_out) {
    const vox_model_t *m = e->m;
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int n;
    *n_out = 0;
    if (k < 0 || k > 2 * e->chunk)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "encoder: %d mel frames in one push (max %d). This is a bug; please report it", k,
                        2 * e->chunk);
    TRY(conv_stem(e, mel, k, &n));
    if (n == 0) return 0;
    TRY(o->set_pos(be, e->pos)); /* rows are encoder positions pos .. pos+n-1 in every layer */
    TRY(run_layers(e, n));
    TRY(o->rmsnorm(be, out, e->x, m->enc_norm, NULL, n, p->enc_dim, (float)p->enc_norm_eps));
    e->pos += n;
    *n_out = n;
    return 0;
}
