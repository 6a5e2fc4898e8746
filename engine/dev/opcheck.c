/* opcheck.c — every CUDA op against a plain CPU reference on fresh random inputs, then speed.
 *
 *   build/opcheck [--quick | --linear] [--tolerances FILE]   (make -C engine cuda opcheck; needs a GPU)
 *
 * --quick: the checks without the speed part; --linear: only the linear paths' checks.
 * Row tables (the batched multi-stream step): kv_write_rows + attention_rows, rope_rows and
 * rmsnorm_rows with per-row positions, rings and ada scales (check_rows).
 * Correctness: normRelErr ‖gpu − ref‖ / ‖ref‖ (reference in double from the same BF16
 * weights / BF16 KV values the device holds); outputs are poisoned (NaN) first so an
 * unwritten element fails. One line per check, "FAIL" when over its limit (the "opcheck" limits of
 * checks/tolerances.json, read at start; --tolerances names another file); exit 1 if any.
 * Speed (captured CUDA graphs of repeated ops, so launch gaps are small): GEMV vs cuBLASLt at
 * the decoder's shapes (GB/s of weights), linear_multi (q/k/v, w1/w3 in one launch) vs separate
 * calls, the GEMV grid's spread of rows over warps (even split vs one row per warp), GEMM at the encoder's (TFLOP/s), decode attention,
 * device-to-device copy bandwidth (bytes read + written), the decode-step floor (the real model's
 * decoder bytes per step, from the engine's tensor table, over the copy bandwidth). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cuda/cuda_impl.h"
#include "../kernels/gemv_args.cuh"
#include "json.h"
#include "synth.h"
#include "weights.h"

#ifndef VOX_TOLERANCES_JSON
#define VOX_TOLERANCES_JSON "../checks/tolerances.json"
#endif

static vox_backend_t *be;
static const vox_backend_ops *o;
static int failures;
static uint64_t rng = 88172645463325252ull;
/* normRelErr limits, checks/tolerances.json "opcheck.limits" */
static struct { double fp32, tensor_core, elementwise, add, exact; } tol;

static void load_tolerances(const char *path) {
    vox_error_t err = {0, ""};
    vox_json *j = vox_json_parse_file(path, "tolerances.json", 1 << 20, &err);
    struct {
        const char *key;
        double *dst;
    } k[] = {{"opcheck.limits.fp32", &tol.fp32},
             {"opcheck.limits.tensorCore", &tol.tensor_core},
             {"opcheck.limits.elementwise", &tol.elementwise},
             {"opcheck.limits.add", &tol.add},
             {"opcheck.limits.exact", &tol.exact}};
    for (size_t i = 0; j && i < sizeof k / sizeof *k; i++) {
        const vox_json *n = vox_json_path(j, k[i].key);
        if (!n || n->type != VOX_JSON_NUMBER) {
            fprintf(stderr, "opcheck: error: %s has no number at %s. Restore it from the repository\n", path, k[i].key);
            exit(2);
        }
        *k[i].dst = n->number;
    }
    if (!j) {
        fprintf(stderr, "opcheck: error: %s. Pass --tolerances with the repository's checks/tolerances.json\n",
                err.msg);
        exit(2);
    }
    vox_json_free(j);
}

static float frand(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.f - 1.f;
}
static float bfr(float x) { return vox_bf16_to_f32(vox_f32_to_bf16(x)); }

static void die_if(int rc, const char *what) {
    if (rc) {
        fprintf(stderr, "opcheck: %s failed: %s\n", what, be->err.msg);
        exit(2);
    }
}

static float *dev_from(const float *h, size_t n) {
    float *d = o->alloc(be, n);
    if (!d) die_if(1, "alloc");
    die_if(o->upload(be, d, h, n * 4), "upload");
    return d;
}
static float *dev_random(size_t n) { /* n values of frand() on the device */
    float *h = malloc(n * 4);
    for (size_t i = 0; i < n; i++) h[i] = frand();
    float *d = dev_from(h, n);
    free(h);
    return d;
}
static float *dev_poison(size_t n) {
    float *h = malloc(n * 4);
    for (size_t i = 0; i < n; i++) h[i] = NAN;
    float *d = dev_from(h, n);
    free(h);
    return d;
}
static float *host_of(const float *d, size_t n) {
    float *h = malloc(n * 4);
    die_if(o->download(be, h, d, n * 4), "download");
    return h;
}

static void report(const char *what, const float *got, const double *ref, size_t n, double tol) {
    double num = 0, den = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) bad = 1;
        double d = got[i] - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    int fail = bad || !(rel <= tol);
    failures += fail;
    printf("%-4s %-58s normRelErr %.2e (limit %.0e)%s\n", fail ? "FAIL" : "ok", what, rel, tol,
           bad ? " non-finite output" : "");
}

/* A host BF16 matrix [rows, cols] (and its values as float) wrapped as a tensor. */
typedef struct {
    vox_tensor_t t;
    uint16_t *bits;
    float *val;
} hmat;
static hmat mat_new(int rows, int cols, float scale) {
    hmat m;
    memset(&m, 0, sizeof m);
    size_t n = (size_t)rows * cols;
    m.bits = malloc(n * 2);
    m.val = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        m.bits[i] = vox_f32_to_bf16(frand() * scale);
        m.val[i] = vox_bf16_to_f32(m.bits[i]);
    }
    m.t.name = "opcheck";
    m.t.dtype = VOX_DT_BF16;
    m.t.ndim = 2;
    m.t.shape[0] = rows;
    m.t.shape[1] = cols;
    m.t.data = m.bits;
    m.t.nbytes = n * 2;
    return m;
}
static vox_bweight_t *vec_upload(const float *v, int n) {
    vox_tensor_t t;
    memset(&t, 0, sizeof t);
    t.name = "vec";
    t.dtype = VOX_DT_F32;
    t.ndim = 1;
    t.shape[0] = n;
    t.data = v;
    t.nbytes = (size_t)n * 4;
    vox_bweight_t *w;
    die_if(o->weight_upload(be, &t, &w), "weight_upload");
    return w;
}
static void mat_free(hmat *m) {
    free(m->bits);
    free(m->val);
}

static const char *path_name(int path) {
    return path == VOX_LINEAR_GEMV ? "gemv" : path == VOX_LINEAR_TC ? "gemv-tc" : "cublasLt";
}

static void check_linear(int n, int in, int out, int bias, int acc, int path) {
    hmat W = mat_new(out, in, 1.f / sqrtf((float)in));
    vox_bweight_t *w, *b = NULL;
    die_if(o->weight_upload(be, &W.t, &w), "weight_upload");
    float *bv = malloc((size_t)out * 4), *x = malloc((size_t)n * in * 4), *y0 = malloc((size_t)n * out * 4);
    for (int i = 0; i < out; i++) bv[i] = frand();
    for (size_t i = 0; i < (size_t)n * in; i++) x[i] = frand();
    for (size_t i = 0; i < (size_t)n * out; i++) y0[i] = acc ? frand() : NAN;
    if (bias) b = vec_upload(bv, out);
    float *dx = dev_from(x, (size_t)n * in), *dy = dev_from(y0, (size_t)n * out);
    path = vox_cuda_linear_route(path, (const vox_bweight_t *const *)&w, 1, n);
    die_if(vox_cuda_linear_path(be, dy, dx, w, b, n, acc, path), "linear");
    float *got = host_of(dy, (size_t)n * out);
    double *ref = malloc((size_t)n * out * 8);
    for (int r = 0; r < n; r++)
        for (int j = 0; j < out; j++) {
            double s = (bias ? bv[j] : 0) + (acc ? y0[(size_t)r * out + j] : 0);
            for (int k = 0; k < in; k++) s += (double)W.val[(size_t)j * in + k] * bfr(x[(size_t)r * in + k]);
            ref[(size_t)r * out + j] = s;
        }
    char what[128];
    snprintf(what, sizeof what, "linear %-8s n=%d in=%d out=%d bias=%d acc=%d", path_name(path), n, in, out, bias, acc);
    report(what, got, ref, (size_t)n * out, path == VOX_LINEAR_GEMV ? tol.fp32 : tol.tensor_core);
    o->free(be, dx);
    o->free(be, dy);
    o->weight_free(be, w);
    o->weight_free(be, b);
    free(bv);
    free(x);
    free(y0);
    free(got);
    free(ref);
    mat_free(&W);
}

/* The GEMV launch's spread of rows over warps: EVEN is the engine's (gemv.c); ROW_PER_WARP is the
 * launch before it (a block per 8 rows), ALL_SLOTS every resident warp (1 or 2 rows each for q/k/v).
 * linear_multi with the spread chosen by set_gemv_grid; opcheck compares their speed and bits. */
enum { VOX_GEMV_GRID_EVEN, VOX_GEMV_GRID_ROW_PER_WARP, VOX_GEMV_GRID_ALL_SLOTS };
static int gemv_grid = VOX_GEMV_GRID_EVEN;
static void set_gemv_grid(int grid) { gemv_grid = grid; }

static unsigned grid_blocks(int rows) {
    int slots = vox_cuda(be)->gemv_slots, warps = rows;
    if (gemv_grid == VOX_GEMV_GRID_ALL_SLOTS && rows > slots) warps = slots;
    return (unsigned)((warps + VOX_GEMV_WARPS - 1) / VOX_GEMV_WARPS);
}

static int linear_multi_grid(int count, float *const *y, const float *x, const vox_bweight_t *const *w, int n) {
    if (gemv_grid == VOX_GEMV_GRID_EVEN || n > VOX_GEMV_MAX_ROWS) return o->linear_multi(be, count, y, x, w, n);
    for (int i = 0; i < count; i += VOX_GEMV_SEGS) {
        int k = count - i < VOX_GEMV_SEGS ? count - i : VOX_GEMV_SEGS, rows = 0;
        for (int j = 0; j < k; j++) rows += (int)w[i + j]->rows;
        int rc = vox_cuda_gemv(be, k, y + i, x, w + i, NULL, n, 0, grid_blocks(rows));
        if (rc) return rc;
    }
    return 0;
}

/* linear_multi: `count` weights of width `in` on one x, vs the double reference; with n <= VOX_GEMV_MAX_ROWS
 * (one GEMV launch) also vs separate linear() calls, which must give the same bits. */
