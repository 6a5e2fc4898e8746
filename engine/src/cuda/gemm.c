/* gemm.c — linear(): y[n, out] (+)= x[n, in] · Wᵀ (+ b), W bf16 [out, in], x/y f32; the cuBLASLt side.
 *
 * n <= VOX_GEMV_MAX_ROWS (the decode step) goes to the GEMV kernel (gemv.c); so does linear_multi
 * (several weights on one x: q/k/v, w1/w3), as ONE GEMV launch over the rows of all of them. Up to
 * VOX_GEMV_TC_MAX_ROWS rows (batched streams' forwards, speculation), the same on the tensor-core
 * GEMV where the shapes suit it (widths of 256k, rows of 32k). Beyond, linear_multi is one
 * cuBLASLt GEMM per weight.
 * Larger n (encoder, adapter, prefill): x is rounded to bf16 by a kernel, then cuBLASLt
 * computes with BF16 operands and FP32 accumulation into the f32 y (beta = 1 for the fused
 * residual). Row-major y[n,out] is column-major Y[out,n] = op(A)·B with A = W viewed
 * column-major [in, out] (transposed) and B = x viewed column-major [in, n]. Algorithms are
 * chosen per row bucket (n rounded up to a power of two, >= 16; see vox_gemm_algo) so that a
 * new n reuses an already loaded kernel: the first launch of a cuBLASLt kernel costs
 * milliseconds (lazy module loading), which prepare_linear (called at model load) pays once
 * per bucket. The plan (layouts for the exact n + the bucket's algorithm, checked by
 * cublasLtMatmulAlgoCheck, with our explicit workspace) is cached per shape. Bias: the
 * GEMM's bias epilogue (D = A·B + beta·C + bias); where cuBLASLt offers no algorithm with it,
 * a broadcast-add kernel after the GEMM (logged with --debug). */
#include "cuda_impl.h"
#include "../../kernels/gemv_args.cuh" /* VOX_GEMV_SEGS */

#include <stdio.h>
#include <string.h>

static void plan_release(vox_cuda_t *c, vox_gemm_plan *p) {
    if (p->la) c->api.cublasLtMatrixLayoutDestroy(p->la);
    if (p->lb) c->api.cublasLtMatrixLayoutDestroy(p->lb);
    if (p->lc) c->api.cublasLtMatrixLayoutDestroy(p->lc);
    memset(p, 0, sizeof *p);
}

void vox_cuda_gemm_cache_clear(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    for (int i = 0; i < c->n_plans; i++) plan_release(c, &c->plans[i]);
    c->n_plans = c->next_plan = 0;
    memset(c->plan_head, 0, sizeof c->plan_head);
    c->n_algos = c->next_algo = 0;
    if (c->mm) c->api.cublasLtMatmulDescDestroy(c->mm);
    if (c->mm_bias) c->api.cublasLtMatmulDescDestroy(c->mm_bias);
    c->mm = c->mm_bias = NULL;
}

/* The heuristic's best algorithm for desc over these layouts, or *found = 0. */
static int heuristic(vox_backend_t *be, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t la, cublasLtMatrixLayout_t lb,
                     cublasLtMatrixLayout_t lc, cublasLtMatmulAlgo_t *algo, int *found) {
    vox_cuda_t *c = vox_cuda(be);
    vox_cu_api *a = &c->api;
    cublasLtMatmulPreference_t pref = NULL;
    BLAS_CHECK(be, a->cublasLtMatmulPreferenceCreate(&pref));
    uint64_t ws = c->lt_ws_bytes;
    cublasLtMatmulHeuristicResult_t res;
    *found = 0;
    cublasStatus_t s =
        a->cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = a->cublasLtMatmulAlgoGetHeuristic(c->lt, desc, la, lb, lc, lc, pref, 1, &res, found);
    a->cublasLtMatmulPreferenceDestroy(pref);
    if (s == 15 /* CUBLAS_STATUS_NOT_SUPPORTED: no algorithm for this configuration */)
        *found = 0;
    else
        BLAS_CHECK(be, s);
    if (*found > 0) *algo = res.algo;
    return 0;
}

