/* backend_cpu.c — the CPU reference backend (f32 activations, BF16 weights from the mapping).
 *
 * linear: n <= GEMV_MAX_ROWS (decode, small streaming chunks): a threaded BF16 GEMV reading the
 * weights straight from the mmap. Larger n: the weight is walked in tiles of rows;
 * each thread widens its tile to f32 in a private scratch and calls cblas_sgemm on it, so no
 * call ever materialises a whole F32 copy of a matrix. A tile holds TILE_BYTES of f32 (64 rows of a
 * 3072-wide matrix): measured on the 2-core Xeon, 64-row tiles ran n=38 (the prefill) 1.8x and
 * n=512 1.5x faster than 128-row tiles. OpenBLAS runs single-threaded inside
 * our own pool (one level of parallelism). Attention: see att_worker. Everything else is
 * single-threaded and cheap next to the matrix products.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cpu_kernels.h"
#include "cpu_pool.h"

#ifndef GEMV_MAX_ROWS          /* (overridable for engine/dev experiments) */
#define GEMV_MAX_ROWS 8
#endif
#ifndef TILE_BYTES            /* f32 weight tile per thread: sized to stay in a 1 MB L2 */
#define TILE_BYTES (768 * 1024)
#endif
#define MAX_THREADS 256

struct vox_bweight {
    vox_dtype dt;          /* VOX_DT_BF16 (data in the mapping) or VOX_DT_F32 */
    int rows, cols;        /* [rows, cols]; 1-D tensors are [n, 1] */
    const void *data;
    void *owned;           /* non-NULL when data was converted/copied at upload */
};

struct vox_kv {
    int cap, n_kv_heads, head_dim, width;   /* ring slots; width = n_kv_heads*head_dim */
    float *k, *v;          /* [cap, width] each */
};

typedef struct {
    vox_pool_t *pool;
    int n_threads, avx2;
    int64_t pos0;
    float *tile[MAX_THREADS];      /* per-thread f32 weight tile scratch */
    size_t tile_n;
    float *scores[MAX_THREADS];    /* per-thread attention scores scratch */
    size_t scores_n;
    char name[160];
    double ms_gemv, ms_tiles, ms_attention;   /* --debug: time per op family, printed at destroy */
} cpu_t;

static cpu_t *C(vox_backend_t *be) { return (cpu_t *)be->impl; }

/* ---------------- memory ---------------- */

static float *cpu_alloc(vox_backend_t *be, size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) vox_fail(&be->err, VOX_ENOMEM, "out of host memory allocating %zu MB. Close other programs or use a machine with more RAM", n * 4 >> 20);
    return p;
}
static int32_t *cpu_alloc_i32(vox_backend_t *be, size_t n) {
    int32_t *p = calloc(n ? n : 1, sizeof(int32_t));
    if (!p) vox_fail(&be->err, VOX_ENOMEM, "out of host memory. Close other programs or use a machine with more RAM");
    return p;
}
static void cpu_free(vox_backend_t *be, void *p) { (void)be; free(p); }
static int cpu_memcpy(vox_backend_t *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    memmove(dst, src, bytes);
    return 0;
}

/* ---------------- weights ---------------- */

static int cpu_weight_upload(vox_backend_t *be, const vox_tensor_t *t, vox_bweight_t **out) {
    vox_bweight_t *w = calloc(1, sizeof *w);
    if (!w) return vox_fail(&be->err, VOX_ENOMEM, "out of host memory loading %s. Use a machine with more RAM", t->name);
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    w->rows = (int)t->shape[0];
    w->cols = (int)(n / (size_t)(w->rows ? w->rows : 1));
    /* BF16 matrices stay in the mapping (when 2-byte aligned); everything else becomes f32. */
    if (t->dtype == VOX_DT_BF16 && t->ndim >= 2 && ((uintptr_t)t->data & 1) == 0) {
        w->dt = VOX_DT_BF16;
        w->data = t->data;
    } else {
        float *f = malloc(n * sizeof(float));
        if (!f) { free(w); return vox_fail(&be->err, VOX_ENOMEM, "out of host memory converting %s. Use a machine with more RAM", t->name); }
        vox_tensor_to_f32(t, f);
        w->dt = VOX_DT_F32;
        w->data = w->owned = f;
    }
    *out = w;
    return 0;
}
static void cpu_weight_free(vox_backend_t *be, vox_bweight_t *w) {
    (void)be;
    if (!w) return;
    free(w->owned);
    free(w);
}