static void check_linear_multi(int n, int in, int count, const int *outs) {
    hmat W[8];
    vox_bweight_t *w[8];
    float *dy[8], *dy1[8];
    float *x = malloc((size_t)n * in * 4);
    for (size_t i = 0; i < (size_t)n * in; i++) x[i] = frand();
    float *dx = dev_from(x, (size_t)n * in);
    for (int i = 0; i < count; i++) {
        W[i] = mat_new(outs[i], in, 1.f / sqrtf((float)in));
        die_if(o->weight_upload(be, &W[i].t, &w[i]), "weight_upload");
        dy[i] = dev_poison((size_t)n * outs[i]);
        dy1[i] = dev_poison((size_t)n * outs[i]);
        die_if(o->linear(be, dy1[i], dx, w[i], NULL, n, 0), "linear");
    }
    die_if(o->linear_multi(be, count, dy, dx, (const vox_bweight_t *const *)w, n), "linear_multi");
    /* the same launch with the grid's other row-to-warp spreads (gemv.c: gemv_blocks is EVEN) */
    float *dg[2][8];
    for (int s = 0; s < 2 && n <= VOX_GEMV_MAX_ROWS; s++) {
        for (int i = 0; i < count; i++) dg[s][i] = dev_poison((size_t)n * outs[i]);
        set_gemv_grid(s ? VOX_GEMV_GRID_ALL_SLOTS : VOX_GEMV_GRID_ROW_PER_WARP);
        die_if(linear_multi_grid(count, dg[s], dx, (const vox_bweight_t *const *)w, n), "linear_multi");
        set_gemv_grid(VOX_GEMV_GRID_EVEN);
    }
    int differ_grid = 0;
    size_t total = 0;
    for (int i = 0; i < count; i++) total += (size_t)n * outs[i];
    float *got = malloc(total * 4);
    double *ref = malloc(total * 8);
    int differ = 0;
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        size_t m = (size_t)n * outs[i];
        float *g = host_of(dy[i], m), *g1 = host_of(dy1[i], m);
        memcpy(got + at, g, m * 4);
        differ += memcmp(g, g1, m * 4) != 0;
        for (int s = 0; s < 2 && n <= VOX_GEMV_MAX_ROWS; s++) {
            float *gs = host_of(dg[s][i], m);
            differ_grid += memcmp(g, gs, m * 4) != 0;
            free(gs);
            o->free(be, dg[s][i]);
        }
        for (int r = 0; r < n; r++)
            for (int j = 0; j < outs[i]; j++) {
                double acc = 0;
                for (int k = 0; k < in; k++) acc += (double)W[i].val[(size_t)j * in + k] * bfr(x[(size_t)r * in + k]);
                ref[at + (size_t)r * outs[i] + j] = acc;
            }
        at += m;
        free(g);
        free(g1);
        o->free(be, dy[i]);
        o->free(be, dy1[i]);
        o->weight_free(be, w[i]);
        mat_free(&W[i]);
    }
    char what[128];
    int path = vox_cuda_linear_route(VOX_LINEAR_AUTO, (const vox_bweight_t *const *)w,
                                     count < VOX_GEMV_SEGS ? count : VOX_GEMV_SEGS, n);
    int len = snprintf(what, sizeof what, "linear_multi %-8s n=%d in=%d out=", path_name(path), n, in);
    for (int i = 0; i < count && len < (int)sizeof what - 8; i++)
        len += snprintf(what + len, sizeof what - len, i ? "+%d" : "%d", outs[i]);
    report(what, got, ref, total, path == VOX_LINEAR_GEMV ? tol.fp32 : tol.tensor_core);
    if (path != VOX_LINEAR_LT) { /* same kernel, same per-row arithmetic: bit-identical to linear() */
        failures += differ != 0;
        printf("%-4s %-58s %d of %d outputs differ from linear()\n", differ ? "FAIL" : "ok",
               "  ... bits vs separate linear()", differ, count);
    }
    if (n <= VOX_GEMV_MAX_ROWS) {
        failures += differ_grid != 0;
        printf("%-4s %-58s %d of %d outputs differ\n", differ_grid ? "FAIL" : "ok",
               "  ... bits vs one row per warp / all resident warps", differ_grid, 2 * count);
    }
    o->free(be, dx);
    free(x);
    free(got);
    free(ref);
}

/* linear_gated: silu(x·W1ᵀ) ⊙ (x·W3ᵀ) vs the double reference, and vs linear_multi + silu_mul, which it
 * must equal bit for bit (n <= 2: the gated GEMV; more rows: those two calls). */
static void check_linear_gated(int n, int in, int out) {
    hmat W1 = mat_new(out, in, 1.f / sqrtf((float)in)), W3 = mat_new(out, in, 1.f / sqrtf((float)in));
    vox_bweight_t *w[2];
    die_if(o->weight_upload(be, &W1.t, &w[0]), "weight_upload");
    die_if(o->weight_upload(be, &W3.t, &w[1]), "weight_upload");
    size_t m = (size_t)n * out;
    float *x = malloc((size_t)n * in * 4);
    for (size_t i = 0; i < (size_t)n * in; i++) x[i] = frand();
    float *dx = dev_from(x, (size_t)n * in), *dy = dev_poison(m), *dt = dev_poison(m);
    float *py[2] = {dev_poison(m), dev_poison(m)};
    die_if(o->linear_gated(be, dy, dt, dx, w[0], w[1], n), "linear_gated");
    die_if(o->linear_multi(be, 2, py, dx, (const vox_bweight_t *const *)w, n), "linear_multi");
    die_if(o->silu_mul(be, py[0], py[1], m), "silu_mul");
    float *got = host_of(dy, m), *parts = host_of(py[0], m);
    double *ref = malloc(m * 8);
    for (int r = 0; r < n; r++)
        for (int j = 0; j < out; j++) {
            double a = 0, b = 0;
            for (int k = 0; k < in; k++) {
                double xv = bfr(x[(size_t)r * in + k]);
                a += (double)W1.val[(size_t)j * in + k] * xv;
                b += (double)W3.val[(size_t)j * in + k] * xv;
            }
            ref[(size_t)r * out + j] = a / (1.0 + exp(-a)) * b;
        }
    char what[96];
    int ppath = vox_cuda_linear_route(VOX_LINEAR_AUTO, (const vox_bweight_t *const *)w, 2, n);
    snprintf(what, sizeof what, "linear_gated %-8s n=%d in=%d out=%d",
             n <= VOX_GEMV_GATED_ROWS ? "gemv"
             : ppath == VOX_LINEAR_TC ? "parts-tc"
                                      : "parts",
             n, in, out);
    report(what, got, ref, m, ppath == VOX_LINEAR_GEMV ? tol.fp32 : tol.tensor_core);
    size_t differ = 0;
    for (size_t i = 0; i < m; i++) differ += memcmp(&got[i], &parts[i], 4) != 0;
    failures += differ != 0;
    printf("%-4s %-58s %zu of %zu values differ\n", differ ? "FAIL" : "ok", "  ... bits vs linear_multi + silu_mul",
           differ, m);
    float *bufs[] = {dx, dy, dt, py[0], py[1]};
    for (int i = 0; i < 5; i++) o->free(be, bufs[i]);
    o->weight_free(be, w[0]);
    o->weight_free(be, w[1]);
    mat_free(&W1);
    mat_free(&W3);
    free(x);
    free(got);
    free(parts);
    free(ref);
}

static void check_pointwise(void) {
    size_t n = 100003;
    float *a = malloc(n * 4), *b = malloc(n * 4);
    double *ref = malloc(n * 8);
    for (size_t i = 0; i < n; i++) {
        a[i] = frand() * 4;
        b[i] = frand() * 4;
    }
    float *da = dev_from(a, n), *db = dev_from(b, n), *got;
    die_if(o->gelu(be, da, n), "gelu");
    got = host_of(da, n);
    for (size_t i = 0; i < n; i++) ref[i] = 0.5 * a[i] * (1 + erf(a[i] / sqrt(2.0)));
    report("gelu (exact erf)", got, ref, n, tol.elementwise);
    free(got);
    die_if(o->upload(be, da, a, n * 4), "upload");
    die_if(o->silu_mul(be, da, db, n), "silu_mul");
    got = host_of(da, n);
    for (size_t i = 0; i < n; i++) ref[i] = a[i] / (1 + exp(-(double)a[i])) * b[i];
    report("silu_mul", got, ref, n, tol.elementwise);
    free(got);
    die_if(o->upload(be, da, a, n * 4), "upload");
    die_if(o->add(be, da, db, n), "add");
    got = host_of(da, n);
    for (size_t i = 0; i < n; i++) ref[i] = (double)a[i] + b[i];
    report("add", got, ref, n, tol.add);
    free(got);
    o->free(be, da);
    o->free(be, db);
    free(a);
    free(b);
    free(ref);
}

static void check_rmsnorm(int n, int dim, int ada) {
    float *x = malloc((size_t)n * dim * 4), *w = malloc((size_t)dim * 4), *s = malloc((size_t)dim * 4);
    for (size_t i = 0; i < (size_t)n * dim; i++) x[i] = frand() * 3;
    for (int i = 0; i < dim; i++) {
        w[i] = frand();
        s[i] = frand();
    }
    vox_bweight_t *bw = vec_upload(w, dim);
    float *dx = dev_from(x, (size_t)n * dim), *ds = dev_from(s, dim), *dy = dev_poison((size_t)n * dim);
    die_if(o->rmsnorm(be, dy, dx, bw, ada ? ds : NULL, n, dim, 1e-5f), "rmsnorm");
    float *got = host_of(dy, (size_t)n * dim);
    double *ref = malloc((size_t)n * dim * 8);
    for (int r = 0; r < n; r++) {
        double ss = 0;
        for (int i = 0; i < dim; i++) ss += (double)x[(size_t)r * dim + i] * x[(size_t)r * dim + i];
        double k = 1 / sqrt(ss / dim + 1e-5);
        for (int i = 0; i < dim; i++)
            ref[(size_t)r * dim + i] = x[(size_t)r * dim + i] * k * w[i] * (ada ? 1 + s[i] : 1);
    }
    char what[96];
    snprintf(what, sizeof what, "rmsnorm n=%d dim=%d ada=%d", n, dim, ada);
    report(what, got, ref, (size_t)n * dim, tol.elementwise);
    o->free(be, dx);
    o->free(be, ds);
    o->free(be, dy);
    o->weight_free(be, bw);
    free(x);
    free(w);
    free(s);
    free(got);
    free(ref);
}

