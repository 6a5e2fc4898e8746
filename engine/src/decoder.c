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

/* The ada scales of every layer for this delay: the model's shared copy, computed here the first time
 * (in double from the host weights: about 16 ms of CPU for the real model, once per delay instead of
 * once per stream). NULL: out of host memory. */
static const float *ada_scales(const vox_model_t *m, int delay_tokens) {
    vox_model_t *mm = (vox_model_t *)m; /* the cache is the only thing a decoder changes in the model */
    const vox_params_t *p = &m->p;
    int dim = p->dim, half = dim / 2;
    pthread_mutex_lock(&mm->ada_mu);
    vox_ada_scales *a = mm->ada;
    while (a && a->delay_tokens != delay_tokens) a = a->next;
    if (!a) {
        double *tc = malloc((size_t)dim * sizeof(double)), *hid = malloc((size_t)p->ada_t_cond_dim * sizeof(double));
        float *v = malloc((size_t)p->n_layers * dim * sizeof(float));
        a = tc && hid && v ? malloc(sizeof *a) : NULL;
        if (a) {
            for (int j = 0; j < half; j++) {
                double f = exp(-log(10000.0) * j / half);
                tc[j] = cos(delay_tokens * f);
                tc[half + j] = sin(delay_tokens * f);
            }
            for (int l = 0; l < p->n_layers; l++)
                compute_ada(&m->w.dec[l], dim, p->ada_t_cond_dim, tc, hid, v + (size_t)l * dim);
            *a = (vox_ada_scales){delay_tokens, v, mm->ada};
            mm->ada = a;
        } else {
            free(v);
        }
        free(tc);
        free(hid);
    }
    pthread_mutex_unlock(&mm->ada_mu);
    return a ? a->v : NULL;
}

int vox_dec_bufs_init(vox_dec_bufs *b, const vox_model_t *m, int rows, int head_rows) {
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int n = rows, dim = p->dim, qw = p->n_heads * p->head_dim, kw = p->n_kv_heads * p->head_dim;
    memset(b, 0, sizeof *b);
    b->rows = rows;
    b->x = o->alloc(be, (size_t)n * dim);
    b->h = o->alloc(be, (size_t)n * dim);
    b->q = o->alloc(be, (size_t)n * qw);
    b->att = o->alloc(be, (size_t)n * qw);
    b->k = o->alloc(be, (size_t)n * kw);
    b->v = o->alloc(be, (size_t)n * kw);
    b->f1 = o->alloc(be, (size_t)n * p->hidden_dim);
    b->f3 = o->alloc(be, (size_t)n * p->hidden_dim);
    b->head_rows = head_rows;
    b->logits = o->alloc(be, (size_t)head_rows * p->vocab_size);
    b->in = o->alloc_i32(be, (size_t)head_rows);
    b->out = o->alloc_i32(be, (size_t)head_rows);
    if (b->x && b->h && b->q && b->att && b->k && b->v && b->f1 && b->f3 && b->logits && b->in && b->out) return 0;
    vox_dec_bufs_free(b, m);
    return be->err.code ? be->err.code : VOX_ENOMEM;
}

void vox_dec_bufs_free(vox_dec_bufs *b, const vox_model_t *m) {
    vox_backend_t *be = m->be;
    void *bufs[] = {b->x, b->h, b->q, b->att, b->k, b->v, b->f1, b->f3, b->logits, b->in, b->out};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (bufs[i]) be->ops->free(be, bufs[i]);
    memset(b, 0, sizeof *b);
}

