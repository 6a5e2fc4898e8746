/* gemm.c — linear(): y[n, out] (+)= x[n, in] · Wᵀ (+ b), W bf16 [out, in], x/y f32.
 *
 * n <= VOX_GEMV_MAX_ROWS (the decode step): the GEMV kernel (kernels/gemv.cu) reads W once
 * with 16-byte loads straight from f32 x: bandwidth-bound, no staging.
 * Larger n (encoder, adapter, prefill): x is rounded to bf16 by a kernel, then cuBLASLt
 * computes with BF16 operands and FP32 accumulation into the f32 y (beta = 1 for the fused
 * residual). Row-major y[n,out] is column-major Y[out,n] = op(A)·B with A = W viewed
 * column-major [in, out] (transposed) and B = x viewed column-major [in, n]. The plan (layouts
 * + algorithm from the heuristic, with our explicit workspace) is cached per shape. Bias: the
 * GEMM's bias epilogue (D = A·B + beta·C + bias); where cuBLASLt offers no algorithm with it,
 * a broadcast-add kernel after the GEMM (logged with --debug). */
#include "cuda_impl.h"

#include <stdio.h>
#include <string.h>

static int grid_for(vox_cuda_t *c, size_t n) {
    size_t b = (n + 255) / 256, cap = (size_t)c->sm_count * 8;
    return (int)(b < cap ? (b ? b : 1) : cap);
}

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
    if (c->mm) c->api.cublasLtMatmulDescDestroy(c->mm);
    if (c->mm_bias) c->api.cublasLtMatmulDescDestroy(c->mm_bias);
    c->mm = c->mm_bias = NULL;
}

/* The heuristic's best algorithm for desc, or found = 0. */
static int heuristic(vox_backend_t *be, cublasLtMatmulDesc_t desc, vox_gemm_plan *p, int *found,
                     size_t *ws_needed) {
    vox_cuda_t *c = vox_cuda(be);
    vox_cu_api *a = &c->api;
    cublasLtMatmulPreference_t pref = NULL;
    BLAS_CHECK(be, a->cublasLtMatmulPreferenceCreate(&pref));
    uint64_t ws = c->lt_ws_bytes;
    cublasLtMatmulHeuristicResult_t res;
    *found = 0;
    cublasStatus_t s = a->cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                               &ws, sizeof ws);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = a->cublasLtMatmulAlgoGetHeuristic(c->lt, desc, p->la, p->lb, p->lc, p->lc, pref, 1, &res, found);
    a->cublasLtMatmulPreferenceDestroy(pref);
    if (s == 15 /* CUBLAS_STATUS_NOT_SUPPORTED: no algorithm for this configuration */) *found = 0;
    else BLAS_CHECK(be, s);
    if (*found > 0) {
        p->algo = res.algo;
        *ws_needed = res.workspaceSize;
    }
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

static int make_plan(vox_backend_t *be, vox_gemm_plan *p, int out, int n, int in, int accumulate,
                     const float *bias) {
    vox_cuda_t *c = vox_cuda(be);
    vox_cu_api *a = &c->api;
    int rc0;
    if (!c->mm && (rc0 = make_descs(be))) return rc0;
    memset(p, 0, sizeof *p);
    p->out = out; p->n = n; p->in = in; p->accumulate = accumulate; p->bias = bias != NULL;
    BLAS_CHECK(be, a->cublasLtMatrixLayoutCreate(&p->la, CUDA_R_16BF, (uint64_t)in, (uint64_t)out, in));
    BLAS_CHECK(be, a->cublasLtMatrixLayoutCreate(&p->lb, CUDA_R_16BF, (uint64_t)in, (uint64_t)n, in));
    BLAS_CHECK(be, a->cublasLtMatrixLayoutCreate(&p->lc, CUDA_R_32F, (uint64_t)out, (uint64_t)n, out));
    double t0 = vox_now_ms();
    int found = 0, rc;
    size_t ws = 0;
    if (bias) {   /* the heuristic reads the bias pointer for its alignment */
        BLAS_CHECK(be, a->cublasLtMatmulDescSetAttribute(c->mm_bias, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                                         sizeof bias));
        if ((rc = heuristic(be, c->mm_bias, p, &found, &ws))) return rc;
        p->fused_bias = found > 0;
        if (!found && be->debug)
            fprintf(stderr, "voxtral: debug: cuda: fallback: no cuBLASLt bias epilogue for out=%d n=%d in=%d, "
                    "bias added by a kernel\n", out, n, in);
    }
    if (!found && (rc = heuristic(be, c->mm, p, &found, &ws))) return rc;
    if (found < 1)
        return vox_fail(&be->err, VOX_EDEVICE, "cuBLASLt has no BF16 GEMM algorithm for out=%d n=%d in=%d "
                        "on %s. Update the CUDA libraries (libcublasLt)", out, n, in, c->name);
    if (be->debug)
        fprintf(stderr, "voxtral: debug: cuda: cuBLASLt plan out=%d n=%d in=%d beta=%d bias=%s (workspace %zu KiB, "
                "heuristic %.2f ms)\n", out, n, in, accumulate, !bias ? "none" : p->fused_bias ? "epilogue" : "kernel",
                ws >> 10, vox_now_ms() - t0);
    return 0;
}