static void check_rope(int n, int nh, int hd, long long pos0) {
    size_t N = (size_t)n * nh * hd;
    float *x = malloc(N * 4);
    for (size_t i = 0; i < N; i++) x[i] = frand();
    float *dx = dev_from(x, N);
    die_if(o->set_pos(be, pos0), "set_pos");
    die_if(o->rope(be, dx, n, nh, hd, 1e6f), "rope");
    float *got = host_of(dx, N);
    double *ref = malloc(N * 8);
    for (int r = 0; r < n; r++)
        for (int h = 0; h < nh; h++)
            for (int j = 0; j < hd / 2; j++) {
                /* inv_freq rounded to f32 as the model (and every backend) defines it; the rest in double */
                double a = (double)(pos0 + r) * (double)(float)(1.0 / pow(1e6, 2.0 * j / hd)), c = cos(a), s = sin(a);
                size_t i = ((size_t)r * nh + h) * hd + 2 * j;
                ref[i] = x[i] * c - x[i + 1] * s;
                ref[i + 1] = x[i] * s + x[i + 1] * c;
            }
    char what[96];
    snprintf(what, sizeof what, "rope n=%d heads=%d hd=%d pos0=%lld", n, nh, hd, pos0);
    report(what, got, ref, N, tol.elementwise);
    o->free(be, dx);
    free(x);
    free(got);
    free(ref);
}

/* Positions [from, to) of ring kv written with kv_write from a fixed pattern (the same bits every call). */
static void fill_history(vox_kv_t *kv, long long from, long long to, int kvd) {
    enum { CH = 256 };
    float *h = malloc((size_t)CH * kvd * 4);
    float *dk = o->alloc(be, (size_t)CH * kvd), *dv = o->alloc(be, (size_t)CH * kvd);
    for (long long p = from < 0 ? 0 : from; p < to; p += CH) {
        int m = (int)(to - p < CH ? to - p : CH);
        for (size_t e = 0; e < (size_t)m * kvd; e++)
            h[e] = sinf((float)(p + (long long)(e / kvd)) * 0.37f + e * 0.011f);
        die_if(o->upload(be, dk, h, (size_t)m * kvd * 4), "upload");
        for (size_t e = 0; e < (size_t)m * kvd; e++) h[e] = cosf(h[e] * 3.1f);
        die_if(o->upload(be, dv, h, (size_t)m * kvd * 4), "upload");
        die_if(o->set_pos(be, p), "set_pos");
        die_if(o->kv_write(be, kv, dk, dv, m), "kv_write");
    }
    o->free(be, dk);
    o->free(be, dv);
    free(h);
}

/* The fused position step against its three parts on the same backend: rope_kv_write(_rows) must give
 * the bits of rope, rope, kv_write(_rows) (each checked against its reference above): q and k, and the
 * attention over the rings they wrote (their earlier positions filled alike). rows = 0: positions
 * pos0 + i in one ring; else row i at its own position in its own ring. */
static void check_rope_kv(int n, int H, int KVH, int hd, int window, long long pos0, int rows) {
    size_t qn = (size_t)n * H * hd, kn = (size_t)n * KVH * hd;
    float *q = malloc(qn * 4), *k = malloc(kn * 4), *v = malloc(kn * 4);
    for (size_t i = 0; i < qn; i++) q[i] = frand();
    for (size_t i = 0; i < kn; i++) {
        k[i] = frand();
        v[i] = frand();
    }
    int64_t pos[VOX_MAX_ROWS];
    for (int i = 0; i < n && rows; i++) pos[i] = pos0 + 131LL * i;
    float *got[2][3];
    for (int fused = 0; fused < 2; fused++) {
        vox_kv_t *kv[VOX_MAX_ROWS];
        for (int i = 0; i < (rows ? n : 1); i++) {
            if (!(kv[i] = o->kv_new(be, window + n, window + n, KVH, hd))) die_if(1, "kv_new");
            long long first = rows ? pos[i] : pos0;
            fill_history(kv[i], first - window + 1, first, KVH * hd);
        }
        float *dq = dev_from(q, qn), *dk = dev_from(k, kn), *dv = dev_from(v, kn), *dout = dev_poison(qn);
        if (rows) {
            vox_kv_t *const *rings[VOX_MAX_ROWS]; /* one layer: row i's ring kv[i] */
            for (int i = 0; i < n; i++) rings[i] = &kv[i];
            die_if(o->set_rows(be, pos, rings, NULL, 1, n), "set_rows");
            if (fused) {
                die_if(o->rope_kv_write_rows(be, 0, dq, dk, dv, n, H, 1e6f), "rope_kv_write_rows");
            } else {
                die_if(o->rope_rows(be, dq, n, H, hd, 1e6f), "rope_rows");
                die_if(o->rope_rows(be, dk, n, KVH, hd, 1e6f), "rope_rows");
                die_if(o->kv_write_rows(be, 0, dk, dv, n), "kv_write_rows");
            }
            die_if(o->attention_rows(be, 0, dout, dq, n, H, window), "attention_rows");
        } else {
            die_if(o->set_pos(be, pos0), "set_pos");
            if (fused) {
                die_if(o->rope_kv_write(be, kv[0], dq, dk, dv, n, H, 1e6f), "rope_kv_write");
            } else {
                die_if(o->rope(be, dq, n, H, hd, 1e6f), "rope");
                die_if(o->rope(be, dk, n, KVH, hd, 1e6f), "rope");
                die_if(o->kv_write(be, kv[0], dk, dv, n), "kv_write");
            }
            die_if(o->attention(be, dout, dq, kv[0], n, H, window), "attention");
        }
        got[fused][0] = host_of(dq, qn);
        got[fused][1] = host_of(dk, kn);
        got[fused][2] = host_of(dout, qn);
        for (int i = 0; i < (rows ? n : 1); i++) o->kv_free(be, kv[i]);
        o->free(be, dq);
        o->free(be, dk);
        o->free(be, dv);
        o->free(be, dout);
    }
    const char *part[3] = {"q", "k", "attention"};
    double *ref = malloc(qn * 8);
    for (int p = 0; p < 3; p++) {
        size_t len = p == 1 ? kn : qn;
        for (size_t i = 0; i < len; i++) ref[i] = got[0][p][i];
        char what[128];
        snprintf(what, sizeof what, "%s n=%d H=%d KVH=%d hd=%d: %s == parts",
                 rows ? "rope_kv_write_rows" : "rope_kv_write", n, H, KVH, hd, part[p]);
        report(what, got[1][p], ref, len, 0);
        free(got[0][p]);
        free(got[1][p]);
    }
    free(ref);
    free(q);
    free(k);
    free(v);
}

/* Row runs (serve's encoder passes): the rows of stream A (6 consecutive positions), of stream B
 * (4) and 2 padding rows in one row table, written and attended through the row ops (a stream's
 * consecutive rows share attention tiles where every KV head serves one query head), against each
 * stream's rows through kv_write + attention over an identical ring; the padding rows' output zero. */
static void check_row_runs(int H, int KVH, int hd, int window) {
    enum { NA = 6, NB = 4, N = NA + NB + 2 };
    const long long pa = 1000, pb = 37;
    int kvd = KVH * hd;
    size_t qn = (size_t)N * H * hd, kn = (size_t)N * kvd;
    float *q = malloc(qn * 4), *k = malloc(kn * 4), *v = malloc(kn * 4);
    for (size_t i = 0; i < qn; i++) q[i] = frand();
    for (size_t i = 0; i < kn; i++) {
        k[i] = frand();
        v[i] = frand();
    }
    vox_kv_t *ring[2][2]; /* [path][stream] */
    for (int p = 0; p < 2; p++)
        for (int st = 0; st < 2; st++) {
            long long at = st ? pb : pa;
            if (!(ring[p][st] = o->kv_new(be, window + 16, window + 16, KVH, hd))) die_if(1, "kv_new");
            fill_history(ring[p][st], at - window + 1, at, kvd);
        }
    float *dq = dev_from(q, qn), *dk = dev_from(k, kn), *dv = dev_from(v, kn), *rows = dev_poison(qn),
          *plain = dev_poison(qn);
    int64_t pos[N];
    vox_kv_t *const *rings[N];
    for (int i = 0; i < N; i++) {
        int st = i >= NA;
        pos[i] = i < NA ? pa + i : i < NA + NB ? pb + (i - NA) : -1;
        rings[i] = i < NA + NB ? &ring[0][st] : NULL;
    }
    die_if(o->set_rows(be, pos, rings, NULL, 1, N), "set_rows");
    die_if(o->kv_write_rows(be, 0, dk, dv, N), "kv_write_rows");
    die_if(o->attention_rows(be, 0, rows, dq, N, H, window), "attention_rows");
    for (int st = 0; st < 2; st++) {
        int r0 = st ? NA : 0, m = st ? NB : NA;
        size_t qo = (size_t)r0 * H * hd, ko = (size_t)r0 * kvd;
        die_if(o->set_pos(be, st ? pb : pa), "set_pos");
        die_if(o->kv_write(be, ring[1][st], dk + ko, dv + ko, m), "kv_write");
        die_if(o->attention(be, plain + qo, dq + qo, ring[1][st], m, H, window), "attention");
    }
    float *got = host_of(rows, qn), *ref32 = host_of(plain, qn);
    size_t real = (size_t)(NA + NB) * H * hd;
    double *ref = malloc(qn * 8);
    for (size_t i = 0; i < qn; i++) ref[i] = i < real ? ref32[i] : 0.0;
    char what[128];
    snprintf(what, sizeof what, "attention_rows runs 6+4+2 padding H=%d KVH=%d hd=%d win=%d", H, KVH, hd, window);
    report(what, got, ref, qn, tol.fp32);
    free(got);
    free(ref32);
    free(ref);
    for (int p = 0; p < 2; p++)
        for (int st = 0; st < 2; st++) o->kv_free(be, ring[p][st]);
    float *bufs[] = {dq, dk, dv, rows, plain};
    for (int i = 0; i < 5; i++) o->free(be, bufs[i]);
    free(q);
    free(k);
    free(v);
}