int vox_decoder_init(vox_decoder_t *d, const vox_model_t *m, int delay_tokens, int spec_rows, vox_error_t *err) {
    memset(d, 0, sizeof *d);
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    d->m = m;
    d->L = 1 + VOX_LEFT_PAD_TOKENS + delay_tokens;
    int n = d->L - 1, dim = p->dim;
    d->prompt = malloc((size_t)d->L * sizeof(int32_t));
    d->ada = calloc((size_t)p->n_layers, sizeof *d->ada);
    d->kv = calloc((size_t)p->n_layers, sizeof *d->kv);
    const float *ada = ada_scales(m, delay_tokens);
    spec_rows = spec_rows < 1 ? 1 : spec_rows > VOX_MAX_SPEC ? VOX_MAX_SPEC : spec_rows;
    int bufs_rc = vox_dec_bufs_init(&d->b, m, n > spec_rows ? n : spec_rows, spec_rows);
    d->ids = o->alloc_i32(be, (size_t)d->L);
    d->tok = o->alloc_i32(be, 1);
    /* the rings start with room for the prompt and VOX_KV_ROOM positions more, and grow (make_room) */
    d->kv_room = p->sliding_window + n < n + VOX_KV_ROOM ? p->sliding_window + n : n + VOX_KV_ROOM;
    int ok = d->prompt && d->ada && d->kv && ada && !bufs_rc && d->ids && d->tok;
    if (ok) {
        d->prompt[0] = m->tok.bos;
        for (int i = 1; i < d->L; i++) d->prompt[i] = m->tok.streaming_pad;
        ok = o->upload(be, d->ids, d->prompt, (size_t)d->L * sizeof(int32_t)) == 0;
    }
    for (int l = 0; ok && l < p->n_layers; l++) {
        d->ada[l] = o->alloc(be, (size_t)dim);
        d->kv[l] = o->kv_new(be, p->sliding_window + n, (int)d->kv_room, p->n_kv_heads, p->head_dim);
        ok = d->ada[l] && d->kv[l] && o->upload(be, d->ada[l], ada + (size_t)l * dim, (size_t)dim * sizeof(float)) == 0;
    }
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
    vox_dec_bufs_free(&d->b, d->m);
    if (d->ids) o->free(be, d->ids);
    if (d->tok) o->free(be, d->tok);
    for (int l = 0; l < d->m->p.n_layers; l++) {
        if (d->ada && d->ada[l]) o->free(be, d->ada[l]);
        if (d->kv && d->kv[l]) o->kv_free(be, d->kv[l]);
    }
    free(d->ada);
    free(d->kv);
    free(d->prompt);
    memset(d, 0, sizeof *d);
}

/* Room in every ring for positions up to `last` before an op writes them: the rings grow (a stream's
 * KV memory follows its length up to the window), and a captured step over the old buffers is
 * dropped (captured again at the next step). */
static int make_room(vox_decoder_t *d, int64_t last) {
    vox_backend_t *be = d->m->be;
    const vox_backend_ops *o = be->ops;
    if (!o->kv_grow || last < d->kv_room) return 0;
    int64_t room = INT64_MAX;
    for (int l = 0; l < d->m->p.n_layers; l++) {
        int64_t r = o->kv_grow(be, d->kv[l], last + 1);
        if (r < 0) return (int)r;
        if (r < room) room = r;
    }
    d->kv_room = room;
    if (d->graph) o->graph_free(be, d->graph);
    d->graph = NULL;
    return 0;
}

/* All layers over n rows of b->x. rows == NULL: one decoder d, row i at position pos0 + i (the
 * caller has set the position register). Else row i belongs to its own decoder, at the position,
 * with the KV rings and ada scales set_rows gave it. */
static int layers(const vox_model_t *m, vox_dec_bufs *b, int n, vox_decoder_t *d, vox_decoder_t *const *rows) {
    const vox_params_t *p = &m->p;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int dim = p->dim, H = p->n_heads;
    float eps = (float)p->norm_eps, theta = (float)p->rope_theta;
    for (int l = 0; l < p->n_layers; l++) {
        const vox_dec_layer_backend_t *L = &m->dec[l];
        /* q/k/v read one input: one linear_multi (one GEMV launch on CUDA); so do w1/w3 with the gate */
        const vox_bweight_t *qkv_w[3] = {L->wq, L->wk, L->wv};
        float *qkv_y[3] = {b->q, b->k, b->v};
        TRY(o->rmsnorm(be, b->h, b->x, L->attention_norm, NULL, n, dim, eps));
        TRY(o->linear_multi(be, 3, qkv_y, b->h, qkv_w, n));
        if (rows) {
            TRY(o->rope_kv_write_rows(be, l, b->q, b->k, b->v, n, H, theta));
            TRY(o->attention_rows(be, l, b->att, b->q, n, H, p->sliding_window));
        } else {
            TRY(o->rope_kv_write(be, d->kv[l], b->q, b->k, b->v, n, H, theta));
            TRY(o->attention(be, b->att, b->q, d->kv[l], n, H, p->sliding_window));
        }
        TRY(o->linear(be, b->x, b->att, L->wo, NULL, n, 1));
        if (rows)
            TRY(o->rmsnorm_rows(be, l, b->h, b->x, L->ffn_norm, n, dim, eps));
        else
            TRY(o->rmsnorm(be, b->h, b->x, L->ffn_norm, d->ada[l], n, dim, eps));
        TRY(o->linear_gated(be, b->f1, b->f3, b->h, L->w1, L->w3, n));
        TRY(o->linear(be, b->x, b->f1, L->w2, NULL, n, 1));
    }
    return 0;
}

