/* rows.c — the CUDA backend's row-table ops (backend.h: set_rows, rope_rows, kv_write_rows,
 * attention_rows, rmsnorm_rows) and kv_bytes. Each launch carries a vox_rows_args block by value
 * (kernels/rows_args.cuh) built from the positions set_rows kept on the host and the rings or
 * scales of the call, so these ops refuse to run inside a graph capture (a captured launch would
 * freeze the positions). Built, and checked by dev/opcheck.c against a CPU reference in double;
 * verified on the H200 (gpu-check: tokens identical to single steps, memcheck/racecheck clean). */
#include <math.h>
#include <string.h>

#include "cuda_impl.h"
#include "../../kernels/rows_args.cuh"

#if VOX_ROWS_ARGS_MAX != VOX_MAX_ROWS
#error "kernels/rows_args.cuh VOX_ROWS_ARGS_MAX must equal VOX_MAX_ROWS (backend.h)"
#endif

static int rows_args(vox_backend_t *be, const char *op, int n, vox_rows_args *a) {
    vox_cuda_t *c = vox_cuda(be);
    if (c->capturing)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "%s inside a graph capture (its positions travel by value). This is a bug; please report it",
                        op);
    if (n < 1 || n > c->n_rows)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "%s: %d rows but set_rows gave %d positions. This is a bug; please report it", op, n,
                        c->n_rows);
    memset(a, 0, sizeof *a);
    a->n = n;
    for (int i = 0; i < n; i++) a->pos[i] = c->rows_pos[i];
    return 0;
}

int vox_cuda_set_rows(vox_backend_t *be, const int64_t *pos, int n) {
    vox_cuda_t *c = vox_cuda(be);
    if (n < 0 || n > VOX_MAX_ROWS)
        return vox_fail(&be->err, VOX_EINTERNAL, "set_rows: %d rows, at most %d. This is a bug; please report it", n,
                        VOX_MAX_ROWS);
    for (int i = 0; i < n; i++) c->rows_pos[i] = pos[i];
    c->n_rows = n;
    return 0;
}

int vox_cuda_rope_rows(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta) {
    vox_cuda_t *c = vox_cuda(be);
    vox_rows_args a;
    int rc = rows_args(be, "rope_rows", n, &a);
    if (rc) return rc;
    if (head_dim % 2) return vox_fail(&be->err, VOX_EINTERNAL, "rope_rows: odd head_dim %d", head_dim);
    void *args[] = {&x, &a, &n_heads, &head_dim, &theta};
    return vox_cuda_launch(be, c->k.k_rope_rows, vox_cuda_grid(c, (size_t)n * n_heads * head_dim / 2), 1, 1, 256, args);
}

/* The row table of a K/V write: positions from set_rows, ring i of row i (all rings as wide as ring 0). */
static int rings_args(vox_backend_t *be, const char *op, vox_kv_t *const *kv, int n, vox_rows_args *a) {
    int rc = rows_args(be, op, n, a);
    if (rc) return rc;
    for (int i = 0; i < n; i++) {
        if (kv[i]->n_kv_heads != kv[0]->n_kv_heads || kv[i]->head_dim != kv[0]->head_dim)
            return vox_fail(&be->err, VOX_EINTERNAL,
                            "%s: ring %d is %d x %d wide, ring 0 %d x %d. This is a bug; please report it", op, i,
                            kv[i]->n_kv_heads, kv[i]->head_dim, kv[0]->n_kv_heads, kv[0]->head_dim);
        a->k[i] = kv[i]->k;
        a->v[i] = kv[i]->v;
        a->cap[i] = kv[i]->capacity;
    }
    return 0;
}

int vox_cuda_kv_write_rows(vox_backend_t *be, vox_kv_t *const *kv, const float *k, const float *v, int n) {
    vox_cuda_t *c = vox_cuda(be);
    vox_rows_args a;
    int rc = rings_args(be, "kv_write_rows", kv, n, &a);
    if (rc) return rc;
    int kvd = kv[0]->n_kv_heads * kv[0]->head_dim;
    void *args[] = {&a, &k, &v, &kvd};
    return vox_cuda_launch(be, c->k.k_kv_write_rows, vox_cuda_grid(c, (size_t)n * kvd), 1, 1, 256, args);
}