static void check_im2col_embed_argmax(void) {
    int n_out = 37, c_in = 40, stride = 2, rows = (n_out - 1) * stride + 3;
    float *x = malloc((size_t)rows * c_in * 4);
    for (int i = 0; i < rows * c_in; i++) x[i] = frand();
    float *dx = dev_from(x, (size_t)rows * c_in), *dc = dev_poison((size_t)n_out * c_in * 3);
    die_if(o->im2col_k3(be, dc, dx, n_out, c_in, stride), "im2col");
    float *got = host_of(dc, (size_t)n_out * c_in * 3);
    double *ref = malloc((size_t)n_out * c_in * 3 * 8);
    for (int t = 0; t < n_out; t++)
        for (int ci = 0; ci < c_in; ci++)
            for (int k = 0; k < 3; k++) ref[((size_t)t * c_in + ci) * 3 + k] = x[(size_t)(t * stride + k) * c_in + ci];
    report("im2col_k3 n_out=37 c_in=40 stride=2", got, ref, (size_t)n_out * c_in * 3, tol.exact);
    free(got);
    free(ref);
    o->free(be, dx);
    o->free(be, dc);
    free(x);

    int vocab = 1000, dim = 96, n = 5;
    hmat T = mat_new(vocab, dim, 1.f);
    vox_bweight_t *tw;
    die_if(o->weight_upload(be, &T.t, &tw), "weight_upload");
    int32_t ids[5] = {0, 999, 17, 17, 500};
    float *y0 = malloc((size_t)n * dim * 4);
    for (int i = 0; i < n * dim; i++) y0[i] = frand();
    int32_t *did = o->alloc_i32(be, n);
    die_if(o->upload(be, did, ids, sizeof ids), "upload");
    float *dy = dev_from(y0, (size_t)n * dim);
    die_if(o->embed(be, dy, tw, did, n, 1), "embed");
    got = host_of(dy, (size_t)n * dim);
    ref = malloc((size_t)n * dim * 8);
    for (int i = 0; i < n; i++)
        for (int d = 0; d < dim; d++) ref[i * dim + d] = y0[i * dim + d] + T.val[(size_t)ids[i] * dim + d];
    report("embed (accumulate) n=5 dim=96", got, ref, (size_t)n * dim, tol.exact);
    free(got);
    free(ref);
    free(y0);
    o->free(be, dy);
    o->weight_free(be, tw);
    mat_free(&T);

    /* argmax: 70 rows (two launch groups) of 131072, planted maxima incl. a tie and a NaN */
    int R = 70, V = 131072;
    float *lg = malloc((size_t)R * V * 4);
    for (size_t i = 0; i < (size_t)R * V; i++) lg[i] = frand();
    int32_t want[70];
    for (int r = 0; r < R; r++) {
        want[r] = (int)((r * 7919u + 13) % (unsigned)V);
        lg[(size_t)r * V + want[r]] = 5.f;
    }
    lg[(size_t)3 * V + V - 1] = 5.f; /* tie after the planted index: lower wins */
    lg[(size_t)4 * V + 1] = NAN;     /* NaN never wins */
    float *dl = dev_from(lg, (size_t)R * V);
    int32_t *dout = o->alloc_i32(be, R), hout[70];
    die_if(o->argmax(be, dout, dl, R, V), "argmax");
    die_if(o->download(be, hout, dout, sizeof hout), "download");
    int bad = 0;
    for (int r = 0; r < R; r++) bad += hout[r] != want[r];
    failures += bad != 0;
    printf("%-4s %-58s %d of %d rows wrong\n", bad ? "FAIL" : "ok", "argmax 70 x 131072 (ties, NaN)", bad, R);
    o->free(be, dl);
    o->free(be, dout);
    o->free(be, did);
    free(lg);
}

/* kv_grow: a ring that starts with room for `room` positions and grows as chunks of n rows are
 * written (kv_grow before each write), against the same ring whole from the start: the attention of
 * every chunk over both must be the same bits, before and after the grown ring is whole, and
 * past its wrap. */
static void check_kv_grow(int n, int H, int KVH, int hd, int window, int room, long long end) {
    int cap = window + n, kvd = KVH * hd;
    vox_kv_t *whole = o->kv_new(be, cap, cap, KVH, hd), *grown = o->kv_new(be, cap, room, KVH, hd);
    if (!whole || !grown) die_if(1, "kv_new");
    size_t rows = (size_t)n * kvd, qn = (size_t)n * H * hd;
    float *k = malloc(rows * 4), *v = malloc(rows * 4), *q = malloc(qn * 4);
    float *dk = o->alloc(be, rows), *dv = o->alloc(be, rows), *dq = o->alloc(be, qn);
    float *da = dev_poison(qn), *db = dev_poison(qn);
    int differ = 0, grew = 0;
    for (long long p = 0; p < end; p += n) {
        for (size_t i = 0; i < rows; i++) {
            k[i] = frand();
            v[i] = frand();
        }
        for (size_t i = 0; i < qn; i++) q[i] = frand() * 2;
        die_if(o->upload(be, dk, k, rows * 4) || o->upload(be, dv, v, rows * 4) || o->upload(be, dq, q, qn * 4),
               "upload");
        size_t before = o->kv_bytes(be, grown);
        int64_t got = o->kv_grow(be, grown, p + n);
        if (got < 0 || got < (p + n < cap ? p + n : cap)) die_if(1, "kv_grow");
        grew += o->kv_bytes(be, grown) > before;
        die_if(o->set_pos(be, p), "set_pos");
        die_if(o->kv_write(be, whole, dk, dv, n) || o->kv_write(be, grown, dk, dv, n), "kv_write");
        die_if(o->attention(be, da, dq, whole, n, H, window) || o->attention(be, db, dq, grown, n, H, window),
               "attention");
        float *a = host_of(da, qn), *b = host_of(db, qn);
        differ += memcmp(a, b, qn * 4) != 0;
        free(a);
        free(b);
    }
    failures += differ != 0 || grew == 0 || o->kv_bytes(be, grown) != o->kv_bytes(be, whole);
    char what[96];
    snprintf(what, sizeof what, "kv_grow n=%d window=%d room %d -> %d, %lld positions", n, window, room, cap, end);
    printf("%-4s %-58s %d chunk(s) differ from the whole ring, %d growth(s)\n",
           differ || !grew || o->kv_bytes(be, grown) != o->kv_bytes(be, whole) ? "FAIL" : "ok", what, differ, grew);
    o->kv_free(be, whole);
    o->kv_free(be, grown);
    float *bufs[] = {dk, dv, dq, da, db};
    for (int i = 0; i < 5; i++) o->free(be, bufs[i]);
    free(k);
    free(v);
    free(q);
}

/* kv_write n rows at pos0, then attention; reference over the bf16-rounded K/V history. The
 * ring already holds `hist` earlier positions written in chunks (exercises the wrap). */
static void check_attention(int n, int H, int KVH, int hd, int window, long long pos0, int use_graph) {
    int cap = window + n, kvd = KVH * hd;
    vox_kv_t *kv = o->kv_new(be, cap, cap, KVH, hd);
    if (!kv) die_if(1, "kv_new");
    long long first = pos0 - window + 1 > 0 ? pos0 - window + 1 : 0, total = pos0 + n - first;
    float *K = malloc((size_t)total * kvd * 4), *Vv = malloc((size_t)total * kvd * 4);
    for (size_t i = 0; i < (size_t)total * kvd; i++) {
        K[i] = frand();
        Vv[i] = frand();
    }
    /* history first..pos0-1 in chunks of <= n rows (the ring holds window + n) */
    float *dk = o->alloc(be, (size_t)n * kvd), *dv = o->alloc(be, (size_t)n * kvd);
    for (long long p = first; p < pos0; p += n) {
        int m = (int)(pos0 - p < n ? pos0 - p : n);
        die_if(o->upload(be, dk, K + (size_t)(p - first) * kvd, (size_t)m * kvd * 4), "upload");
        die_if(o->upload(be, dv, Vv + (size_t)(p - first) * kvd, (size_t)m * kvd * 4), "upload");
        die_if(o->set_pos(be, p), "set_pos");
        die_if(o->kv_write(be, kv, dk, dv, m), "kv_write");
    }
    size_t qn = (size_t)n * H * hd;
    float *q = malloc(qn * 4);
    for (size_t i = 0; i < qn; i++) q[i] = frand() * 2;
    float *dq = dev_from(q, qn), *dout = dev_poison(qn);
    die_if(o->upload(be, dk, K + (size_t)(pos0 - first) * kvd, (size_t)n * kvd * 4), "upload");
    die_if(o->upload(be, dv, Vv + (size_t)(pos0 - first) * kvd, (size_t)n * kvd * 4), "upload");
    die_if(o->set_pos(be, pos0), "set_pos");
    if (use_graph) { /* capture at a wrong position, then replay at pos0: the register must win */
        vox_graph_t *g;
        die_if(o->set_pos(be, pos0 + 12345), "set_pos");
        die_if(o->graph_begin(be), "graph_begin");
        die_if(o->kv_write(be, kv, dk, dv, n), "kv_write");
        die_if(o->attention(be, dout, dq, kv, n, H, window), "attention");
        die_if(o->graph_end(be, &g), "graph_end");
        die_if(o->set_pos(be, pos0), "set_pos");
        die_if(o->graph_launch(be, g), "graph_launch");
        die_if(o->sync(be), "sync");
        o->graph_free(be, g);
    } else {
        die_if(o->kv_write(be, kv, dk, dv, n), "kv_write");
        die_if(o->attention(be, dout, dq, kv, n, H, window), "attention");
    }
    float *got = host_of(dout, qn);
    double *ref = calloc(qn, 8), *sc = malloc((size_t)(window + 1) * 8);
    int G = H / KVH;
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++) {
            long long P = pos0 + i, lo = P - window + 1 > 0 ? P - window + 1 : 0;
            int g = h / G;
            double mx = -INFINITY, sum = 0;
            for (long long j = lo; j <= P; j++) {
                double s = 0;
                for (int d = 0; d < hd; d++)
                    s += (double)q[((size_t)i * H + h) * hd + d] * bfr(K[(size_t)(j - first) * kvd + g * hd + d]);
                sc[j - lo] = s / sqrt((double)hd);
                if (sc[j - lo] > mx) mx = sc[j - lo];
            }
            for (long long j = lo; j <= P; j++) {
                sc[j - lo] = exp(sc[j - lo] - mx);
                sum += sc[j - lo];
            }
            for (long long j = lo; j <= P; j++)
                for (int d = 0; d < hd; d++)
                    ref[((size_t)i * H + h) * hd + d] +=
                        sc[j - lo] / sum * bfr(Vv[(size_t)(j - first) * kvd + g * hd + d]);
        }
    char what[128];
    snprintf(what, sizeof what, "attention n=%d H=%d KVH=%d hd=%d win=%d pos0=%lld%s", n, H, KVH, hd, window, pos0,
             use_graph ? " graph" : "");
    /* tensor-core path (hd 64/128, >= 64 rows per KV head): Q and P in bf16 */
    int tc = (hd == 64 || hd == 128) && n * (H / KVH) >= 64;
    if (tc) strcat(what, " [tc]");
    report(what, got, ref, qn, tc ? tol.tensor_core : tol.fp32);
    o->free(be, dq);
    o->free(be, dout);
    o->free(be, dk);
    o->free(be, dv);
    o->kv_free(be, kv);
    free(K);
    free(Vv);
    free(q);
    free(got);
    free(ref);
    free(sc);
}

