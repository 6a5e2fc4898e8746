/* encoder.c — see encoder.h for the computation and the carried state. */
#include <stdlib.h>
#include <string.h>

#include "encoder.h"

int vox_enc_bufs_init(vox_enc_bufs *b, const vox_model_t *m, int rows) {
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    int d = p->enc_dim, qw = p->enc_n_heads * p->enc_head_dim, kw = p->enc_n_kv_heads * p->enc_head_dim;
    memset(b, 0, sizeof *b);
    b->rows = rows;
    b->x = be->ops->alloc(be, (size_t)rows * d);
    b->h = be->ops->alloc(be, (size_t)rows * d);
    b->q = be->ops->alloc(be, (size_t)rows * qw);
    b->att = be->ops->alloc(be, (size_t)rows * qw);
    b->k = be->ops->alloc(be, (size_t)rows * kw);
    b->v = be->ops->alloc(be, (size_t)rows * kw);
    b->f1 = be->ops->alloc(be, (size_t)rows * p->enc_hidden_dim);
    b->f3 = be->ops->alloc(be, (size_t)rows * p->enc_hidden_dim);
    if (b->x && b->h && b->q && b->att && b->k && b->v && b->f1 && b->f3) return 0;
    vox_enc_bufs_free(b, m);
    return be->err.code ? be->err.code : VOX_ENOMEM;
}

void vox_enc_bufs_free(vox_enc_bufs *b, const vox_model_t *m) {
    vox_backend_t *be = m->be;
    for (size_t i = 0; i < sizeof b->pass / sizeof *b->pass; i++)
        if (b->pass[i].graph) be->ops->graph_free(be, b->pass[i].graph);
    float *bufs[] = {b->x, b->h, b->q, b->att, b->k, b->v, b->f1, b->f3};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (bufs[i]) be->ops->free(be, bufs[i]);
    memset(b, 0, sizeof *b);
}

int vox_encoder_init(vox_encoder_t *e, const vox_model_t *m, int chunk, vox_error_t *err) {
    memset(e, 0, sizeof *e);
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    e->m = m;
    e->chunk = chunk;
    int nm = p->n_mels, d = p->enc_dim, cw = 3 * (nm > d ? nm : d);
    size_t fr = (size_t)2 * chunk + 2;
    e->mel_host = calloc(fr * nm, sizeof(float));
    e->mel_in = be->ops->alloc(be, fr * nm);
    e->cols = be->ops->alloc(be, (size_t)2 * chunk * cw);
    e->c0 = be->ops->alloc(be, fr * d);
    e->kv = calloc((size_t)p->enc_n_layers, sizeof *e->kv);
    int ok = e->mel_host && e->mel_in && e->cols && e->c0 && e->kv && !vox_enc_bufs_init(&e->b, m, chunk);
    for (int l = 0; ok && l < p->enc_n_layers; l++) {
        int cap = p->enc_sliding_window + chunk; /* wraps within seconds: whole from the start */
        e->kv[l] = be->ops->kv_new(be, cap, cap, p->enc_n_kv_heads, p->enc_head_dim);
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
    float *bufs[] = {e->mel_in, e->cols, e->c0};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (bufs[i]) be->ops->free(be, bufs[i]);
    vox_enc_bufs_free(&e->b, e->m);
    if (e->kv)
        for (int l = 0; l < e->m->p.enc_n_layers; l++)
            if (e->kv[l]) be->ops->kv_free(be, e->kv[l]);
    free(e->kv);
    free(e->mel_host);
    memset(e, 0, sizeof *e);
}

/* Conv stem over k new mel frames -> e->b.x [*n1, enc_dim]. */
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
        TRY(o->linear(be, e->b.x, e->cols, m->conv1_w, m->conv1_b, n, 0));
        TRY(o->gelu(be, e->b.x, (size_t)n * d));
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

/* Every layer over n rows of b->x. e: the rows of encoder e at positions pos0.. (the caller has set
 * the position register). e == NULL: row i at the position and over the KV rings set_rows gave it.
 * No allocation, no host sync: graph-capturable once the scratch has grown. */
static int layers(const vox_model_t *m, const vox_enc_bufs *b, int n, vox_encoder_t *e) {
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int d = p->enc_dim, H = p->enc_n_heads, W = p->enc_sliding_window;
    float eps = (float)p->enc_norm_eps, theta = (float)p->enc_rope_theta;
    for (int l = 0; l < p->enc_n_layers; l++) {
        const vox_enc_layer_backend_t *L = &m->enc[l];
        TRY(o->rmsnorm(be, b->h, b->x, L->attention_norm, NULL, n, d, eps));
        TRY(o->linear(be, b->q, b->h, L->wq, L->bq, n, 0));
        TRY(o->linear(be, b->k, b->h, L->wk, NULL, n, 0));
        TRY(o->linear(be, b->v, b->h, L->wv, L->bv, n, 0));
        if (!e) {
            TRY(o->rope_kv_write_rows(be, l, b->q, b->k, b->v, n, H, theta));
            TRY(o->attention_rows(be, l, b->att, b->q, n, H, W));
        } else {
            TRY(o->rope_kv_write(be, e->kv[l], b->q, b->k, b->v, n, H, theta));
            TRY(o->attention(be, b->att, b->q, e->kv[l], n, H, W));
        }
        TRY(o->linear(be, b->x, b->att, L->wo, L->bo, n, 1));
        TRY(o->rmsnorm(be, b->h, b->x, L->ffn_norm, NULL, n, d, eps));
        TRY(o->linear_gated(be, b->f1, b->f3, b->h, L->w1, L->w3, n));
        TRY(o->linear(be, b->x, b->f1, L->w2, L->b2, n, 1));
    }
    return 0;
}

/* The graph entry for pushes of n positions: the one for n, else a free one or the least recently
 * used (its graph freed; CUDA frees a graph still in flight once it completes). */
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

/* What a graph of the encoder holds: the layers of encoder e (pushes), or a pass (e == NULL). */
typedef int (*graph_body)(const vox_model_t *m, const vox_enc_bufs *b, int n, vox_encoder_t *e);

/* body over n rows: op by op at its first use (scratch grows, GEMM plans are made), captured at the
 * second into *graph, replayed after; op by op always on backends without graphs. */
static int run_captured(const vox_model_t *m, graph_body body, const vox_enc_bufs *b, int n, vox_encoder_t *e,
                        int *uses, vox_graph_t **graph) {
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    if (!o->graph_begin || (*uses)++ == 0) return body(m, b, n, e);
    if (!*graph) {
        TRY(o->graph_begin(be));
        int rc = body(m, b, n, e);
        vox_graph_t *g = NULL;
        int rc2 = o->graph_end(be, &g); /* always end the capture, even after a failure */
        TRY(rc);
        TRY(rc2);
        *graph = g;
    }
    return o->graph_launch(be, *graph);
}

/* The layers over n positions of a push, with the graph entry for n. */
static int run_layers(vox_encoder_t *e, int n) {
    int i = graph_entry(e, n);
    e->graphs[i].last = ++e->pushes;
    return run_captured(e->m, layers, &e->b, n, e, &e->graphs[i].uses, &e->graphs[i].graph);
}

int vox_encoder_stem(vox_encoder_t *e, const float *mel, int k, int *n_out) {
    vox_backend_t *be = e->m->be;
    *n_out = 0;
    if (k < 0 || k > 2 * e->chunk)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "encoder: %d mel frames in one push (max %d). This is a bug; please report it", k,
                        2 * e->chunk);
    return conv_stem(e, mel, k, n_out);
}