static int make_descs(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    vox_cu_api *a = &c->api;
    int ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    uint32_t epi = CUBLASLT_EPILOGUE_BIAS;
    cublasLtMatmulDesc_t *d[2] = {&c->mm, &c->mm_bias};
    for (int i = 0; i < 2; i++) {
        BLAS_CHECK(be, a->cublasLtMatmulDescCreate(d[i], CUBLAS_COMPUTE_32F, CUDA_R_32F));
        BLAS_CHECK(be, a->cublasLtMatmulDescSetAttribute(*d[i], CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
        BLAS_CHECK(be, a->cublasLtMatmulDescSetAttribute(*d[i], CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    }
    BLAS_CHECK(be, a->cublasLtMatmulDescSetAttribute(c->mm_bias, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
    return 0;
}

/* Column-major views for y[n,out] (+)= x[n,in] · Wᵀ: W as [in, out], x as [in, n], y as [out, n]. */
static int layouts(vox_backend_t *be, int out, int n, int in, cublasLtMatrixLayout_t *la, cublasLtMatrixLayout_t *lb,
                   cublasLtMatrixLayout_t *lc) {
    vox_cu_api *a = &vox_cuda(be)->api;
    BLAS_CHECK(be, a->cublasLtMatrixLayoutCreate(la, CUDA_R_16BF, (uint64_t)in, (uint64_t)out, in));
    BLAS_CHECK(be, a->cublasLtMatrixLayoutCreate(lb, CUDA_R_16BF, (uint64_t)in, (uint64_t)n, in));
    BLAS_CHECK(be, a->cublasLtMatrixLayoutCreate(lc, CUDA_R_32F, (uint64_t)out, (uint64_t)n, out));
    return 0;
}

/* Best algorithm for this shape: with the bias epilogue when bias is given and cuBLASLt has
 * one (*fused = 1), else the plain GEMM (the bias then goes through a kernel). */
static int choose(vox_backend_t *be, int out, int n, int in, const float *bias, cublasLtMatmulAlgo_t *algo,
                  int *fused) {
    vox_cuda_t *c = vox_cuda(be);
    cublasLtMatrixLayout_t la = NULL, lb = NULL, lc = NULL;
    int found = 0, rc = layouts(be, out, n, in, &la, &lb, &lc);
    *fused = 0;
    if (!rc && bias) { /* the heuristic reads the bias pointer for its alignment */
        cublasStatus_t s =
            c->api.cublasLtMatmulDescSetAttribute(c->mm_bias, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
        rc = s ? vox_cuda_fail_blas(be, s, "cublasLtMatmulDescSetAttribute", __FILE__, __LINE__)
               : heuristic(be, c->mm_bias, la, lb, lc, algo, &found);
        *fused = found > 0;
        if (!rc && !found && be->debug)
            fprintf(stderr,
                    "voxtral: debug: cuda: fallback: no cuBLASLt bias epilogue for out=%d n=%d in=%d, "
                    "bias added by a kernel\n",
                    out, n, in);
    }
    if (!rc && !found) rc = heuristic(be, c->mm, la, lb, lc, algo, &found);
    if (la) c->api.cublasLtMatrixLayoutDestroy(la);
    if (lb) c->api.cublasLtMatrixLayoutDestroy(lb);
    if (lc) c->api.cublasLtMatrixLayoutDestroy(lc);
    if (!rc && found < 1)
        rc = vox_fail(&be->err, VOX_EDEVICE,
                      "cuBLASLt has no BF16 GEMM algorithm for out=%d n=%d in=%d "
                      "on %s. Update the CUDA libraries (libcublasLt)",
                      out, n, in, c->name);
    return rc;
}

/* Rows of the bucket n falls in: the next power of two, at least 16. */
static int bucket_rows(int n) {
    int r = 16;
    while (r < n && r < (1 << 30)) r *= 2;
    return r;
}

/* The algorithm of n's row bucket for this weight shape (chosen on first use, at n = the top). */
static int find_algo(vox_backend_t *be, int out, int n, int in, int accumulate, const float *bias,
                     const vox_gemm_algo **ap) {
    vox_cuda_t *c = vox_cuda(be);
    int rows = bucket_rows(n), has_bias = bias != NULL;
    for (int i = 0; i < c->n_algos; i++) {
        const vox_gemm_algo *g = &c->algos[i];
        if (g->out == out && g->rows == rows && g->in == in && g->accumulate == accumulate && g->bias == has_bias) {
            *ap = g;
            return 0;
        }
    }
    double t0 = vox_now_ms();
    vox_gemm_algo g = {out, rows, in, accumulate, has_bias, 0, {{0}}};
    int rc = choose(be, out, rows, in, bias, &g.algo, &g.fused_bias);
    if (rc) return rc;
    int slot = c->n_algos < VOX_GEMM_ALGOS ? c->n_algos++ : (c->next_algo++ % VOX_GEMM_ALGOS);
    c->algos[slot] = g;
    *ap = &c->algos[slot];
    if (be->debug)
        fprintf(stderr,
                "voxtral: debug: cuda: cuBLASLt algorithm out=%d n<=%d in=%d beta=%d bias=%s "
                "(heuristic %.2f ms)\n",
                out, rows, in, accumulate,
                !bias          ? "none"
                : g.fused_bias ? "epilogue"
                               : "kernel",
                vox_now_ms() - t0);
    return 0;
}

/* The plan for exactly n rows: its layouts and the bucket's algorithm, which cuBLASLt must
 * accept for this n within our workspace; otherwise (logged) the heuristic's pick for n. */
static int make_plan(vox_backend_t *be, vox_gemm_plan *p, int out, int n, int in, int accumulate, const float *bias) {
    vox_cuda_t *c = vox_cuda(be);
    vox_cu_api *a = &c->api;
    int rc;
    if (!c->mm && (rc = make_descs(be))) return rc;
    memset(p, 0, sizeof *p);
    p->out = out;
    p->n = n;
    p->in = in;
    p->accumulate = accumulate;
    p->bias = bias != NULL;
    if ((rc = layouts(be, out, n, in, &p->la, &p->lb, &p->lc))) return rc;
    const vox_gemm_algo *g;
    if ((rc = find_algo(be, out, n, in, accumulate, bias, &g))) return rc;
    cublasLtMatmulDesc_t desc = g->fused_bias ? c->mm_bias : c->mm;
    if (g->fused_bias)
        BLAS_CHECK(be, a->cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    cublasLtMatmulHeuristicResult_t res;
    cublasStatus_t s = a->cublasLtMatmulAlgoCheck(c->lt, desc, p->la, p->lb, p->lc, p->lc, &g->algo, &res);
    if (s == CUBLAS_STATUS_SUCCESS && res.workspaceSize <= c->lt_ws_bytes) {
        p->algo = g->algo;
        p->fused_bias = g->fused_bias;
        return 0;
    }
    if (be->debug)
        fprintf(stderr,
                "voxtral: debug: cuda: fallback: the n<=%d algorithm does not fit out=%d n=%d in=%d "
                "(%s), own heuristic\n",
                g->rows, out, n, in, s ? a->cublasLtGetStatusName(s) : "workspace");
    return choose(be, out, n, in, bias, &p->algo, &p->fused_bias);
}

static unsigned plan_bucket(int out, int n, int in, int accumulate, int bias) {
    unsigned h = (unsigned)out * 2654435761u ^ (unsigned)n * 40503u ^ (unsigned)in * 2246822519u;
    return (h ^ (unsigned)(accumulate * 2 + bias) * 3266489917u ^ h >> 15) & (VOX_GEMM_HASH - 1);
}

/* Take plan `slot` out of its bucket's chain (before it is reused). */
static void plan_unlink(vox_cuda_t *c, int slot) {
    const vox_gemm_plan *p = &c->plans[slot];
    int *link = &c->plan_head[plan_bucket(p->out, p->n, p->in, p->accumulate, p->bias)];
    while (*link && *link != slot + 1) link = &c->plan_next[*link - 1];
    if (*link) *link = c->plan_next[slot];
}

static int find_plan(vox_backend_t *be, int out, int n, int in, int accumulate, const float *bias, vox_gemm_plan **pp) {
    vox_cuda_t *c = vox_cuda(be);
    int has_bias = bias != NULL;
    unsigned b = plan_bucket(out, n, in, accumulate, has_bias);
    for (int i = c->plan_head[b]; i; i = c->plan_next[i - 1]) {
        vox_gemm_plan *p = &c->plans[i - 1];
        if (p->out == out && p->n == n && p->in == in && p->accumulate == accumulate && p->bias == has_bias) {
            *pp = p;
            return 0;
        }
    }
    int slot = c->n_plans < VOX_GEMM_PLANS ? c->n_plans++ : (c->next_plan++ % VOX_GEMM_PLANS);
    vox_gemm_plan *p = &c->plans[slot];
    if (p->n) plan_unlink(c, slot); /* a plan in use (n > 0) makes way for this one */
    plan_release(c, p);
    int rc = make_plan(be, p, out, n, in, accumulate, bias);
    if (rc != 0) {
        plan_release(c, p); /* never match a half-built plan */
        return rc;
    }
    c->plan_next[slot] = c->plan_head[b];
    c->plan_head[b] = slot + 1;
    *pp = p;
    return 0;
}

int vox_cuda_stage_bf16(vox_backend_t *be, const float *x, size_t elems, const uint16_t **xb) {
    vox_cuda_t *c = vox_cuda(be);
    int rc = vox_cuda_reserve(be, (void **)&c->xbf, &c->xbf_cap, elems * 2, "GEMM input (bf16)");
    if (rc) return rc;
    long long ne = (long long)elems;
    void *cargs[] = {&c->xbf, &x, &ne};
    *xb = c->xbf;
    return vox_cuda_launch(be, c->k.k_f32_to_bf16, vox_cuda_grid(c, elems), 1, 1, 256, cargs);
}

static int linear_lt(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const float *bias, int n,
                     int accumulate) {
    vox_cuda_t *c = vox_cuda(be);
    int out = (int)w->rows, in = (int)w->cols;
    const uint16_t *xb;
    int rc = vox_cuda_stage_bf16(be, x, (size_t)n * in, &xb);
    if (rc) return rc;
    vox_gemm_plan *p;
    if ((rc = find_plan(be, out, n, in, accumulate, bias, &p))) return rc;
    float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
    cublasLtMatmulDesc_t desc = c->mm;
    if (p->fused_bias) {
        desc = c->mm_bias;
        BLAS_CHECK(be,
                   c->api.cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    }
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    BLAS_CHECK(be, c->api.cublasLtMatmul(c->lt, desc, &alpha, w->d, p->la, xb, p->lb, &beta, y, p->lc, y, p->lc,
                                         &p->algo, c->lt_ws, c->lt_ws_bytes, c->stream));
    if (bias && !p->fused_bias) {
        long long rows = n;
        void *bargs[] = {&y, &bias, &rows, &out};
        return vox_cuda_launch(be, c->k.k_bias_add, vox_cuda_grid(c, (size_t)n * out), 1, 1, 256, bargs);
    }
    return 0;
}

/* One small BF16 GEMM at start-up: cuBLASLt initialises its heuristics and loads its first
 * kernels here (model load) rather than inside the first encoder chunk. */
int vox_cuda_gemm_warmup(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    enum { D = 256 };
    double t0 = vox_now_ms();
    vox_bweight_t w = {NULL, 0, D, D}; /* contents never initialised: only the call matters */
    float *xy = vox_cuda_malloc(be, sizeof(float) * 2 * D * D);
    w.d = vox_cuda_malloc(be, 2 * D * D);
    int rc = (xy && w.d) ? 0 : be->err.code;
    if (!rc) rc = vox_cuda_linear_path(be, xy + D * D, xy, &w, NULL, D, 0, VOX_LINEAR_LT);
    if (!rc) {
        CUresult r = c->api.cuStreamSynchronize(c->stream);
        if (r != CUDA_SUCCESS) rc = vox_cuda_fail_cu(be, r, "cuStreamSynchronize", __FILE__, __LINE__);
    }
    vox_cuda_mfree(be, xy);
    vox_cuda_mfree(be, w.d);
    if (!rc && be->debug) fprintf(stderr, "voxtral: debug: cuda: cuBLASLt warm-up %.1f ms\n", vox_now_ms() - t0);
    return rc;
}

int vox_cuda_prepare_linear(vox_backend_t *be, const vox_bweight_t *w, const vox_bweight_t *b, int min_rows,
                            int max_rows, int accumulate) {
    vox_cuda_t *c = vox_cuda(be);
    /* rows the GEMV kernels take (loaded at create) need no cuBLASLt kernel */
    int lo = vox_cuda_gemv_tc_fits(1, &w, VOX_GEMV_TC_MAX_ROWS) ? VOX_GEMV_TC_MAX_ROWS : VOX_GEMV_MAX_ROWS;
    if (max_rows <= lo) return 0;
    int top = bucket_rows(max_rows);
    int first = bucket_rows(min_rows > lo ? min_rows : lo + 1);
    double t0 = vox_now_ms();
    /* Scratch in and out, contents never initialised: only the kernels' first launch matters. */
    float *x = vox_cuda_malloc(be, sizeof(float) * (size_t)top * (size_t)w->cols);
    float *y = x ? vox_cuda_malloc(be, sizeof(float) * (size_t)top * (size_t)w->rows) : NULL;
    int rc = y ? 0 : be->err.code;
    for (int rows = first; !rc && rows <= top; rows *= 2)
        rc = vox_cuda_linear_path(be, y, x, w, b, rows, accumulate, VOX_LINEAR_LT);
    if (!rc) {
        CUresult r = c->api.cuStreamSynchronize(c->stream);
        if (r != CUDA_SUCCESS) rc = vox_cuda_fail_cu(be, r, "cuStreamSynchronize", __FILE__, __LINE__);
    }
    vox_cuda_mfree(be, x);
    vox_cuda_mfree(be, y);
    if (!rc && be->debug)
        fprintf(stderr,
                "voxtral: debug: cuda: prepared GEMMs out=%lld in=%lld beta=%d bias=%s for n in %d..%d: %.1f ms\n",
                (long long)w->rows, (long long)w->cols, accumulate ? 1 : 0, b ? "yes" : "no", first / 2 + 1, top,
                vox_now_ms() - t0);
    return rc;
}

int vox_cuda_linear_path(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const vox_bweight_t *b,
                         int n, int accumulate, int path) {
    if (w->is_f32) return vox_fail(&be->err, VOX_EINTERNAL, "linear: weight is a vector, not a matrix");
    if (b && (!b->is_f32 || b->rows != w->rows))
        return vox_fail(&be->err, VOX_EINTERNAL, "linear: bias of %lld values for %lld outputs", (long long)b->rows,
                        (long long)w->rows);
    if (n <= 0) return 0;
    const float *bias = b ? b->d : NULL;
    accumulate = accumulate ? 1 : 0;
    path = vox_cuda_linear_route(path, &w, 1, n);
    if (path == VOX_LINEAR_GEMV) return vox_cuda_gemv(be, 1, &y, x, &w, &bias, n, accumulate, 0);
    if (path == VOX_LINEAR_TC) return vox_cuda_gemv_tc(be, 1, &y, x, &w, &bias, n, accumulate);
    return linear_lt(be, y, x, w, bias, n, accumulate);
}

int vox_cuda_linear_route(int path, const vox_bweight_t *const *w, int count, int n) {
    if (path == VOX_LINEAR_AUTO) path = n <= VOX_GEMV_MAX_ROWS ? VOX_LINEAR_GEMV : VOX_LINEAR_TC;
    if (path == VOX_LINEAR_GEMV && n > VOX_GEMV_MAX_ROWS) return VOX_LINEAR_LT;
    if (path == VOX_LINEAR_TC && !vox_cuda_gemv_tc_fits(count, w, n)) return VOX_LINEAR_LT;
    return path;
}

int vox_cuda_linear(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const vox_bweight_t *b, int n,
                    int accumulate) {
    return vox_cuda_linear_path(be, y, x, w, b, n, accumulate, VOX_LINEAR_AUTO);
}

int vox_cuda_linear_gated(vox_backend_t *be, float *y, float *tmp, const float *x, const vox_bweight_t *w1,
                          const vox_bweight_t *w3, int n) {
    if (w1->is_f32 || w3->is_f32 || w1->rows != w3->rows || w1->cols != w3->cols)
        return vox_fail(&be->err, VOX_EINTERNAL, "linear_gated: w1 and w3 are not matrices of one shape");
    if (VOX_CUDA_GATED && n <= VOX_GEMV_MAX_ROWS && n <= VOX_GEMV_GATED_ROWS && w1->cols % 8 == 0 &&
        ((uintptr_t)x & 15) == 0)
        return n > 0 ? vox_cuda_gemv_gated(be, y, x, w1, w3, n) : 0;
    return vox_linear_gated_parts(be, y, tmp, x, w1, w3, n, (int)w1->rows);
}

int vox_cuda_linear_multi(vox_backend_t *be, int count, float *const *y, const float *x, const vox_bweight_t *const *w,
                          int n) {
    for (int i = 0; i < count; i++)
        if (w[i]->is_f32 || w[i]->cols != w[0]->cols)
            return vox_fail(&be->err, VOX_EINTERNAL, "linear_multi: weight %d is %s, not a matrix %lld wide", i,
                            w[i]->is_f32 ? "a vector" : "of another width", (long long)w[0]->cols);
    if (n <= 0) return 0;
    int rc = 0;
    for (int i = 0; !rc && i < count; i += VOX_GEMV_SEGS) { /* up to VOX_GEMV_SEGS weights per GEMV launch */
        int k = count - i < VOX_GEMV_SEGS ? count - i : VOX_GEMV_SEGS,
            path = vox_cuda_linear_route(VOX_LINEAR_AUTO, w + i, k, n);
        if (path == VOX_LINEAR_GEMV)
            rc = vox_cuda_gemv(be, k, y + i, x, w + i, NULL, n, 0, 0);
        else if (path == VOX_LINEAR_TC)
            rc = vox_cuda_gemv_tc(be, k, y + i, x, w + i, NULL, n, 0);
        else /* cuBLASLt: a GEMM per weight (each one fills the GPU) */
            for (int j = i; !rc && j < i + k; j++) rc = linear_lt(be, y[j], x, w[j], NULL, n, 0);
    }
    return rc;
}