/* Row tables (a step of n streams): row i has its own ring (capacity window + 3i + 1), position
 * and history. kv_write_rows + attention_rows against the double reference over the bf16 K/V;
 * rope_rows and rmsnorm_rows (per-row ada scale, row 1 without) against theirs. pad: every third
 * row (i % 3 == 2) is padding (position -1 in the table): attention zero, rope leaves it, its ring
 * unread; the table has two layers (the ops run layer 1, layer 0 holds other rings). */
static void check_rows(int n, int H, int KVH, int hd, int window, long long pos_base, int pad) {
    int kvd = KVH * hd, G = H / KVH, chunk = 256;
    vox_kv_t *kv[VOX_MAX_ROWS];
    int64_t pos[VOX_MAX_ROWS];
    float *K[VOX_MAX_ROWS], *Vv[VOX_MAX_ROWS];
    long long first[VOX_MAX_ROWS];
    float *dk = o->alloc(be, (size_t)chunk * kvd), *dv = o->alloc(be, (size_t)chunk * kvd);
    for (int i = 0; i < n; i++) {
        pos[i] = pos_base + 997LL * i * (i % 2 ? 1 : 5);
        kv[i] = o->kv_new(be, window + 3 * i + 1, window + 3 * i + 1, KVH, hd);
        if (!kv[i]) die_if(1, "kv_new");
        first[i] = pos[i] - window + 1 > 0 ? pos[i] - window + 1 : 0;
        long long total = pos[i] + 1 - first[i];
        K[i] = malloc((size_t)total * kvd * 4);
        Vv[i] = malloc((size_t)total * kvd * 4);
        for (size_t e = 0; e < (size_t)total * kvd; e++) {
            K[i][e] = frand();
            Vv[i][e] = frand();
        }
        for (long long p = first[i]; p < pos[i]; p += chunk) {
            int m = (int)(pos[i] - p < chunk ? pos[i] - p : chunk);
            die_if(o->upload(be, dk, K[i] + (size_t)(p - first[i]) * kvd, (size_t)m * kvd * 4), "upload");
            die_if(o->upload(be, dv, Vv[i] + (size_t)(p - first[i]) * kvd, (size_t)m * kvd * 4), "upload");
            die_if(o->set_pos(be, p), "set_pos");
            die_if(o->kv_write(be, kv[i], dk, dv, m), "kv_write");
        }
    }
    float *nk = malloc((size_t)n * kvd * 4), *nv = malloc((size_t)n * kvd * 4);
    for (int i = 0; i < n; i++) {
        memcpy(nk + (size_t)i * kvd, K[i] + (size_t)(pos[i] - first[i]) * kvd, (size_t)kvd * 4);
        memcpy(nv + (size_t)i * kvd, Vv[i] + (size_t)(pos[i] - first[i]) * kvd, (size_t)kvd * 4);
    }
    float *dnk = dev_from(nk, (size_t)n * kvd), *dnv = dev_from(nv, (size_t)n * kvd);
    size_t qn = (size_t)n * H * hd;
    float *q = malloc(qn * 4);
    for (size_t e = 0; e < qn; e++) q[e] = frand() * 2;
    float *dq = dev_from(q, qn), *dout = dev_poison(qn);
    /* rows' tables: layer 0 is row 0's ring for every row (never used), layer 1 the row's own */
    vox_kv_t *layers[VOX_MAX_ROWS][2];
    vox_kv_t *const *rings[VOX_MAX_ROWS];
    int64_t tpos[VOX_MAX_ROWS];
    for (int i = 0; i < n; i++) {
        layers[i][0] = kv[0];
        layers[i][1] = kv[i];
        rings[i] = layers[i];
        tpos[i] = pad && i % 3 == 2 ? -1 : pos[i];
    }
#define PADDED(i) (pad && (i) % 3 == 2)
    /* scales for rmsnorm_rows, in the table: per-row, row 1 none */
    int dim = H * hd;
    float *w = malloc((size_t)dim * 4), *scl = malloc((size_t)n * dim * 4);
    for (int e = 0; e < dim; e++) w[e] = frand();
    for (size_t e = 0; e < (size_t)n * dim; e++) scl[e] = frand();
    float *ds = dev_from(scl, (size_t)n * dim);
    const float *sl[VOX_MAX_ROWS][2];
    const float *const *ada[VOX_MAX_ROWS];
    for (int i = 0; i < n; i++) {
        sl[i][0] = NULL;
        sl[i][1] = i == 1 ? NULL : ds + (size_t)i * dim;
        ada[i] = sl[i];
    }
    die_if(o->set_rows(be, tpos, rings, ada, 2, n), "set_rows");
    die_if(o->kv_write_rows(be, 1, dnk, dnv, n), "kv_write_rows");
    die_if(o->attention_rows(be, 1, dout, dq, n, H, window), "attention_rows");
    float *got = host_of(dout, qn);
    double *ref = calloc(qn, 8), *sc = malloc((size_t)(window + 1) * 8);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H && !PADDED(i); h++) {
            int g = h / G;
            double mx = -INFINITY, sum = 0;
            for (long long j = first[i]; j <= pos[i]; j++) {
                double sv = 0;
                for (int dd = 0; dd < hd; dd++)
                    sv += (double)q[((size_t)i * H + h) * hd + dd] *
                          bfr(K[i][(size_t)(j - first[i]) * kvd + g * hd + dd]);
                sc[j - first[i]] = sv / sqrt((double)hd);
                if (sc[j - first[i]] > mx) mx = sc[j - first[i]];
            }
            for (long long j = first[i]; j <= pos[i]; j++) {
                sc[j - first[i]] = exp(sc[j - first[i]] - mx);
                sum += sc[j - first[i]];
            }
            for (long long j = first[i]; j <= pos[i]; j++)
                for (int dd = 0; dd < hd; dd++)
                    ref[((size_t)i * H + h) * hd + dd] +=
                        sc[j - first[i]] / sum * bfr(Vv[i][(size_t)(j - first[i]) * kvd + g * hd + dd]);
        }
    char what[128];
    snprintf(what, sizeof what, "kv_write_rows+attention_rows n=%d H=%d KVH=%d hd=%d win=%d%s", n, H, KVH, hd, window,
             pad ? " (every third row padding)" : "");
    report(what, got, ref, qn, tol.fp32);
    free(got);
    /* rope_rows on q */
    float *dx = dev_from(q, qn);
    die_if(o->rope_rows(be, dx, n, H, hd, 1e6f), "rope_rows");
    got = host_of(dx, qn);
    for (int i = 0; i < n; i++)
        for (int h = 0; h < H; h++)
            for (int j = 0; j < hd / 2; j++) {
                double ang = PADDED(i) ? 0 : (double)pos[i] * (double)(float)(1.0 / pow(1e6, 2.0 * j / hd)),
                       c = cos(ang), sn = sin(ang);
                size_t e = ((size_t)i * H + h) * hd + 2 * j;
                ref[e] = q[e] * c - q[e + 1] * sn;
                ref[e + 1] = q[e] * sn + q[e + 1] * c;
            }
    snprintf(what, sizeof what, "rope_rows n=%d heads=%d hd=%d%s", n, H, hd, pad ? " (padding left alone)" : "");
    report(what, got, ref, qn, tol.elementwise);
    free(got);
    /* rmsnorm_rows: dim = H*hd, the table's per-row scales of layer 1 (row 1 none; padding none) */
    vox_bweight_t *bw = vec_upload(w, dim);
    float *dy = dev_poison(qn);
    die_if(o->rmsnorm_rows(be, 1, dy, dq, bw, n, dim, 1e-5f), "rmsnorm_rows");
    got = host_of(dy, qn);
    for (int i = 0; i < n; i++) {
        double ss = 0;
        for (int e = 0; e < dim; e++) ss += (double)q[(size_t)i * dim + e] * q[(size_t)i * dim + e];
        double k = 1 / sqrt(ss / dim + 1e-5);
        for (int e = 0; e < dim; e++)
            ref[(size_t)i * dim + e] =
                q[(size_t)i * dim + e] * k * w[e] * (i == 1 || PADDED(i) ? 1 : 1 + scl[(size_t)i * dim + e]);
    }
    snprintf(what, sizeof what, "rmsnorm_rows n=%d dim=%d (row 1 without ada)", n, dim);
    report(what, got, ref, qn, tol.elementwise);
    free(got);
    o->free(be, dx);
    o->free(be, ds);
    o->free(be, dy);
    o->weight_free(be, bw);
#undef PADDED
    free(w);
    free(scl);
    o->free(be, dq);
    o->free(be, dout);
    o->free(be, dk);
    o->free(be, dv);
    o->free(be, dnk);
    o->free(be, dnv);
    for (int i = 0; i < n; i++) {
        o->kv_free(be, kv[i]);
        free(K[i]);
        free(Vv[i]);
    }
    free(nk);
    free(nv);
    free(q);
    free(ref);
    free(sc);
}