/* Final norm, LM head and argmax of n rows: b->logits [n, vocab], ids[i] = argmax of row i. */
static int head(const vox_model_t *m, vox_dec_bufs *b, int n, int32_t *ids) {
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    TRY(o->rmsnorm(be, b->h, b->x, m->norm, NULL, n, m->p.dim, (float)m->p.norm_eps));
    TRY(o->linear(be, b->logits, b->h, m->tok_embeddings, NULL, n, 0));
    return o->argmax(be, ids, b->logits, n, m->p.vocab_size);
}

int vox_decoder_prefill(vox_decoder_t *d, const float *emb) {
    const vox_model_t *m = d->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int n = d->L - 1;
    TRY(o->set_pos(be, 0));
    TRY(o->copy(be, d->b.x, emb, (size_t)n * m->p.dim * sizeof(float)));
    TRY(o->embed(be, d->b.x, m->tok_embeddings, d->ids, n, 1));
    return layers(m, &d->b, n, d, NULL);
}

/* The step body: no allocation, no host sync, positions from the register (graph-capturable).
 * In: d->b.x = audio embedding, d->tok = input token. Out: d->tok = argmax, d->b.logits row 0. */
static int step_body(vox_decoder_t *d) {
    const vox_model_t *m = d->m;
    vox_backend_t *be = m->be;
    TRY(be->ops->embed(be, d->b.x, m->tok_embeddings, d->tok, 1, 1));
    TRY(layers(m, &d->b, 1, d, NULL));
    return head(m, &d->b, 1, d->tok);
}

