/* backend_cpu.c — the CPU reference backend (f32 activations, BF16 weights from the mapping).
 *
 * linear: n <= GEMV_MAX_ROWS (decode, small streaming chunks): a threaded BF16 GEMV reading the
 * weights straight from the mmap. Larger n: the weight is walked in tiles of rows;
 * each thread widens its tile to f32 in a private scratch and calls cblas_sgemm on it, so no
 * call ever materialises a whole F32 copy of a matrix. A tile holds TILE_BYTES of f32 (64 rows of a
 * 3072-wide matrix): measured on the 2-core Xeon, 64-row tiles ran n=38 (the prefill) 1.8x and
 * n=512 1.5x faster than 128-row tiles. OpenBLAS runs single-threaded inside
 * our own pool (one level of parallelism). KV rings and attention: cpu_attention.c. Everything
 * else is single-threaded and cheap next to the matrix products.
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
#include "cpu_impl.h"

#ifndef GEMV_MAX_ROWS              /* (overridable for engine/dev experiments) */
#define GEMV_MAX_ROWS VOX_MAX_SPEC /* rows computed independently, see backend.h */
#endif
#ifndef TILE_BYTES /* f32 weight tile per thread: sized to stay in a 1 MB L2 */
#define TILE_BYTES (768 * 1024)
#endif

/* ---------------- memory ---------------- */

static float *cpu_alloc(vox_backend_t *be, size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p)
        vox_fail(&be->err, VOX_ENOMEM,
                 "out of host memory allocating %zu MB. Close other programs or use a machine with more RAM",
                 n * 4 >> 20);
    return p;
}
static int32_t *cpu_alloc_i32(vox_backend_t *be, size_t n) {
    int32_t *p = calloc(n ? n : 1, sizeof(int32_t));
    if (!p) vox_fail(&be->err, VOX_ENOMEM, "out of host memory. Close other programs or use a machine with more RAM");
    return p;
}
static void cpu_free(vox_backend_t *be, void *p) {
    (void)be;
    free(p);
}
static int cpu_memcpy(vox_backend_t *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    memmove(dst, src, bytes);
    return 0;
}

/* ---------------- weights ---------------- */

static int cpu_weight_upload(vox_backend_t *be, const vox_tensor_t *t, vox_bweight_t **out) {
    vox_bweight_t *w = calloc(1, sizeof *w);
    if (!w)
        return vox_fail(&be->err, VOX_ENOMEM, "out of host memory loading %s. Use a machine with more RAM", t->name);
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
        if (!f) {
            free(w);
            return vox_fail(&be->err, VOX_ENOMEM, "out of host memory converting %s. Use a machine with more RAM",
                            t->name);
        }
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
    per = (per + 7) & ~7; /* keep thread boundaries on 8-row (cache-friendly) multiples */
    int r0 = t * per, r1 = r0 + per < out ? r0 + per : out;
    if (r0 < r1)
        vox_cpu_gemv_bf16(j->c->avx2, (const uint16_t *)j->w->data, j->w->cols, j->x, j->n, j->y, out, r0, r1, j->b,
                          j->acc);
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

static int cpu_linear(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const vox_bweight_t *b,
                      int n, int accumulate) {
    cpu_t *c = vox_cpu(be);
    if (n <= 0) return 0;
    if (b && b->rows * b->cols != w->rows)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "linear: bias of %d values for %d outputs. This is a bug; please report it", b->rows * b->cols,
                        w->rows);
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
            if (!c->tile[t]) {
                c->tile_n = 0;
                return vox_fail(&be->err, VOX_ENOMEM,
                                "out of host memory for a weight tile. Use a machine with more RAM");
            }
        }
        c->tile_n = need;
    }
    vox_pool_run(c->pool, tile_worker, &j);
    if (be->debug) c->ms_tiles += vox_now_ms() - t0;
    return 0;
}

/* One linear() per weight: on the CPU each GEMV already spreads over every thread. */
static int cpu_linear_multi(vox_backend_t *be, int count, float *const *y, const float *x,
                            const vox_bweight_t *const *w, int n) {
    for (int i = 0; i < count; i++) {
        if (w[i]->cols != w[0]->cols)
            return vox_fail(&be->err, VOX_EINTERNAL,
                            "linear_multi: weight %d is %d wide, weight 0 %d. This is a bug; please report it", i,
                            w[i]->cols, w[0]->cols);
        int rc = cpu_linear(be, y[i], x, w[i], NULL, n, 0);
        if (rc) return rc;
    }
    return 0;
}

/* ---------------- element-wise ops ---------------- */