/* ---- speed: a graph of `reps` repetitions of one op, median of 5 timed launches ---- */
typedef int (*op_fn)(void *ctx);
static double time_op(op_fn f, void *ctx, int reps) {
    vox_graph_t *g;
    die_if(f(ctx), "warm-up");
    die_if(o->graph_begin(be), "graph_begin");
    for (int i = 0; i < reps; i++) die_if(f(ctx), "captured op");
    die_if(o->graph_end(be, &g), "graph_end");
    double t[5];
    die_if(o->graph_launch(be, g), "graph_launch");
    die_if(o->sync(be), "sync");
    for (int k = 0; k < 5; k++) {
        double t0 = vox_now_ms();
        die_if(o->graph_launch(be, g), "graph_launch");
        die_if(o->sync(be), "sync");
        t[k] = (vox_now_ms() - t0) / reps;
    }
    o->graph_free(be, g);
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++)
            if (t[b] < t[a]) {
                double s = t[a];
                t[a] = t[b];
                t[b] = s;
            }
    return t[2];
}

typedef struct {
    float *y, *x;
    vox_bweight_t *w;
    int n, path;
} lin_ctx;
static int lin_op(void *c) {
    lin_ctx *l = c;
    return vox_cuda_linear_path(be, l->y, l->x, l->w, NULL, l->n, 0, l->path);
}
typedef struct {
    float *y[3], *x;
    vox_bweight_t *w[3];
    int count, multi;
} multi_ctx;
static int multi_op(void *c) { /* linear_multi, or the same weights as separate linear() calls */
    multi_ctx *m = c;
    if (m->multi) return linear_multi_grid(m->count, m->y, m->x, (const vox_bweight_t *const *)m->w, 1);
    for (int i = 0; i < m->count; i++) {
        int rc = o->linear(be, m->y[i], m->x, m->w[i], NULL, 1, 0);
        if (rc) return rc;
    }
    return 0;
}
typedef struct {
    float *y, *tmp, *x;
    vox_bweight_t *w1, *w3;
    int fused;
} gated_ctx;
static int gated_op(void *c) { /* linear_gated, or its two parts */
    gated_ctx *g = c;
    if (g->fused) return o->linear_gated(be, g->y, g->tmp, g->x, g->w1, g->w3, 1);
    return vox_linear_gated_parts(be, g->y, g->tmp, g->x, g->w1, g->w3, 1, 9216);
}
typedef struct {
    float *a, *b;
    size_t bytes;
} copy_ctx;
static int copy_op(void *c) {
    copy_ctx *k = c;
    return o->copy(be, k->a, k->b, k->bytes);
}
typedef struct {
    float *out, *q;
    vox_kv_t *kv;
    int n, H, window;
} att_ctx;
static int att_op(void *c) {
    att_ctx *a = c;
    return o->attention(be, a->out, a->q, a->kv, a->n, a->H, a->window);
}

/* One encoder layer at the real shapes over a chunk of 1024 positions (the model's sequence). */
typedef struct {
    float *x, *h, *q, *k, *v, *att, *f1, *f3;
    vox_bweight_t *norm, *wq, *bq, *wk, *wv, *bv, *wo, *bo, *w1, *w3, *w2, *b2;
    vox_kv_t *kv;
} enc_ctx;
static int enc_layer_op(void *p) {
    enc_ctx *e = p;
    int n = 1024, rc = 0;
    rc = rc ? rc : o->rmsnorm(be, e->h, e->x, e->norm, NULL, n, 1280, 1e-5f);
    rc = rc ? rc : o->linear(be, e->q, e->h, e->wq, e->bq, n, 0);
    rc = rc ? rc : o->linear(be, e->k, e->h, e->wk, NULL, n, 0);
    rc = rc ? rc : o->linear(be, e->v, e->h, e->wv, e->bv, n, 0);
    rc = rc ? rc : o->rope(be, e->q, n, 32, 64, 1e6f);
    rc = rc ? rc : o->rope(be, e->k, n, 32, 64, 1e6f);
    rc = rc ? rc : o->kv_write(be, e->kv, e->k, e->v, n);
    rc = rc ? rc : o->attention(be, e->att, e->q, e->kv, n, 32, 750);
    rc = rc ? rc : o->linear(be, e->x, e->att, e->wo, e->bo, n, 1);
    rc = rc ? rc : o->rmsnorm(be, e->h, e->x, e->norm, NULL, n, 1280, 1e-5f);
    rc = rc ? rc : o->linear(be, e->f1, e->h, e->w1, NULL, n, 0);
    rc = rc ? rc : o->linear(be, e->f3, e->h, e->w3, NULL, n, 0);
    rc = rc ? rc : o->silu_mul(be, e->f1, e->f3, (size_t)n * 5120);
    rc = rc ? rc : o->linear(be, e->x, e->f1, e->w2, e->b2, n, 1);
    return rc;
}
static vox_bweight_t *rand_w(int out, int in) {
    hmat W = mat_new(out, in, 1.f / sqrtf((float)in));
    vox_bweight_t *w;
    die_if(o->weight_upload(be, &W.t, &w), "weight_upload");
    mat_free(&W);
    return w;
}
static vox_bweight_t *rand_v(int n, float base) {
    float *v = malloc((size_t)n * 4);
    for (int i = 0; i < n; i++) v[i] = base + 0.1f * frand();
    vox_bweight_t *w = vec_upload(v, n);
    free(v);
    return w;
}
static void time_encoder_layer(void) {
    enc_ctx e;
    size_t n = 1024;
    float *hx = malloc(n * 5120 * 4);
    for (size_t i = 0; i < n * 5120; i++) hx[i] = frand();
    e.x = dev_from(hx, n * 1280);
    e.h = dev_from(hx, n * 1280);
    e.q = dev_from(hx, n * 2048);
    e.k = dev_from(hx, n * 2048);
    e.v = dev_from(hx, n * 2048);
    e.att = dev_from(hx, n * 2048);
    e.f1 = dev_from(hx, n * 5120);
    e.f3 = dev_from(hx, n * 5120);
    free(hx);
    e.norm = rand_v(1280, 1.f);
    e.wq = rand_w(2048, 1280);
    e.bq = rand_v(2048, 0.f);
    e.wk = rand_w(2048, 1280);
    e.wv = rand_w(2048, 1280);
    e.bv = rand_v(2048, 0.f);
    e.wo = rand_w(1280, 2048);
    e.bo = rand_v(1280, 0.f);
    e.w1 = rand_w(5120, 1280);
    e.w3 = rand_w(5120, 1280);
    e.w2 = rand_w(1280, 5120);
    e.b2 = rand_v(1280, 0.f);
    e.kv = o->kv_new(be, 750 + 1024, 750 + 1024, 32, 64);
    die_if(o->set_pos(be, 5000), "set_pos");
    double t = time_op(enc_layer_op, &e, 3);
    printf("encoder layer (1024 positions, real shapes): %.3f ms; x 32 layers x 9 chunks (180 s) = %.1f ms\n", t,
           t * 32 * 9.0);
    float *bufs[] = {e.x, e.h, e.q, e.k, e.v, e.att, e.f1, e.f3};
    for (int i = 0; i < 8; i++) o->free(be, bufs[i]);
    vox_bweight_t *ws[] = {e.norm, e.wq, e.bq, e.wk, e.wv, e.bv, e.wo, e.bo, e.w1, e.w3, e.w2, e.b2};
    for (int i = 0; i < 12; i++) o->weight_free(be, ws[i]);
    o->kv_free(be, e.kv);
}