/* ---------------- linear ---------------- */

typedef struct {
    cpu_t *c;
    float *y;
    const float *x;
    const vox_bweight_t *w;
    const float *b;
    int n, acc;
} lin_job;

static void gemv_worker(void *arg, int t, int nt) {
    lin_job *j = arg;
    int out = j->w->rows, per = (out + nt - 1) / nt;
    per = (per + 7) & ~7;   /* keep thread boundaries on 8-row (cache-friendly) multiples */
    int r0 = t * per, r1 = r0 + per < out ? r0 + per : out;
    if (r0 < r1)
        vox_cpu_gemv_bf16(j->c->avx2, (const uint16_t *)j->w->data, j->w->cols, j->x, j->n, j->y, out,
                          r0, r1, j->b, j->acc);
}

/* Rows per tile for a matrix `in` wide: TILE_BYTES of f32, a multiple of 16, 16..256. */
static int tile_rows(int in) {
    int r = (int)(TILE_BYTES / sizeof(float) / (size_t)in) & ~15;
    return r < 16 ? 16 : r > 256 ? 256 : r;
}

static void tile_worker(void *arg, int t, int nt) {
    lin_job *j = arg;
    int out = j->w->rows, in = j->w->cols, tr = tile_rows(in);
    int n_tiles = (out + tr - 1) / tr;
    for (int tile = t; tile < n_tiles; tile += nt) {
        int r0 = tile * tr, rows = out - r0 < tr ? out - r0 : tr;
        const float *wt;
        if (j->w->dt == VOX_DT_F32) {
            wt = (const float *)j->w->data + (size_t)r0 * in;
        } else {
            vox_cpu_bf16_to_f32(j->c->avx2, (const uint16_t *)j->w->data + (size_t)r0 * in, j->c->tile[t],
                                (size_t)rows * in);
            wt = j->c->tile[t];
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->n, rows, in, 1.0f, j->x, in, wt, in,
                    j->acc ? 1.0f : 0.0f, j->y + r0, out);
        if (j->b)
            for (int i = 0; i < j->n; i++)
                for (int r = 0; r < rows; r++) j->y[(size_t)i * out + r0 + r] += j->b[r0 + r];
    }
}

static int cpu_linear(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w,
                      const vox_bweight_t *b, int n, int accumulate) {
    cpu_t *c = C(be);
    if (n <= 0) return 0;
    if (b && b->rows * b->cols != w->rows)
        return vox_fail(&be->err, VOX_EINTERNAL, "linear: bias of %d values for %d outputs. This is a bug; please report it", b->rows * b->cols, w->rows);
    lin_job j = {c, y, x, w, b ? (const float *)b->data : NULL, n, accumulate};
    double t0 = be->debug ? vox_now_ms() : 0.0;
    if (w->dt == VOX_DT_BF16 && n <= GEMV_MAX_ROWS) {
        vox_pool_run(c->pool, gemv_worker, &j);
        if (be->debug) c->ms_gemv += vox_now_ms() - t0;
        return 0;
    }
    size_t need = (size_t)tile_rows(w->cols) * (size_t)w->cols;
    if (w->dt == VOX_DT_BF16 && need > c->tile_n) {
        for (int t = 0; t < c->n_threads; t++) {
            free(c->tile[t]);
            c->tile[t] = malloc(need * sizeof(float));
            if (!c->tile[t]) { c->tile_n = 0; return vox_fail(&be->err, VOX_ENOMEM, "out of host memory for a weight tile. Use a machine with more RAM"); }
        }
        c->tile_n = need;
    }
    vox_pool_run(c->pool, tile_worker, &j);
    if (be->debug) c->ms_tiles += vox_now_ms() - t0;
    return 0;
}