int vox_encoder_run(vox_encoder_t *e, int n, float *out) {
    const vox_params_t *p = &e->m->p;
    vox_backend_t *be = e->m->be;
    if (n == 0) return 0;
    TRY(be->ops->set_pos(be, e->pos)); /* rows are encoder positions pos .. pos+n-1 in every layer */
    TRY(run_layers(e, n));
    TRY(be->ops->rmsnorm(be, out, e->b.x, e->m->enc_norm, NULL, n, p->enc_dim, (float)p->enc_norm_eps));
    e->pos += n;
    return 0;
}

/* A/B switch (engine/README.md): -DVOX_ENC_PASS_GRAPH=0 runs every pass op by op at its own size. */
#ifndef VOX_ENC_PASS_GRAPH
#define VOX_ENC_PASS_GRAPH 1
#endif

/* A pass's layers and final norm over n rows of g (the table set): g->h gets the outputs. */
static int pass_body(const vox_model_t *m, const vox_enc_bufs *g, int n, vox_encoder_t *unused) {
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    (void)unused;
    TRY(layers(m, g, n, NULL));
    return be->ops->rmsnorm(be, g->h, g->x, m->enc_norm, NULL, n, p->enc_dim, (float)p->enc_norm_eps);
}

/* The pass of n rows (on backends with graphs a multiple of VOX_PASS_STEP, or g->rows): one graph per
 * size, as run_captured makes them. */
static int run_pass(const vox_model_t *m, vox_enc_bufs *g, int n) {
    if (!VOX_ENC_PASS_GRAPH) return pass_body(m, g, n, NULL);
    int i = (n - 1) / VOX_PASS_STEP;
    return run_captured(m, pass_body, g, n, NULL, &g->pass[i].uses, &g->pass[i].graph);
}

int vox_encoder_run_rows(vox_enc_bufs *g, vox_encoder_t *const *e, const int *from, const int *n, float *const *out,
                         int count) {
    const vox_model_t *m = e[0]->m;
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    size_t row = (size_t)p->enc_dim * sizeof(float);
    vox_kv_t *const *rings[VOX_MAX_ROWS];
    int64_t pos[VOX_MAX_ROWS];
    int r = 0;
    for (int i = 0; i < count; i++) {
        if (n[i] < 1 || r + n[i] > g->rows || r + n[i] > VOX_MAX_ROWS)
            return vox_fail(&be->err, VOX_EINTERNAL,
                            "encoder pass of %d more rows after %d, at most %d. This is a bug; please report it", n[i],
                            r, g->rows);
        TRY(o->copy(be, g->x + (size_t)r * p->enc_dim, e[i]->b.x + (size_t)from[i] * p->enc_dim, (size_t)n[i] * row));
        for (int j = 0; j < n[i]; j++, r++) {
            rings[r] = e[i]->kv;
            pos[r] = e[i]->pos + j;
        }
    }
    /* With graphs, padding rows up to the pass's size (their rows of g hold whatever they held) */
    int rows = r;
    if (o->graph_begin && VOX_ENC_PASS_GRAPH) {
        rows = (r + VOX_PASS_STEP - 1) / VOX_PASS_STEP * VOX_PASS_STEP;
        if (rows > g->rows) rows = g->rows;
    }
    for (int i = r; i < rows; i++) {
        rings[i] = NULL;
        pos[i] = -1;
    }
    TRY(o->set_rows(be, pos, rings, NULL, p->enc_n_layers, rows));
    TRY(run_pass(m, g, rows));
    r = 0;
    for (int i = 0; i < count; i++) {
        TRY(o->copy(be, out[i], g->h + (size_t)r * p->enc_dim, (size_t)n[i] * row));
        r += n[i];
        e[i]->pos += n[i];
    }
    return 0;
}