static void speed(void) {
    vox_params_t real; /* the real model's shapes and its decoder bytes per step: the engine's own tables */
    int64_t floor_bytes;
    vox_error_t perr = {0, ""};
    if (vox_synth_params("full", &real, &perr) || vox_weights_decoder_bytes_per_step(&real, &floor_bytes, &perr)) {
        fprintf(stderr, "opcheck: error: %s\n", perr.msg);
        exit(2);
    }
    const int L = real.n_layers;
    printf("\nspeed (%s)\n", o->device_name(be));
    /* device-to-device copy: 1 GiB, bytes read + written */
    size_t bytes = (size_t)1 << 30;
    copy_ctx cc = {o->alloc(be, bytes / 4), o->alloc(be, bytes / 4), bytes};
    if (!cc.a || !cc.b) die_if(1, "alloc");
    double tc = time_op(copy_op, &cc, 5), copy_gbs = 2.0 * bytes / tc / 1e6;
    printf("copy      1 GiB d2d: %.3f ms  %.0f GB/s (read + write)\n", tc, copy_gbs);
    o->free(be, cc.a);
    o->free(be, cc.b);

    struct {
        const char *name;
        int in, out, per_step; /* per_step: launches of the shape in a decoder step */
    } shp[] = {{"wq", 3072, 4096, L},        {"wk/wv", 3072, 1024, 2 * L}, {"wo", 4096, 3072, L},
               {"w1/w3", 3072, 9216, 2 * L}, {"w2", 9216, 3072, L},        {"lm head", 3072, 131072, 1}};
    double step_ms = 0;
    printf("decoder GEMV (n=1): weights GB/s, kernel vs cuBLASLt\n");
    for (size_t s = 0; s < sizeof shp / sizeof *shp; s++) {
        hmat W = mat_new(shp[s].out, shp[s].in, 0.02f);
        vox_bweight_t *w;
        die_if(o->weight_upload(be, &W.t, &w), "weight_upload");
        mat_free(&W);
        float *x = dev_random(8 * (size_t)shp[s].in), *y = dev_poison(8 * (size_t)shp[s].out);
        double wb = 2.0 * shp[s].in * shp[s].out;
        lin_ctx a = {y, x, w, 1, 1}, b = {y, x, w, 1, 0}, c8 = {y, x, w, 8, 1};
        double tg = time_op(lin_op, &a, 20), tl = time_op(lin_op, &b, 20), t8 = time_op(lin_op, &c8, 20);
        printf("  %-8s %5d -> %6d: gemv %7.1f us %5.0f GB/s | cublasLt %7.1f us %5.0f GB/s | gemv n=8 %7.1f us\n",
               shp[s].name, shp[s].in, shp[s].out, tg * 1e3, wb / tg / 1e6, tl * 1e3, wb / tl / 1e6, t8 * 1e3);
        step_ms += shp[s].per_step * (tg < tl ? tg : tl);
        o->free(be, x);
        o->free(be, y);
        o->weight_free(be, w);
    }
    printf("  decoder GEMVs per step (%d layers + head), separate: %.3f ms; floor %.2f GB / copy bw = %.3f ms\n", L,
           step_ms, (double)floor_bytes / 1e9, (double)floor_bytes / (copy_gbs * 1e9) * 1e3);

    /* batched streams' forwards and speculation blocks: n rows on the tensor-core GEMV against cuBLASLt */
    enum { TN = 4 };
    const int tn[TN] = {4, 8, 16, 32};
    double fwd[TN][2] = {{0}};
    printf("decoder linear at n rows: tensor-core GEMV vs cuBLASLt, us (weights GB/s)\n");
    for (size_t s = 0; s < sizeof shp / sizeof *shp; s++) {
        vox_bweight_t *w = rand_w(shp[s].out, shp[s].in);
        float *x = dev_random(32 * (size_t)shp[s].in), *y = dev_poison(32 * (size_t)shp[s].out);
        double wb = 2.0 * shp[s].in * shp[s].out;
        printf("  %-8s", shp[s].name);
        for (int i = 0; i < TN; i++) {
            lin_ctx a = {y, x, w, tn[i], VOX_LINEAR_TC}, b = {y, x, w, tn[i], VOX_LINEAR_LT};
            double tt = time_op(lin_op, &a, 20), tl = time_op(lin_op, &b, 20);
            fwd[i][0] += shp[s].per_step * tt;
            fwd[i][1] += shp[s].per_step * tl;
            printf(" | n=%d %6.1f (%4.0f) %6.1f (%4.0f)", tn[i], tt * 1e3, wb / tt / 1e6, tl * 1e3, wb / tl / 1e6);
        }
        printf("\n");
        o->free(be, x);
        o->free(be, y);
        o->weight_free(be, w);
    }
    for (int i = 0; i < TN; i++)
        printf(
            "  decoder linears per forward of %2d rows: tensor-core GEMV %.3f ms, cuBLASLt %.3f ms (floor %.3f ms)\n",
            tn[i], fwd[i][0], fwd[i][1], (double)floor_bytes / (copy_gbs * 1e9) * 1e3);

    /* the decoder's groups on one input: one linear_multi launch vs separate linear() calls */
    struct {
        const char *name;
        int count, outs[3];
    } grp[] = {{"q/k/v", 3, {4096, 1024, 1024}}, {"w1/w3", 2, {9216, 9216, 0}}};
    double saved = 0;
    printf("decoder linear_multi (n=1, in 3072): one GEMV launch vs separate linear() calls\n");
    for (size_t g = 0; g < sizeof grp / sizeof *grp; g++) {
        multi_ctx m;
        memset(&m, 0, sizeof m);
        m.count = grp[g].count;
        float *hx = malloc(3072 * 4);
        for (int i = 0; i < 3072; i++) hx[i] = frand();
        m.x = dev_from(hx, 3072);
        free(hx);
        double wb = 0;
        for (int i = 0; i < m.count; i++) {
            m.w[i] = rand_w(grp[g].outs[i], 3072);
            m.y[i] = dev_poison((size_t)grp[g].outs[i]);
            wb += 2.0 * 3072 * grp[g].outs[i];
        }
        m.multi = 0;
        double ts = time_op(multi_op, &m, 20);
        m.multi = 1;
        double tm = time_op(multi_op, &m, 20);
        saved += ts - tm;
        printf("  %-6s %.1f MB: multi %6.1f us %5.0f GB/s | separate %6.1f us %5.0f GB/s\n", grp[g].name, wb / 1e6,
               tm * 1e3, wb / tm / 1e6, ts * 1e3, wb / ts / 1e6);
        for (int i = 0; i < m.count; i++) {
            o->free(be, m.y[i]);
            o->weight_free(be, m.w[i]);
        }
        o->free(be, m.x);
    }
    printf("  per step (%d layers): %.3f ms less; decoder GEMVs per step with linear_multi %.3f ms\n", L, L * saved,
           step_ms - L * saved);

    /* the FFN gate: one gated GEMV against linear_multi(w1, w3) + silu_mul */
    {
        gated_ctx gc;
        float *hx = malloc(3072 * 4);
        for (int i = 0; i < 3072; i++) hx[i] = frand();
        gc.x = dev_from(hx, 3072);
        free(hx);
        gc.w1 = rand_w(9216, 3072);
        gc.w3 = rand_w(9216, 3072);
        gc.y = dev_poison(9216);
        gc.tmp = dev_poison(9216);
        gc.fused = 0;
        double tp = time_op(gated_op, &gc, 20);
        gc.fused = 1;
        double tf = time_op(gated_op, &gc, 20);
        double wb = 2.0 * 2 * 3072 * 9216;
        printf("  gate   %.1f MB: gated GEMV %6.1f us %5.0f GB/s | linear_multi + silu_mul %6.1f us; per step (%d "
               "layers) %.3f ms less\n",
               wb / 1e6, tf * 1e3, wb / tf / 1e6, tp * 1e3, L, L * (tp - tf));
        float *bufs[] = {gc.x, gc.y, gc.tmp};
        for (int i = 0; i < 3; i++) o->free(be, bufs[i]);
        o->weight_free(be, gc.w1);
        o->weight_free(be, gc.w3);
    }

    /* the grid's spread of rows over warps, on the launches with more rows than resident warps */
    struct {
        const char *name;
        int count, outs[3], per_step;
    } big[] = {
        {"q/k/v", 3, {4096, 1024, 1024}, L}, {"w1/w3", 2, {9216, 9216, 0}, L}, {"lm head", 1, {131072, 0, 0}, 1}};
    const char *grid_name[] = {"even", "row/warp", "all warps"};
    double gained = 0;
    printf("GEMV grid (n=1, in 3072, %d resident warps): even split (the engine's) | one row per warp (before) | "
           "all resident warps round-robin\n",
           vox_cuda(be)->gemv_slots);
    for (size_t g = 0; g < sizeof big / sizeof *big; g++) {
        multi_ctx m;
        memset(&m, 0, sizeof m);
        m.count = big[g].count;
        m.multi = 1;
        float *hx = malloc(3072 * 4);
        for (int i = 0; i < 3072; i++) hx[i] = frand();
        m.x = dev_from(hx, 3072);
        free(hx);
        double wb = 0, t[3];
        for (int i = 0; i < m.count; i++) {
            m.w[i] = rand_w(big[g].outs[i], 3072);
            m.y[i] = dev_poison((size_t)big[g].outs[i]);
            wb += 2.0 * 3072 * big[g].outs[i];
        }
        printf("  %-7s %6.1f MB:", big[g].name, wb / 1e6);
        for (int k = 0; k < 3; k++) {
            set_gemv_grid(k);
            t[k] = time_op(multi_op, &m, 20);
            printf(" %s %6.1f us %5.0f GB/s%s", grid_name[k], t[k] * 1e3, wb / t[k] / 1e6, k < 2 ? " |" : "\n");
        }
        set_gemv_grid(VOX_GEMV_GRID_EVEN);
        gained += big[g].per_step * (t[VOX_GEMV_GRID_ROW_PER_WARP] - t[VOX_GEMV_GRID_EVEN]);
        for (int i = 0; i < m.count; i++) {
            o->free(be, m.y[i]);
            o->weight_free(be, m.w[i]);
        }
        o->free(be, m.x);
    }
    printf("  per step (%d layers + head): even split %.3f ms less than one row per warp\n", L, gained);

    /* encoder GEMMs, n = 1024 rows (one encoder chunk) */
    struct {
        const char *name;
        int in, out;
    } enc[] = {{"enc wq", 1280, 2048}, {"enc w1", 1280, 5120}, {"enc w2", 5120, 1280}, {"adapter", 5120, 3072}};
    printf("encoder GEMM (n=1024, cuBLASLt incl. f32->bf16 staging)\n");
    for (size_t s = 0; s < sizeof enc / sizeof *enc; s++) {
        hmat W = mat_new(enc[s].out, enc[s].in, 0.02f);
        vox_bweight_t *w;
        die_if(o->weight_upload(be, &W.t, &w), "weight_upload");
        mat_free(&W);
        float *x = dev_poison(1024 * (size_t)enc[s].in), *y = dev_poison(1024 * (size_t)enc[s].out);
        float *hx = malloc(1024 * (size_t)enc[s].in * 4);
        for (size_t i = 0; i < 1024 * (size_t)enc[s].in; i++) hx[i] = frand();
        die_if(o->upload(be, x, hx, 1024 * (size_t)enc[s].in * 4), "upload");
        free(hx);
        lin_ctx a = {y, x, w, 1024, 0};
        double t = time_op(lin_op, &a, 10);
        printf("  %-8s %5d -> %5d: %7.1f us %6.1f TFLOP/s\n", enc[s].name, enc[s].in, enc[s].out, t * 1e3,
               2.0 * 1024 * enc[s].in * enc[s].out / t / 1e9);
        o->free(be, x);
        o->free(be, y);
        o->weight_free(be, w);
    }

    /* decode attention: H 32 / KVH 8 / hd 128, window 8192, at 1000 and 8191 keys */
    vox_kv_t *kv = o->kv_new(be, 8193, 8193, 8, 128);
    float *q = dev_poison(32 * 128), *out = dev_poison(32 * 128);
    float *zq = calloc(32 * 128, 4);
    die_if(o->upload(be, q, zq, 32 * 128 * 4), "upload");
    free(zq);
    att_ctx ac = {out, q, kv, 1, 32, 8192};
    long long ps[] = {1000, 8191};
    for (int i = 0; i < 2; i++) {
        die_if(o->set_pos(be, ps[i]), "set_pos");
        double t = time_op(att_op, &ac, 20);
        double kvb = 2.0 * 2 * 8 * 128 * (ps[i] + 1);
        printf("attention decode (32 q heads, 8 kv, hd 128) %5lld keys: %6.1f us  %5.0f GB/s of KV\n", ps[i] + 1,
               t * 1e3, kvb / t / 1e6);
    }
    o->free(be, q);
    o->free(be, out);
    o->kv_free(be, kv);

    /* encoder chunk: 1024 queries, 32 heads, hd 64, window 750, at position 5000 */
    size_t qn = (size_t)1024 * 32 * 64;
    kv = o->kv_new(be, 750 + 1024, 750 + 1024, 32, 64);
    q = dev_poison(qn);
    out = dev_poison(qn);
    float *hq = malloc(qn * 4);
    for (size_t i = 0; i < qn; i++) hq[i] = frand();
    die_if(o->upload(be, q, hq, qn * 4), "upload");
    free(hq);
    att_ctx ec = {out, q, kv, 1024, 32, 750};
    die_if(o->set_pos(be, 5000), "set_pos");
    double t = time_op(att_op, &ec, 5);
    printf("attention encoder chunk (1024 q, 32 heads, hd 64, window 750): %7.1f us; x 32 layers x 9 chunks "
           "(180 s) = %.1f ms\n",
           t * 1e3, t * 32 * 9);
    o->free(be, q);
    o->free(be, out);
    o->kv_free(be, kv);
    time_encoder_layer();
}

