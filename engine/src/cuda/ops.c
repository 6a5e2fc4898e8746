/* ops.c — launches of the small kernels: pointwise, RMSNorm, RoPE, im2col, embedding, argmax,
 * KV writes. Shapes are checked here; the kernels trust them. */
#include "cuda_impl.h"

int vox_cuda_gelu(vox_backend_t *be, float *x, size_t n) {
    vox_cuda_t *c = vox_cuda(be);
    long long nn = (long long)n;
    void *args[] = {&x, &nn};
    return vox_cuda_launch(be, c->k.k_gelu, vox_cuda_grid(c, n), 1, 1, 256, args);
}

int vox_cuda_silu_mul(vox_backend_t *be, float *a, const float *b, size_t n) {
    vox_cuda_t *c = vox_cuda(be);
    long long nn = (long long)n;
    void *args[] = {&a, &b, &nn};
    return vox_cuda_launch(be, c->k.k_silu_mul, vox_cuda_grid(c, n), 1, 1, 256, args);
}

int vox_cuda_add(vox_backend_t *be, float *y, const float *x, size_t n) {
    vox_cuda_t *c = vox_cuda(be);
    long long nn = (long long)n;
    void *args[] = {&y, &x, &nn};
    return vox_cuda_launch(be, c->k.k_add, vox_cuda_grid(c, n), 1, 1, 256, args);
}

int vox_cuda_rmsnorm(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const float *scale1p, int n,
                     int dim, float eps) {
    vox_cuda_t *c = vox_cuda(be);
    if (!w->is_f32 || w->rows != dim)
        return vox_fail(&be->err, VOX_EINTERNAL, "rmsnorm: weight of %lld values for dim %d", (long long)w->rows, dim);
    void *args[] = {&y, &x, (void *)&w->d, &scale1p, &dim, &eps};
    return vox_cuda_launch(be, c->k.k_rmsnorm, (unsigned)n, 1, 1, dim >= 1024 ? 512 : 128, args);
}

int vox_cuda_rope(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta) {
    vox_cuda_t *c = vox_cuda(be);
    if (head_dim % 2) return vox_fail(&be->err, VOX_EINTERNAL, "rope: odd head_dim %d", head_dim);
    long long off = (long long)be->rope_offset;
    void *args[] = {&x, &c->pos, &off, &n, &n_heads, &head_dim, &theta};
    return vox_cuda_launch(be, c->k.k_rope, vox_cuda_grid(c, (size_t)n * n_heads * head_dim / 2), 1, 1, 256, args);
}

int vox_cuda_im2col_k3(vox_backend_t *be, float *cols, const float *x, int n_out, int c_in, int stride) {
    vox_cuda_t *c = vox_cuda(be);
    void *args[] = {&cols, &x, &n_out, &c_in, &stride};
    return vox_cuda_launch(be, c->k.k_im2col_k3, vox_cuda_grid(c, (size_t)n_out * c_in * 3), 1, 1, 256, args);
}

int vox_cuda_embed(vox_backend_t *be, float *y, const vox_bweight_t *table, const int32_t *ids, int n, int accumulate) {
    vox_cuda_t *c = vox_cuda(be);
    if (table->is_f32) return vox_fail(&be->err, VOX_EINTERNAL, "embed: the table is a vector, not a matrix");
    int dim = (int)table->cols, vocab = (int)table->rows;
    accumulate = accumulate ? 1 : 0;
    void *args[] = {&y, (void *)&table->d, &ids, &dim, &vocab, &accumulate};
    return vox_cuda_launch(be, c->k.k_embed, (unsigned)n, 1, 1, 256, args);
}

/* Two passes over groups of up to VOX_ARGMAX_ROWS rows: chunk maxima, then one warp per row. */
int vox_cuda_argmax(vox_backend_t *be, int32_t *out_id, const float *logits, int n, int vocab) {
    vox_cuda_t *c = vox_cuda(be);
    int chunks = VOX_ARGMAX_CHUNKS;
    for (int r0 = 0; r0 < n; r0 += VOX_ARGMAX_ROWS) {
        int rows = n - r0 < VOX_ARGMAX_ROWS ? n - r0 : VOX_ARGMAX_ROWS;
        const float *lg = logits + (size_t)r0 * vocab;
        int32_t *ids = out_id + r0;
        void *pargs[] = {&c->argmax_part, &lg, &vocab};
        int rc = vox_cuda_launch(be, c->k.k_argmax_part, (unsigned)chunks, (unsigned)rows, 1, 256, pargs);
        if (rc) return rc;
        void *fargs[] = {&ids, &c->argmax_part, &chunks};
        if ((rc = vox_cuda_launch(be, c->k.k_argmax_final, (unsigned)rows, 1, 1, 32, fargs))) return rc;
    }
    return 0;
}

int vox_cuda_kv_write(vox_backend_t *be, vox_kv_t *kv, const float *k, const float *v, int n) {
    vox_cuda_t *c = vox_cuda(be);
    if (n > kv->capacity)
        return vox_fail(&be->err, VOX_EINTERNAL, "kv_write: %d rows into a ring of %d", n, kv->capacity);
    int kvd = kv->n_kv_heads * kv->head_dim;
    void *args[] = {&kv->k, &kv->v, &k, &v, &c->pos, &n, &kvd, &kv->capacity};
    return vox_cuda_launch(be, c->k.k_kv_write, vox_cuda_grid(c, (size_t)n * kvd), 1, 1, 256, args);
}

int vox_cuda_rope_kv_write(vox_backend_t *be, vox_kv_t *kv, float *q, float *k, const float *v, int n, int n_heads,
                           float theta) {
    vox_cuda_t *c = vox_cuda(be);
    int kvh = kv->n_kv_heads, hd = kv->head_dim;
    if (!VOX_CUDA_FUSE_ROPE_KV) { /* A/B builds: the three launches */
        int rc = vox_cuda_rope(be, q, n, n_heads, hd, theta);
        if (!rc) rc = vox_cuda_rope(be, k, n, kvh, hd, theta);
        return rc ? rc : vox_cuda_kv_write(be, kv, k, v, n);
    }
    if (n > kv->capacity)
        return vox_fail(&be->err, VOX_EINTERNAL, "rope_kv_write: %d rows into a ring of %d", n, kv->capacity);
    if (hd % 2) return vox_fail(&be->err, VOX_EINTERNAL, "rope_kv_write: odd head_dim %d", hd);
    long long off = (long long)be->rope_offset;
    void *args[] = {&q, &k, &v, &kv->k, &kv->v, &c->pos, &off, &n, &n_heads, &kvh, &hd, &kv->capacity, &theta};
    return vox_cuda_launch(be, c->k.k_rope_kv_write, vox_cuda_grid(c, (size_t)n * (n_heads + kvh) * hd / 2), 1, 1, 256,
                           args);
}