int vox_cuda_rope_kv_write_rows(vox_backend_t *be, vox_kv_t *const *kv, float *q, float *k, const float *v, int n,
                                int n_heads, float theta) {
    vox_cuda_t *c = vox_cuda(be);
    vox_rows_args a;
    int rc = rings_args(be, "rope_kv_write_rows", kv, n, &a);
    if (rc) return rc;
    int kvh = kv[0]->n_kv_heads, hd = kv[0]->head_dim;
    if (!VOX_CUDA_FUSE_ROPE_KV) { /* A/B builds: the three launches */
        rc = vox_cuda_rope_rows(be, q, n, n_heads, hd, theta);
        if (!rc) rc = vox_cuda_rope_rows(be, k, n, kvh, hd, theta);
        return rc ? rc : vox_cuda_kv_write_rows(be, kv, k, v, n);
    }
    if (hd % 2) return vox_fail(&be->err, VOX_EINTERNAL, "rope_kv_write_rows: odd head_dim %d", hd);
    void *args[] = {&q, &k, &v, &a, &n_heads, &kvh, &hd, &theta};
    return vox_cuda_launch(be, c->k.k_rope_kv_write_rows, vox_cuda_grid(c, (size_t)n * (n_heads + kvh) * hd / 2), 1, 1,
                           256, args);
}

/* The rows' attention runs the single-step kernel's tiles (attention.cu, vox_attn_rows_*): per row,
 * tiles of 4 of its G query heads per KV head, so each K/V tile is read once for the G heads, and
 * the keys split (flash-decoding) until rows x tiles x KV heads x splits give 4 blocks per SM.
 * Partials go to their own buffer (rows_part), never to the single step's attn_part, whose address
 * captured decode graphs hold. */
int vox_cuda_attention_rows(vox_backend_t *be, float *out, const float *q, vox_kv_t *const *kv, int n, int n_heads,
                            int window) {
    vox_cuda_t *c = vox_cuda(be);
    vox_rows_args a;
    int rc = rows_args(be, "attention_rows", n, &a);
    if (rc) return rc;
    int kvh = kv[0]->n_kv_heads, hd = kv[0]->head_dim;
    if (n_heads % kvh || hd % 2 || hd > 128)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "attention_rows: %d heads over %d KV heads, head_dim %d (needs a multiple, even, <= 128)",
                        n_heads, kvh, hd);
    for (int i = 0; i < n; i++) {
        if (kv[i]->n_kv_heads != kvh || kv[i]->head_dim != hd || kv[i]->full < window)
            return vox_fail(
                &be->err, VOX_EINTERNAL,
                "attention_rows: ring %d (%d slots, %d x %d) for window %d. This is a bug; please report it", i,
                kv[i]->full, kv[i]->n_kv_heads, kv[i]->head_dim, window);
        a.k[i] = kv[i]->k;
        a.v[i] = kv[i]->v;
        a.cap[i] = kv[i]->capacity;
    }
    int tiles = (n_heads / kvh + 3) / 4;
    int nsplit = vox_cuda_attn_splits((long long)n * tiles * kvh, 4LL * c->sm_count, (window + 63) / 64);
    if (nsplit > 1) {
        size_t need = (size_t)nsplit * n * n_heads * (hd + 2) * sizeof(float);
        rc = vox_cuda_reserve(be, (void **)&c->rows_part, &c->rows_part_cap, need, "attention_rows");
        if (rc) return rc;
    }
    float scale_log2 = (float)(1.4426950408889634 / sqrt((double)hd)); /* log2(e)/sqrt(hd) */
    void *args[] = {&out, &c->rows_part, &q, &a, &n_heads, &kvh, &hd, &window, &scale_log2};
    rc = vox_cuda_launch(be, hd <= 64 ? c->k.k_attn_rows_d64 : c->k.k_attn_rows_d128, (unsigned)(n * tiles),
                         (unsigned)kvh, (unsigned)nsplit, 128, args);
    return rc || nsplit == 1 ? rc : vox_cuda_attn_combine(be, out, c->rows_part, n * n_heads, hd, nsplit);
}

int vox_cuda_rmsnorm_rows(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w,
                          const float *const *scale1p, int n, int dim, float eps) {
    vox_cuda_t *c = vox_cuda(be);
    if (!w->is_f32 || w->rows != dim)
        return vox_fail(&be->err, VOX_EINTERNAL, "rmsnorm_rows: weight of %lld values for dim %d", (long long)w->rows,
                        dim);
    if (n < 1 || n > VOX_MAX_ROWS)
        return vox_fail(&be->err, VOX_EINTERNAL, "rmsnorm_rows: %d rows, at most %d. This is a bug; please report it",
                        n, VOX_MAX_ROWS);
    vox_rows_args a;
    memset(&a, 0, sizeof a);
    a.n = n;
    for (int i = 0; i < n; i++) a.scale[i] = scale1p[i];
    void *args[] = {&y, &x, (void *)&w->d, &a, &dim, &eps};
    return vox_cuda_launch(be, c->k.k_rmsnorm_rows, (unsigned)n, 1, 1, dim >= 1024 ? 512 : 128, args);
}

size_t vox_cuda_kv_bytes(vox_backend_t *be, const vox_kv_t *kv) {
    (void)be;
    return (size_t)kv->capacity * kv->n_kv_heads * kv->head_dim * 2 * 2; /* bf16 K and V, whole ring */
}