/* ---------------- element-wise ops ---------------- */

static int cpu_rmsnorm(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w,
                       const float *scale1p, int n, int dim, float eps) {
    (void)be;
    const float *wf = w->data;
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * dim;
        float *yi = y + (size_t)i * dim;
        double ss = 0.0;
        for (int k = 0; k < dim; k++) ss += (double)xi[k] * xi[k];
        float r = (float)(1.0 / sqrt(ss / dim + eps));
        for (int k = 0; k < dim; k++) {
            float v = xi[k] * r * wf[k];
            yi[k] = scale1p ? v * (1.0f + scale1p[k]) : v;
        }
    }
    return 0;
}

/* Angles as the reference computes them in f32: inv_freq_j = theta^(-2j/hd), angle = pos * inv_freq_j. */
static int cpu_rope(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta) {
    cpu_t *c = C(be);
    int half = head_dim / 2;
    float *cs = malloc((size_t)head_dim * sizeof(float));
    if (!cs) return vox_fail(&be->err, VOX_ENOMEM, "out of host memory. Use a machine with more RAM");
    for (int i = 0; i < n; i++) {
        float pos = (float)(c->pos0 + i);
        for (int j = 0; j < half; j++) {
            float inv = (float)(1.0 / pow((double)theta, (double)(2 * j) / head_dim));
            float ang = pos * inv;
            cs[2 * j] = (float)cos((double)ang);
            cs[2 * j + 1] = (float)sin((double)ang);
        }
        float *row = x + (size_t)i * n_heads * head_dim;
        for (int h = 0; h < n_heads; h++) {
            float *v = row + (size_t)h * head_dim;
            for (int j = 0; j < half; j++) {
                float a = v[2 * j], b = v[2 * j + 1], co = cs[2 * j], si = cs[2 * j + 1];
                v[2 * j] = a * co - b * si;
                v[2 * j + 1] = a * si + b * co;
            }
        }
    }
    free(cs);
    return 0;
}

static int cpu_gelu(vox_backend_t *be, float *x, size_t n) {
    (void)be;
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
    return 0;
}

static int cpu_silu_mul(vox_backend_t *be, float *a, const float *b, size_t n) {
    (void)be;
    for (size_t i = 0; i < n; i++) a[i] = a[i] / (1.0f + expf(-a[i])) * b[i];
    return 0;
}

static int cpu_add(vox_backend_t *be, float *y, const float *x, size_t n) {
    (void)be;
    for (size_t i = 0; i < n; i++) y[i] += x[i];
    return 0;
}

static int cpu_im2col_k3(vox_backend_t *be, float *cols, const float *x, int n_out, int c_in, int stride) {
    (void)be;
    for (int t = 0; t < n_out; t++) {
        float *ct = cols + (size_t)t * c_in * 3;
        for (int k = 0; k < 3; k++) {
            const float *xr = x + (size_t)(t * stride + k) * c_in;
            for (int ci = 0; ci < c_in; ci++) ct[ci * 3 + k] = xr[ci];
        }
    }
    return 0;
}

static int cpu_embed(vox_backend_t *be, float *y, const vox_bweight_t *table, const int32_t *ids, int n,
                     int accumulate) {
    cpu_t *c = C(be);
    int dim = table->cols;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= table->rows)
            return vox_fail(&be->err, VOX_EINTERNAL, "embed: token id %d outside the table of %d rows. This is a bug; please report it", ids[i], table->rows);
        float *yi = y + (size_t)i * dim;
        if (table->dt == VOX_DT_F32) {
            const float *src = (const float *)table->data + (size_t)ids[i] * dim;
            for (int k = 0; k < dim; k++) yi[k] = accumulate ? yi[k] + src[k] : src[k];
        } else {
            const uint16_t *src = (const uint16_t *)table->data + (size_t)ids[i] * dim;
            if (!accumulate) { vox_cpu_bf16_to_f32(c->avx2, src, yi, (size_t)dim); continue; }
            for (int k = 0; k < dim; k++) yi[k] += vox_bf16_to_f32(src[k]);
        }
    }
    return 0;
}