static int find_plan(vox_backend_t *be, int out, int n, int in, int accumulate, const float *bias,
                     vox_gemm_plan **pp) {
    vox_cuda_t *c = vox_cuda(be);
    for (int i = 0; i < c->n_plans; i++) {
        vox_gemm_plan *p = &c->plans[i];
        if (p->out == out && p->n == n && p->in == in && p->accumulate == accumulate && p->bias == (bias != NULL)) {
            *pp = p;
            return 0;
        }
    }
    int slot = c->n_plans < VOX_GEMM_PLANS ? c->n_plans++ : (c->next_plan++ % VOX_GEMM_PLANS);
    vox_gemm_plan *p = &c->plans[slot];
    plan_release(c, p);
    int rc = make_plan(be, p, out, n, in, accumulate, bias);
    if (rc != 0) {
        plan_release(c, p);   /* never match a half-built plan */
        return rc;
    }
    *pp = p;
    return 0;
}

static int linear_gemv(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w,
                       const float *bias, int n, int accumulate) {
    vox_cuda_t *c = vox_cuda(be);
    int out = (int)w->rows, in = (int)w->cols;
    int vec = in % 8 == 0 && ((uintptr_t)x & 15) == 0;
    void *args[] = {&y, &x, (void *)&w->d, &bias, &n, &out, &in, &accumulate};
    return vox_cuda_launch(be, vec ? c->k.k_gemv_vec : c->k.k_gemv_scalar, (unsigned)((out + 7) / 8), 1, 1,
                           256, args);
}

static int linear_lt(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w,
                     const float *bias, int n, int accumulate) {
    vox_cuda_t *c = vox_cuda(be);
    int out = (int)w->rows, in = (int)w->cols;
    size_t elems = (size_t)n * in;
    int rc = vox_cuda_reserve(be, (void **)&c->xbf, &c->xbf_cap, elems * 2, "GEMM input (bf16)");
    if (rc) return rc;
    long long ne = (long long)elems;
    void *cargs[] = {&c->xbf, &x, &ne};
    if ((rc = vox_cuda_launch(be, c->k.k_f32_to_bf16, (unsigned)grid_for(c, elems), 1, 1, 256, cargs))) return rc;
    vox_gemm_plan *p;
    if ((rc = find_plan(be, out, n, in, accumulate, bias, &p))) return rc;
    float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
    cublasLtMatmulDesc_t desc = c->mm;
    if (p->fused_bias) {
        desc = c->mm_bias;
        BLAS_CHECK(be, c->api.cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                                             sizeof bias));
    }
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    BLAS_CHECK(be, c->api.cublasLtMatmul(c->lt, desc, &alpha, w->d, p->la, c->xbf, p->lb, &beta, y, p->lc,
                                         y, p->lc, &p->algo, c->lt_ws, c->lt_ws_bytes, c->stream));
    if (bias && !p->fused_bias) {
        long long rows = n;
        void *bargs[] = {&y, &bias, &rows, &out};
        return vox_cuda_launch(be, c->k.k_bias_add, (unsigned)grid_for(c, (size_t)n * out), 1, 1, 256, bargs);
    }
    return 0;
}

/* One small BF16 GEMM at start-up: cuBLASLt initialises its heuristics and loads its first
 * kernels here (model load) rather than inside the first encoder chunk. */
int vox_cuda_gemm_warmup(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    enum { D = 256 };
    double t0 = vox_now_ms();
    vox_bweight_t w = {NULL, 0, D, D};   /* contents never initialised: only the call matters */
    float *xy = vox_cuda_malloc(be, sizeof(float) * 2 * D * D);
    w.d = vox_cuda_malloc(be, 2 * D * D);
    int rc = (xy && w.d) ? 0 : be->err.code;
    if (!rc) rc = vox_cuda_linear_path(be, xy + D * D, xy, &w, NULL, D, 0, 0);
    if (!rc) {
        CUresult r = c->api.cuStreamSynchronize(c->stream);
        if (r != CUDA_SUCCESS) rc = vox_cuda_fail_cu(be, r, "cuStreamSynchronize", __FILE__, __LINE__);
    }
    vox_cuda_mfree(be, xy);
    vox_cuda_mfree(be, w.d);
    if (!rc && be->debug)
        fprintf(stderr, "voxtral: debug: cuda: cuBLASLt warm-up %.1f ms\n", vox_now_ms() - t0);
    return rc;
}

int vox_cuda_linear_path(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w,
                         const vox_bweight_t *b, int n, int accumulate, int use_gemv) {
    if (w->is_f32)
        return vox_fail(&be->err, VOX_EINTERNAL, "linear: weight is a vector, not a matrix");
    if (b && (!b->is_f32 || b->rows != w->rows))
        return vox_fail(&be->err, VOX_EINTERNAL, "linear: bias of %lld values for %lld outputs",
                        (long long)b->rows, (long long)w->rows);
    if (n <= 0) return 0;
    const float *bias = b ? b->d : NULL;
    accumulate = accumulate ? 1 : 0;
    if (use_gemv && n <= VOX_GEMV_MAX_ROWS) return linear_gemv(be, y, x, w, bias, n, accumulate);
    return linear_lt(be, y, x, w, bias, n, accumulate);
}

int vox_cuda_linear(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w,
                    const vox_bweight_t *b, int n, int accumulate) {
    return vox_cuda_linear_path(be, y, x, w, b, n, accumulate, n <= VOX_GEMV_MAX_ROWS);
}