int vox_decoder_step(vox_decoder_t *d, const float *emb_row, int64_t pos, int *token) {
    const vox_model_t *m = d->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    TRY(make_room(d, pos));
    TRY(o->set_pos(be, pos));
    TRY(o->copy(be, d->b.x, emb_row, (size_t)m->p.dim * sizeof(float)));
    if (pos == d->L - 1) TRY(o->upload(be, d->tok, &d->prompt[d->L - 1], sizeof(int32_t)));
    if (o->graph_begin) {
        if (!d->graph) {
            TRY(o->graph_begin(be));
            int rc = step_body(d);
            vox_graph_t *g = NULL;
            int rc2 = o->graph_end(be, &g); /* always end the capture, even after a failure */
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

int vox_decoder_forward(vox_decoder_t *d, const float *emb, int64_t pos, int k, int guess, int32_t *out) {
    const vox_model_t *m = d->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int32_t in[VOX_MAX_SPEC];
    if (k < 1 || k > VOX_MAX_SPEC || k > d->b.head_rows || pos < d->L - 1)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "decoder forward of %d rows at position %lld. This is a bug; please report it", k,
                        (long long)pos);
    for (int i = 1; i < k; i++) in[i] = guess;
    TRY(make_room(d, pos + k - 1));
    TRY(o->set_pos(be, pos));
    TRY(o->copy(be, d->b.x, emb, (size_t)k * m->p.dim * sizeof(float)));
    if (pos == d->L - 1)
        TRY(o->upload(be, d->b.in, &d->prompt[d->L - 1], sizeof(int32_t)));
    else
        TRY(o->copy(be, d->b.in, d->tok, sizeof(int32_t)));
    if (k > 1) TRY(o->upload(be, d->b.in + 1, in + 1, (size_t)(k - 1) * sizeof(int32_t)));
    TRY(o->embed(be, d->b.x, m->tok_embeddings, d->b.in, k, 1));
    TRY(layers(m, &d->b, k, d, NULL));
    TRY(head(m, &d->b, k, d->b.out));
    return o->download(be, out, d->b.out, (size_t)k * sizeof(int32_t));
}

int vox_decoder_accept(vox_decoder_t *d, int a) {
    vox_backend_t *be = d->m->be;
    return be->ops->copy(be, d->tok, d->b.out + (a - 1), sizeof(int32_t));
}

int vox_decoder_step_rows(vox_dec_bufs *b, vox_decoder_t *const *d, const float *const *emb, const int64_t *pos, int n,
                          int32_t *out) {
    const vox_model_t *m = d[0]->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    size_t row = (size_t)m->p.dim * sizeof(float);
    if (n < 1 || n > VOX_MAX_ROWS || n > b->head_rows)
        return vox_fail(&be->err, VOX_EINTERNAL, "decoder step of %d streams. This is a bug; please report it", n);
    vox_kv_t *const *rings[VOX_MAX_ROWS];
    const float *const *ada[VOX_MAX_ROWS];
    for (int i = 0; i < n; i++) {
        TRY(make_room(d[i], pos[i])); /* may move its rings: before set_rows */
        rings[i] = d[i]->kv;
        ada[i] = (const float *const *)d[i]->ada;
    }
    TRY(o->set_rows(be, pos, rings, ada, m->p.n_layers, n));
    for (int i = 0; i < n; i++) {
        if (pos[i] < d[i]->L - 1)
            return vox_fail(&be->err, VOX_EINTERNAL,
                            "stream %d stepped at position %lld before its prefill. This is a bug; please report it", i,
                            (long long)pos[i]);
        TRY(o->copy(be, b->x + (size_t)i * m->p.dim, emb[i], row));
        if (pos[i] == d[i]->L - 1)
            TRY(o->upload(be, b->in + i, &d[i]->prompt[d[i]->L - 1], sizeof(int32_t)));
        else
            TRY(o->copy(be, b->in + i, d[i]->tok, sizeof(int32_t)));
    }
    TRY(o->embed(be, b->x, m->tok_embeddings, b->in, n, 1));
    TRY(layers(m, b, n, NULL, d));
    TRY(head(m, b, n, b->out));
    for (int i = 0; i < n; i++) TRY(o->copy(be, d[i]->tok, b->out + i, sizeof(int32_t)));
    return o->download(be, out, b->out, (size_t)n * sizeof(int32_t));
}

int vox_decoder_prefill_rows(vox_dec_bufs *b, vox_decoder_t *const *d, const float *const *emb, int n) {
    const vox_model_t *m = d[0]->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    size_t row = (size_t)m->p.dim * sizeof(float);
    int64_t pos[VOX_MAX_ROWS];
    vox_kv_t *const *rings[VOX_MAX_ROWS];
    const float *const *ada[VOX_MAX_ROWS];
    int rows = 0;
    for (int i = 0; i < n; i++) {
        int L1 = d[i]->L - 1;
        if (L1 < 1 || rows + L1 > b->rows || rows + L1 > VOX_MAX_ROWS)
            return vox_fail(&be->err, VOX_EINTERNAL,
                            "prefill of %d streams over %d rows. This is a bug; please report it", n, b->rows);
        for (int j = 0; j < L1; j++, rows++) { /* the rings hold the prompt from the start */
            pos[rows] = j;
            rings[rows] = d[i]->kv;
            ada[rows] = (const float *const *)d[i]->ada;
        }
    }
    if (rows == 0) return vox_fail(&be->err, VOX_EINTERNAL, "prefill of no stream. This is a bug; please report it");
    TRY(o->set_rows(be, pos, rings, ada, m->p.n_layers, rows));
    for (int i = 0, r = 0; i < n; r += d[i]->L - 1, i++) { /* audio embeddings + the prompt's tokens */
        float *x = b->x + (size_t)r * m->p.dim;
        TRY(o->copy(be, x, emb[i], (size_t)(d[i]->L - 1) * row));
        TRY(o->embed(be, x, m->tok_embeddings, d[i]->ids, d[i]->L - 1, 1));
    }
    return layers(m, b, rows, NULL, d);
}

size_t vox_decoder_kv_bytes(const vox_decoder_t *d) {
    vox_backend_t *be = d->m->be;
    size_t s = 0;
    for (int l = 0; l < d->m->p.n_layers; l++) s += be->ops->kv_bytes ? be->ops->kv_bytes(be, d->kv[l]) : 0;
    return s;
}