static int cpu_argmax(vox_backend_t *be, int32_t *out_id, const float *logits, int n, int vocab) {
    (void)be;
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * vocab;
        int best = 0;
        for (int v = 1; v < vocab; v++)
            if (l[v] > l[best]) best = v;
        out_id[i] = best;
    }
    return 0;
}

/* ---------------- KV cache + attention ---------------- */

static vox_kv_t *cpu_kv_new(vox_backend_t *be, int capacity, int n_kv_heads, int head_dim) {
    vox_kv_t *kv = calloc(1, sizeof *kv);
    size_t n = (size_t)capacity * n_kv_heads * head_dim;
    /* calloc: pages of slots never written are never touched, so RSS follows what is used. */
    if (kv) { kv->k = calloc(n, sizeof(float)); kv->v = calloc(n, sizeof(float)); }
    if (!kv || !kv->k || !kv->v) {
        if (kv) { free(kv->k); free(kv->v); free(kv); }
        vox_fail(&be->err, VOX_ENOMEM, "out of host memory for a KV cache of %d positions. Use a machine with more RAM", capacity);
        return NULL;
    }
    kv->cap = capacity;
    kv->n_kv_heads = n_kv_heads;
    kv->head_dim = head_dim;
    kv->width = n_kv_heads * head_dim;
    return kv;
}
static void cpu_kv_free(vox_backend_t *be, vox_kv_t *kv) {
    (void)be;
    if (!kv) return;
    free(kv->k);
    free(kv->v);
    free(kv);
}

static int cpu_kv_write(vox_backend_t *be, vox_kv_t *kv, const float *k, const float *v, int n) {
    cpu_t *c = C(be);
    for (int i = 0; i < n; i++) {
        size_t slot = (size_t)((c->pos0 + i) % kv->cap);
        memcpy(kv->k + slot * kv->width, k + (size_t)i * kv->width, (size_t)kv->width * sizeof(float));
        memcpy(kv->v + slot * kv->width, v + (size_t)i * kv->width, (size_t)kv->width * sizeof(float));
    }
    return 0;
}

/* Work item = (query head h, block of up to ATT_ROWS query rows), or for a single position
 * (decode) the query heads of one kv head. The keys the block can see, positions lo..Pn, sit in
 * the ring as at most two contiguous runs of slots; for each run
 *   S[rows, run] = scale · Q_h[rows, hd] · K_run[run, hd]ᵀ            (cblas_sgemm)
 * then per row a max-subtracted softmax over exactly its window (others set to 0), and
 *   O_h[rows, hd] (+)= S[rows, run] · V_run[run, hd]                   (cblas_sgemm). */
#define ATT_ROWS 64

typedef struct {
    cpu_t *c;
    float *out;
    const float *q;
    const vox_kv_t *kv;
    int n, n_heads, window;
} att_job;

/* Positions lo..hi as runs of ring slots: returns the count (1 or 2), first slots and lengths. */
static int ring_runs(const vox_kv_t *kv, int64_t lo, int64_t hi, int slot[2], int len[2]) {
    int64_t span = hi - lo + 1, s0 = lo % kv->cap, first = kv->cap - s0 < span ? kv->cap - s0 : span;
    slot[0] = (int)s0;
    len[0] = (int)first;
    slot[1] = 0;
    len[1] = (int)(span - first);
    return len[1] > 0 ? 2 : 1;
}

/* M query rows Q[M, hd] (row stride ldq) against kv head g; row m is at position
 * P0 + m / per_pos. Writes O[M, hd] (row stride ldq). S is [M, span] scratch. */