/* First use of a GEMM shape (cuBLASLt heuristic + loading its kernel) vs the next call: the
 * one-time cost each new shape adds to a cold encoder pass. Runs first, on a fresh process. */
static void cold_shapes(void) {
    struct {
        int n, in, out, acc;
    } sh[] = {{2048, 384, 1280, 0},  {1024, 3840, 1280, 0}, {1024, 1280, 2048, 0}, {1024, 2048, 1280, 1},
              {1024, 1280, 5120, 0}, {1024, 5120, 1280, 1}, {935, 1280, 2048, 0},  {256, 5120, 3072, 0}};
    printf("cold GEMM shapes (first call incl. plan vs second call, ms, synchronised)\n");
    for (size_t i = 0; i < sizeof sh / sizeof *sh; i++) {
        vox_bweight_t *w = rand_w(sh[i].out, sh[i].in);
        float *x = dev_poison((size_t)sh[i].n * sh[i].in), *y = dev_poison((size_t)sh[i].n * sh[i].out);
        double t[2];
        for (int k = 0; k < 2; k++) {
            die_if(o->sync(be), "sync");
            double t0 = vox_now_ms();
            die_if(vox_cuda_linear_path(be, y, x, w, NULL, sh[i].n, sh[i].acc, 0), "linear");
            die_if(o->sync(be), "sync");
            t[k] = vox_now_ms() - t0;
        }
        printf("  n=%4d %4d -> %4d acc=%d: first %6.2f  second %6.2f\n", sh[i].n, sh[i].in, sh[i].out, sh[i].acc, t[0],
               t[1]);
        o->free(be, x);
        o->free(be, y);
        o->weight_free(be, w);
    }
}

/* The linear paths (GEMV, tensor-core GEMV, cuBLASLt; one weight, several, the gate) at decoder, encoder
 * and odd shapes: opcheck --linear runs only these (gpu-check runs them under compute-sanitizer, as the
 * tiny fixtures' shapes never reach the tensor-core GEMV). */
static void check_linears(void) {
    int ns[] = {1, 2, 3, 8};
    for (int i = 0; i < 4; i++) check_linear(ns[i], 3072, 1024, 0, 0, 1);
    check_linear(1, 512, 300, 1, 1, 1);
    check_linear(2, 100, 60, 1, 0, 1); /* in % 8 != 0: scalar GEMV */
    check_linear(1, 3072, 1024, 0, 0, 0);
    check_linear(16, 384, 256, 1, 0, 0);
    check_linear(100, 1280, 512, 1, 1, 0);
    check_linear(37, 100, 60, 0, 1, 0);
    /* the tensor-core GEMV: 1..4 tiles of 8 rows, partial tiles, blocks of 16 rows (m1) and 32 (m2,
     * from 2 blocks per SM up), warps' ranges of 1, 3 and 36 chunks of 32 columns, bias, residual */
    check_linear(3, 3072, 1024, 0, 0, VOX_LINEAR_TC);
    check_linear(9, 3072, 4096, 1, 1, VOX_LINEAR_TC);
    check_linear(20, 4096, 3072, 0, 1, VOX_LINEAR_TC); /* wo of a batched forward, residual */
    check_linear(32, 9216, 3072, 0, 1, VOX_LINEAR_TC); /* w2 */
    check_linear(17, 3072, 9216, 1, 0, VOX_LINEAR_TC); /* m2 */
    check_linear(32, 512, 16384, 1, 1, VOX_LINEAR_TC); /* m2, 4 tiles */
    check_linear(5, 256, 8448, 0, 1, VOX_LINEAR_TC);   /* m2, one chunk per warp */
    check_linear(12, 768, 64, 1, 0, VOX_LINEAR_TC);    /* m1, 3 chunks per warp */
    check_linear(24, 1280, 5120, 1, 1, VOX_LINEAR_TC); /* an encoder pass's w1 */
    int qkv[] = {4096, 1024, 1024}, odd[] = {60, 17, 33}, five[] = {40, 8, 1, 70, 9}, big[] = {1024, 512};
    check_linear_multi(1, 3072, 3, qkv); /* the decode step's q/k/v */
    check_linear_multi(8, 3072, 3, qkv);
    check_linear_multi(2, 100, 3, odd);   /* scalar GEMV, segments ending mid-block */
    check_linear_multi(2, 256, 5, five);  /* more weights than one launch takes */
    check_linear_multi(38, 3072, 2, big); /* prefill: a GEMM per weight */
    check_linear_multi(20, 3072, 3, qkv); /* a batched forward's q/k/v: one tensor-core launch */
    int wide[] = {9216, 9216, 32, 4096, 64};
    check_linear_multi(11, 3072, 5, wide); /* m2 over 4 segments, then one more launch */
    int many[] = {20000, 13, 9001}, many2[] = {30000, 77};
    check_linear_multi(1, 256, 3, many); /* more rows than resident warps: several per warp */
    check_linear_multi(2, 256, 3, many);
    check_linear_multi(2, 100, 2, many2); /* the same on the scalar GEMV */
    check_linear_gated(1, 3072, 9216);    /* the decode step's w1/w3 */
    check_linear_gated(2, 3072, 9216);
    check_linear_gated(1, 256, 20000);  /* more rows than resident warps */
    check_linear_gated(4, 1280, 5120);  /* the encoder's live pushes: the two calls */
    check_linear_gated(20, 3072, 9216); /* a batched forward: tensor-core w1/w3, then silu_mul */
    check_linear_gated(1, 100, 60);     /* in % 8 != 0: the two calls */
}

int main(int argc, char **argv) {
    int quick = 0, linear_only = 0;
    const char *tolerances = VOX_TOLERANCES_JSON;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--linear") == 0)
            linear_only = 1;
        else if (strcmp(argv[i], "--tolerances") == 0 && i + 1 < argc)
            tolerances = argv[++i];
        else {
            fprintf(stderr,
                    "opcheck: error: unknown argument '%s'. Usage: opcheck [--quick | --linear] [--tolerances FILE]\n",
                    argv[i]);
            return 2;
        }
    }
    load_tolerances(tolerances);
    vox_backend_opts opts = {"cuda", 0, 0, 1};
    vox_error_t err = {0, ""};
    if (vox_backend_cuda_create(&opts, &be, &err) != 0) {
        fprintf(stderr, "opcheck: %s\n", err.msg);
        return 2;
    }
    o = be->ops;
    printf("device: %s\n", o->device_name(be));
    cold_shapes();
    check_linears();
    if (linear_only) {
        printf("%s: %d check(s) failed\n", failures ? "FAIL" : "PASS", failures);
        o->destroy(be);
        return failures ? 1 : 0;
    }
    check_pointwise();
    check_rmsnorm(7, 3072, 0);
    check_rmsnorm(5, 96, 1);
    check_rope(3, 32, 128, 0);
    check_rope(40, 4, 24, 12345);
    check_rope(2, 8, 64, 2000000);
    check_rope_kv(1, 32, 8, 128, 8192, 3000, 0);  /* the decode step */
    check_rope_kv(16, 32, 8, 128, 8192, 9000, 0); /* a speculation block, ring wrapped */
    check_rope_kv(200, 32, 32, 64, 750, 1300, 0); /* an encoder chunk */
    check_rope_kv(12, 32, 8, 128, 8192, 40, 1);   /* 12 streams */
    check_rope_kv(3, 6, 2, 16, 24, 77, 1);        /* tiny shapes */
    check_im2col_embed_argmax();
    check_kv_grow(1, 6, 2, 16, 100, 8, 130);        /* one row at a time, grown 8 -> 16 -> ... -> 101, wrapped */
    check_kv_grow(16, 32, 8, 128, 600, 40, 1400);   /* speculation-sized chunks, real head shapes */
    check_attention(1, 32, 8, 128, 8192, 3000, 0);  /* decode */
    check_attention(1, 32, 8, 128, 8192, 9000, 1);  /* decode past the window, graph */
    check_attention(1, 32, 8, 128, 8192, 10, 0);    /* decode, 11 keys: most of the 66 splits have none */
    check_attention(39, 32, 8, 128, 8192, 0, 0);    /* prefill */
    check_attention(200, 32, 32, 64, 750, 1300, 0); /* encoder chunk, ring wrapped */
    check_attention(16, 32, 8, 128, 8192, 5000, 0); /* tensor cores + key splits */
    check_attention(60, 8, 8, 64, 100, 30, 0);      /* rows < 64: FP32 kernel, hd 64 */
    check_attention(64, 4, 4, 16, 16, 100, 0);      /* tiny small windows */
    check_attention(30, 4, 4, 24, 750, 40, 0);      /* hd 24 */
    check_attention(1, 6, 2, 16, 24, 77, 1);        /* GQA 3:1, hd 16, graph */
    check_attention(1, 4, 2, 32, 24, 50, 0);
    check_attention(8, 32, 8, 128, 8192, 4000, 0); /* a speculation block of 8 rows */
    check_rows(8, 32, 8, 128, 8192, 40, 0);        /* 8 streams, real shapes, rings wrapped */
    check_rows(3, 6, 2, 16, 24, 77, 0);            /* tiny fixture shapes, small windows */
    check_rows(12, 32, 8, 128, 8192, 40, 0);       /* more than 8 rows: fewer key splits per row */
    check_rows(VOX_MAX_ROWS, 6, 2, 16, 24, 77, 0); /* the widest forward, tiny shapes */
    check_rows(8, 32, 32, 64, 750, 900, 1);        /* encoder shapes with padding rows */
    check_row_runs(32, 32, 64, 750);               /* encoder shapes: runs share tiles */
    check_row_runs(6, 2, 16, 24);                  /* GQA: a row's heads per tile */
    check_rows(2, 4, 2, 32, 8192, 38, 0);
    printf("%s: %d check(s) failed\n", failures ? "FAIL" : "PASS", failures);
    if (!quick) speed();
    o->destroy(be);
    return failures ? 1 : 0;
}