static int cpu_rmsnorm(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const float *scale1p, int n,
                       int dim, float eps) {
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

/* inv_freq_j = theta^(-2j/hd) rounded to f32 as in the reference; the angle pos * inv_freq_j is formed
 * in double (exact: a position below 2^29 times a 24-bit mantissa) and reduced modulo 2*pi before
 * cos/sin, so it stays accurate at any position (f32 `pos * inv` loses ~pos * 6e-8 rad).
 * Row i is at pos[i] (pos given) or pos0 + i; --position-offset adds be->rope_offset (tests). */
static int rope_at(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta, const int64_t *pos) {
    cpu_t *c = vox_cpu(be);
    int half = head_dim / 2;
    float *cs = malloc((size_t)head_dim * sizeof(float));
    if (!cs) return vox_fail(&be->err, VOX_ENOMEM, "out of host memory. Use a machine with more RAM");
    const double two_pi = 6.283185307179586;
    for (int i = 0; i < n; i++) {
        if (pos && pos[i] < 0) continue; /* a padding row of a row table */
        double p = (double)((pos ? pos[i] : c->pos0 + i) + be->rope_offset);
        for (int j = 0; j < half; j++) {
            float inv = (float)(1.0 / pow((double)theta, (double)(2 * j) / head_dim));
            double ang = p * (double)inv;
            ang -= two_pi * floor(ang / two_pi);
            cs[2 * j] = (float)cos(ang);
            cs[2 * j + 1] = (float)sin(ang);
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

static int cpu_rope(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta) {
    return rope_at(be, x, n, n_heads, head_dim, theta, NULL);
}

static int rows_check(vox_backend_t *be, const char *op, int n, int layer) {
    cpu_t *c = vox_cpu(be);
    if (n == c->n_rows && layer < c->rows_layers) return 0;
    return vox_fail(&be->err, VOX_EINTERNAL,
                    "%s: %d rows, layer %d, but set_rows gave %d rows of %d layers. This is a bug; please report it",
                    op, n, layer, c->n_rows, c->rows_layers);
}

static int cpu_set_rows(vox_backend_t *be, const int64_t *pos, vox_kv_t *const *const *rings,
                        const float *const *const *ada, int layers, int n) {
    cpu_t *c = vox_cpu(be);
    if (n < 1 || n > VOX_MAX_ROWS || layers < 1)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "set_rows: %d rows (at most %d) over %d layers. This is a bug; please report it", n,
                        VOX_MAX_ROWS, layers);
    for (int i = 0; i < n; i++) {
        c->rows_pos[i] = pos[i] < 0 ? -1 : pos[i];
        c->rows_rings[i] = pos[i] < 0 ? NULL : rings[i];
        c->rows_ada[i] = pos[i] < 0 || !ada ? NULL : ada[i];
    }
    c->n_rows = n;
    c->rows_layers = layers;
    return 0;
}

static int cpu_rope_rows(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta) {
    int rc = rows_check(be, "rope_rows", n, -1);
    return rc ? rc : rope_at(be, x, n, n_heads, head_dim, theta, vox_cpu(be)->rows_pos);
}

/* The fused position steps of backend.h, as their three parts. */
static int cpu_rope_kv_write(vox_backend_t *be, vox_kv_t *kv, float *q, float *k, const float *v, int n, int n_heads,
                             float theta) {
    int hd = kv->head_dim, rc = cpu_rope(be, q, n, n_heads, hd, theta);
    if (!rc) rc = cpu_rope(be, k, n, kv->n_kv_heads, hd, theta);
    return rc ? rc : vox_cpu_kv_write(be, kv, k, v, n);
}

static int cpu_rope_kv_write_rows(vox_backend_t *be, int layer, float *q, float *k, const float *v, int n, int n_heads,
                                  float theta) {
    int rc0 = rows_check(be, "rope_kv_write_rows", n, layer);
    const vox_kv_t *kv = vox_cpu_rows_ring(be, layer);
    if (rc0 || !kv) return rc0; /* every row padding: nothing to write */
    int hd = kv->head_dim, rc = cpu_rope_rows(be, q, n, n_heads, hd, theta);
    if (!rc) rc = cpu_rope_rows(be, k, n, kv->n_kv_heads, hd, theta);
    return rc ? rc : vox_cpu_kv_write_rows(be, layer, k, v, n);
}

static int cpu_rmsnorm_rows(vox_backend_t *be, int layer, float *y, const float *x, const vox_bweight_t *w, int n,
                            int dim, float eps) {
    cpu_t *c = vox_cpu(be);
    int rc = rows_check(be, "rmsnorm_rows", n, layer);
    for (int i = 0; !rc && i < n; i++) {
        const float *s = c->rows_ada[i] ? c->rows_ada[i][layer] : NULL;
        rc = cpu_rmsnorm(be, y + (size_t)i * dim, x + (size_t)i * dim, w, s, 1, dim, eps);
    }
    return rc;
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

static int cpu_linear_gated(vox_backend_t *be, float *y, float *tmp, const float *x, const vox_bweight_t *w1,
                            const vox_bweight_t *w3, int n) {
    return vox_linear_gated_parts(be, y, tmp, x, w1, w3, n, w1->rows);
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
    cpu_t *c = vox_cpu(be);
    int dim = table->cols;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= table->rows)
            return vox_fail(&be->err, VOX_EINTERNAL,
                            "embed: token id %d outside the table of %d rows. This is a bug; please report it", ids[i],
                            table->rows);
        float *yi = y + (size_t)i * dim;
        if (table->dt == VOX_DT_F32) {
            const float *src = (const float *)table->data + (size_t)ids[i] * dim;
            for (int k = 0; k < dim; k++) yi[k] = accumulate ? yi[k] + src[k] : src[k];
        } else {
            const uint16_t *src = (const uint16_t *)table->data + (size_t)ids[i] * dim;
            if (!accumulate) {
                vox_cpu_bf16_to_f32(c->avx2, src, yi, (size_t)dim);
                continue;
            }
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

/* ---------------- misc ---------------- */

static int cpu_set_pos(vox_backend_t *be, int64_t pos0) {
    vox_cpu(be)->pos0 = pos0;
    return 0;
}
static int cpu_sync(vox_backend_t *be) {
    (void)be;
    return 0;
}
static size_t cpu_mem_used(vox_backend_t *be) {
    (void)be;
    return 0;
}
static const char *cpu_device_name(vox_backend_t *be) { return vox_cpu(be)->name; }

static void cpu_destroy(vox_backend_t *be) {
    if (!be) return;
    cpu_t *c = vox_cpu(be);
    if (c && be->debug)
        fprintf(stderr,
                "voxtral: debug: CPU op time: linear GEMV (n <= %d) %.0f ms, linear tiles+sgemm %.0f ms, attention "
                "%.0f ms\n",
                GEMV_MAX_ROWS, c->ms_gemv, c->ms_tiles, c->ms_attention);
    if (c) {
        vox_pool_free(c->pool);
        for (int t = 0; t < MAX_THREADS; t++) {
            free(c->tile[t]);
            free(c->scores[t]);
        }
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
    .linear_multi = cpu_linear_multi,
    .linear_gated = cpu_linear_gated,
    .rmsnorm = cpu_rmsnorm,
    .rope = cpu_rope,
    .gelu = cpu_gelu,
    .silu_mul = cpu_silu_mul,
    .add = cpu_add,
    .im2col_k3 = cpu_im2col_k3,
    .embed = cpu_embed,
    .argmax = cpu_argmax,
    .kv_new = vox_cpu_kv_new,
    .kv_free = vox_cpu_kv_free,
    .kv_write = vox_cpu_kv_write,
    .rope_kv_write = cpu_rope_kv_write,
    .attention = vox_cpu_attention,
    .set_pos = cpu_set_pos,
    .set_rows = cpu_set_rows,
    .rope_rows = cpu_rope_rows,
    .kv_write_rows = vox_cpu_kv_write_rows,
    .rope_kv_write_rows = cpu_rope_kv_write_rows,
    .attention_rows = vox_cpu_attention_rows,
    .rmsnorm_rows = cpu_rmsnorm_rows,
    .kv_bytes = vox_cpu_kv_bytes,
    .spec_k = 8, /* a k-row forward costs 0.98 / 1.29 / 1.71 steps for k = 2 / 4 / 8 (engine/README.md) */
    .batch_rows = VOX_MAX_SPEC,
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
    if (!be || !c) {
        free(be);
        free(c);
        return vox_fail(err, VOX_ENOMEM, "out of host memory starting the CPU backend. Use a machine with more RAM");
    }
    be->ops = &cpu_ops;
    be->impl = c;
    be->debug = o->debug;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = o->threads > 0 ? o->threads : (int)(cores > 0 ? cores : 1);
    if (n > MAX_THREADS) n = MAX_THREADS;
    c->pool = vox_pool_new(n);
    if (!c->pool) {
        cpu_destroy(be);
        return vox_fail(err, VOX_ENOMEM, "could not start %d CPU threads. Lower --threads", n);
    }
    c->n_threads = vox_pool_size(c->pool);
    c->avx2 = vox_cpu_has_avx2_fma();
    openblas_set_num_threads(1); /* parallelism comes from our pool, one level only */
    char model[128];
    cpu_model_name(model, sizeof model);
    snprintf(c->name, sizeof c->name, "%s (%d threads, %s)", model, c->n_threads, c->avx2 ? "AVX2+FMA" : "scalar");
    if (be->debug) fprintf(stderr, "voxtral: debug: CPU backend: %s, OpenBLAS %s\n", c->name, openblas_get_config());
    *out = be;
    return 0;
}