static void att_block(const att_job *j, float *S, const float *Q, float *O, int ldq, int M, int per_pos,
                      int64_t P0, int g) {
    const vox_kv_t *kv = j->kv;
    int hd = kv->head_dim;
    int64_t Pn = P0 + (M - 1) / per_pos, lo = P0 - j->window + 1 < 0 ? 0 : P0 - j->window + 1;
    int span = (int)(Pn - lo + 1), slot[2], len[2], runs = ring_runs(kv, lo, Pn, slot, len);
    size_t koff = (size_t)g * hd;
    for (int r = 0, col = 0; r < runs; col += len[r], r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, len[r], hd, 1.0f / sqrtf((float)hd), Q, ldq,
                    kv->k + (size_t)slot[r] * kv->width + koff, kv->width, 0.0f, S + col, span);
    for (int m = 0; m < M; m++) {
        int64_t P = P0 + m / per_pos, first = P - j->window + 1 < lo ? lo : P - j->window + 1;
        int a = (int)(first - lo), b = (int)(P - lo);   /* this row's window: S[m, a..b] */
        float *sr = S + (size_t)m * span, mx = -INFINITY;
        for (int k = a; k <= b; k++) if (sr[k] > mx) mx = sr[k];
        float inv = (float)(1.0 / vox_cpu_exp_sum(j->c->avx2, sr + a, b - a + 1, mx));
        for (int k = a; k <= b; k++) sr[k] *= inv;
        for (int k = 0; k < a; k++) sr[k] = 0.0f;
        for (int k = b + 1; k < span; k++) sr[k] = 0.0f;
    }
    for (int r = 0, col = 0; r < runs; col += len[r], r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, hd, len[r], 1.0f, S + col, span,
                    kv->v + (size_t)slot[r] * kv->width + koff, kv->width, r ? 1.0f : 0.0f, O, ldq);
}

static void att_worker(void *arg, int t, int nt) {
    att_job *j = arg;
    int hd = j->kv->head_dim, group = j->n_heads / j->kv->n_kv_heads, ldq = j->n_heads * hd;
    if (j->n == 1) {
        /* One position (the decode step): the group's query heads are contiguous rows [group, hd],
         * so each kv head's K/V is read once for all of them. */
        for (int g = t; g < j->kv->n_kv_heads; g += nt)
            att_block(j, j->c->scores[t], j->q + (size_t)g * group * hd, j->out + (size_t)g * group * hd, hd,
                      group, group, j->c->pos0, g);
        return;
    }
    int n_blocks = (j->n + ATT_ROWS - 1) / ATT_ROWS;
    for (int item = t; item < n_blocks * j->n_heads; item += nt) {
        int h = item % j->n_heads, i0 = (item / j->n_heads) * ATT_ROWS;
        int rows = j->n - i0 < ATT_ROWS ? j->n - i0 : ATT_ROWS;
        size_t off = (size_t)i0 * ldq + (size_t)h * hd;
        att_block(j, j->c->scores[t], j->q + off, j->out + off, ldq, rows, 1, j->c->pos0 + i0, h / group);
    }
}

static int cpu_attention(vox_backend_t *be, float *out, const float *q, const vox_kv_t *kv, int n,
                         int n_heads, int window) {
    cpu_t *c = C(be);
    if (n <= 0) return 0;
    if (window + n - 1 > kv->cap || n_heads % kv->n_kv_heads != 0)
        return vox_fail(&be->err, VOX_EINTERNAL, "attention: %d rows, %d heads, window %d over a ring of %d slots and %d kv heads. This is a bug; please report it", n, n_heads, window, kv->cap, kv->n_kv_heads);
    size_t group = (size_t)(n_heads / kv->n_kv_heads);
    size_t rows = (size_t)(n < ATT_ROWS ? n : ATT_ROWS), need = rows * ((size_t)window + rows - 1);
    if (n == 1) need = group * (size_t)window;
    if (need > c->scores_n) {
        for (int t = 0; t < c->n_threads; t++) {
            free(c->scores[t]);
            c->scores[t] = malloc(need * sizeof(float));
            if (!c->scores[t]) { c->scores_n = 0; return vox_fail(&be->err, VOX_ENOMEM, "out of host memory for attention scores. Use a machine with more RAM"); }
        }
        c->scores_n = need;
    }
    att_job j = {c, out, q, kv, n, n_heads, window};
    double t0 = be->debug ? vox_now_ms() : 0.0;
    vox_pool_run(c->pool, att_worker, &j);
    if (be->debug) c->ms_attention += vox_now_ms() - t0;
    return 0;
}

/* ---------------- misc ---------------- */

static int cpu_set_pos(vox_backend_t *be, int64_t pos0) { C(be)->pos0 = pos0; return 0; }
static int cpu_sync(vox_backend_t *be) { (void)be; return 0; }
static size_t cpu_mem_used(vox_backend_t *be) { (void)be; return 0; }
static const char *cpu_device_name(vox_backend_t *be) { return C(be)->name; }

static void cpu_destroy(vox_backend_t *be) {
    if (!be) return;
    cpu_t *c = C(be);
    if (c && be->debug)
        fprintf(stderr, "voxtral: debug: CPU op time: linear GEMV (n <= %d) %.0f ms, linear tiles+sgemm %.0f ms, attention %.0f ms\n",
                GEMV_MAX_ROWS, c->ms_gemv, c->ms_tiles, c->ms_attention);
    if (c) {
        vox_pool_free(c->pool);
        for (int t = 0; t < MAX_THREADS; t++) { free(c->tile[t]); free(c->scores[t]); }
        free(c);
    }
    free(be);
}

static const vox_backend_ops cpu_ops = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .device_name = cpu_device_name,
    .alloc = cpu_alloc,
    .alloc_i32 = cpu_alloc_i32,
    .free = cpu_free,
    .upload = cpu_memcpy,
    .download = cpu_memcpy,
    .copy = cpu_memcpy,
    .weight_upload = cpu_weight_upload,
    .weight_free = cpu_weight_free,
    .linear = cpu_linear,
    .rmsnorm = cpu_rmsnorm,
    .rope = cpu_rope,
    .gelu = cpu_gelu,
    .silu_mul = cpu_silu_mul,
    .add = cpu_add,
    .im2col_k3 = cpu_im2col_k3,
    .embed = cpu_embed,
    .argmax = cpu_argmax,
    .kv_new = cpu_kv_new,
    .kv_free = cpu_kv_free,
    .kv_write = cpu_kv_write,
    .attention = cpu_attention,
    .set_pos = cpu_set_pos,
    .graph_begin = NULL,
    .graph_end = NULL,
    .graph_launch = NULL,
    .graph_free = NULL,
    .sync = cpu_sync,
    .mem_used = cpu_mem_used,
};

/* "Intel(R) Xeon(R) ... " from /proc/cpuinfo, or a generic name. */
static void cpu_model_name(char *buf, size_t cap) {
    snprintf(buf, cap, "CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *v = strchr(line, ':');
        if (!v) break;
        v++;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = 0;
        snprintf(buf, cap, "%s", v);
        break;
    }
    fclose(f);
}

int vox_backend_cpu_create(const vox_backend_opts *o, vox_backend_t **out, vox_error_t *err) {
    vox_backend_t *be = calloc(1, sizeof *be);
    cpu_t *c = calloc(1, sizeof *c);
    if (!be || !c) { free(be); free(c); return vox_fail(err, VOX_ENOMEM, "out of host memory starting the CPU backend. Use a machine with more RAM"); }
    be->ops = &cpu_ops;
    be->impl = c;
    be->debug = o->debug;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = o->threads > 0 ? o->threads : (int)(cores > 0 ? cores : 1);
    if (n > MAX_THREADS) n = MAX_THREADS;
    c->pool = vox_pool_new(n);
    if (!c->pool) { cpu_destroy(be); return vox_fail(err, VOX_ENOMEM, "could not start %d CPU threads. Lower --threads", n); }
    c->n_threads = vox_pool_size(c->pool);
    c->avx2 = vox_cpu_has_avx2_fma();
    openblas_set_num_threads(1);   /* parallelism comes from our pool, one level only */
    char model[128];
    cpu_model_name(model, sizeof model);
    snprintf(c->name, sizeof c->name, "%s (%d threads, %s)", model, c->n_threads, c->avx2 ? "AVX2+FMA" : "scalar");
    if (be->debug) fprintf(stderr, "voxtral: debug: CPU backend: %s, OpenBLAS %s\n", c->name, openblas_get_config());
    *out = be;
    return 0;
}
