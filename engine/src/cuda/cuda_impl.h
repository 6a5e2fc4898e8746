/* cuda_impl.h — private state of the CUDA backend and the helpers its files share.
 *
 * One vox_cuda_t per backend instance (no globals): its own stream, cuBLASLt handle and
 * workspace, scratch buffers and position register, on the device's primary context (shared
 * by every backend of the process on that device). Everything queued goes to `stream`, so a
 * decode step can be captured into a CUDA graph (graph.c). */
#ifndef VOX_CUDA_IMPL_H
#define VOX_CUDA_IMPL_H
#include "../backend.h"
#include "cuda_api.h"

/* Kernels of the embedded module, looked up by name at create. X(field, "symbol"). */
#define VOX_KERNELS(X)                                                                                                 \
    X(k_set_pos, "vox_set_pos")                                                                                        \
    X(k_copy16, "vox_copy16")                                                                                          \
    X(k_gelu, "vox_gelu")                                                                                              \
    X(k_silu_mul, "vox_silu_mul")                                                                                      \
    X(k_add, "vox_add")                                                                                                \
    X(k_bias_add, "vox_bias_add")                                                                                      \
    X(k_f32_to_bf16, "vox_f32_to_bf16")                                                                                \
    X(k_rmsnorm, "vox_rmsnorm")                                                                                        \
    X(k_rope, "vox_rope")                                                                                              \
    X(k_im2col_k3, "vox_im2col_k3")                                                                                    \
    X(k_embed, "vox_embed")                                                                                            \
    X(k_argmax_part, "vox_argmax_part")                                                                                \
    X(k_argmax_final, "vox_argmax_final")                                                                              \
    X(k_kv_write, "vox_kv_write")                                                                                      \
    X(k_rope_kv_write, "vox_rope_kv_write")                                                                            \
    X(k_attn_combine, "vox_attn_combine")                                                                              \
    X(k_gemv_vec, "vox_gemv_bf16_vec")                                                                                 \
    X(k_gemv_scalar, "vox_gemv_bf16_scalar")                                                                           \
    X(k_gemv_gated, "vox_gemv_bf16_gated")                                                                             \
    X(k_gemv_tc_m1, "vox_gemv_tc_m1")                                                                                  \
    X(k_gemv_tc_m2, "vox_gemv_tc_m2")                                                                                  \
    X(k_attn_d32_q16, "vox_attn_d32_q16")                                                                              \
    X(k_attn_d64_q16, "vox_attn_d64_q16")                                                                              \
    X(k_attn_d128_q16, "vox_attn_d128_q16")                                                                            \
    X(k_attn_d64_q4, "vox_attn_d64_q4")                                                                                \
    X(k_attn_d128_q4, "vox_attn_d128_q4")                                                                              \
    X(k_attn_dec_g4_d128, "vox_attn_dec_g4_d128")                                                                      \
    X(k_attn_tc_d64, "vox_attn_tc_d64")                                                                                \
    X(k_attn_tc_d128, "vox_attn_tc_d128")                                                                              \
    X(k_rope_rows, "vox_rope_rows")                                                                                    \
    X(k_kv_write_rows, "vox_kv_write_rows")                                                                            \
    X(k_rope_kv_write_rows, "vox_rope_kv_write_rows")                                                                  \
    X(k_rmsnorm_rows, "vox_rmsnorm_rows")                                                                              \
    X(k_attn_rows_d64, "vox_attn_rows_d64")                                                                            \
    X(k_attn_rows_d128, "vox_attn_rows_d128")

#define VOX_K_FIELD(f, s) CUfunction f;
typedef struct {
    VOX_KERNELS(VOX_K_FIELD)
} vox_cuda_kernels;
#undef VOX_K_FIELD

/* Rows up to which linear() uses the bandwidth-bound GEMV kernel instead of cuBLASLt. On the H200 a
 * forward of 2 rows costs 3.5 ms on the GEMV and 4.3 ms on cuBLASLt, of 4 rows 5.6 against 4.5, of 8
 * 9.3 against 4.5 (engine/PERF.md; -D overrides it for such experiments). The kernel takes up to 8. */
#ifndef VOX_GEMV_MAX_ROWS
#define VOX_GEMV_MAX_ROWS 2
#endif
/* argmax: chunks per row of the first pass (vox_argmax_part), rows per launch. */
#define VOX_ARGMAX_CHUNKS 32
#define VOX_ARGMAX_ROWS   64

/* A cached cuBLASLt plan for one GEMM shape: y[n,out] (+)= x[n,in] · Wᵀ. */
typedef struct {
    int out, n, in, accumulate, bias;  /* the key: shape, beta, bias given */
    int fused_bias;                    /* 1: bias added by the GEMM epilogue, 0: by a kernel */
    cublasLtMatrixLayout_t la, lb, lc; /* W (bf16), x (bf16), y (f32), column-major views */
    cublasLtMatmulAlgo_t algo;
} vox_gemm_plan;
/* Room for every (shape, n) a serve run meets: batched decoder forwards of 3..64 rows over the decoder's
 * 8 weight shapes and live encoder chunks of a few positions over its 7 (about 700); with 64 plans such
 * a run re-made a plan (layouts + cublasLtMatmulAlgoCheck) for most GEMMs. Not measured yet. */
#define VOX_GEMM_PLANS 1024
#define VOX_GEMM_HASH  4096 /* buckets of the plans' hash (a power of two) */

/* The algorithm chosen once for a row bucket (n rounded up to a power of two, >= 16) of one
 * weight shape: every n of the bucket runs the same cuBLASLt kernel, so a kernel is loaded
 * (lazy module loading: milliseconds) once per bucket, and prepare_linear can do it at load. */
typedef struct {
    int out, rows, in, accumulate, bias; /* the key: shape with n = the bucket's top */
    int fused_bias;
    cublasLtMatmulAlgo_t algo;
} vox_gemm_algo;
#define VOX_GEMM_ALGOS 256
/* A/B switches of the host code (engine/README.md, "A/B switches"; gpu-check --ab), each 1 unless the
 * build passes -D...=0: dependent launches (context.c), pinned weight staging (memory.c), RoPE and the
 * K/V write in one launch (ops.c, rows.c), the FFN gate in the w1/w3 GEMV (gemm.c), the tensor-core
 * GEMV for 3..32 rows instead of cuBLASLt (gemm.c); the decode step's attention kernel, by its blocks per SM
 * (attention.c: 0 = the FP32 tile kernel instead). */
#ifndef VOX_CUDA_PDL
#define VOX_CUDA_PDL 1
#endif
#ifndef VOX_CUDA_STAGE
#define VOX_CUDA_STAGE 1
#endif
#ifndef VOX_CUDA_FUSE_ROPE_KV
#define VOX_CUDA_FUSE_ROPE_KV 1
#endif
#ifndef VOX_CUDA_GATED
#define VOX_CUDA_GATED 1
#endif
#ifndef VOX_CUDA_ATTN_DEC
#define VOX_CUDA_ATTN_DEC 0 /* off until measured on the GPU; 4 to try */
#endif
#ifndef VOX_CUDA_GEMV_TC /* the most rows the tensor-core GEMV takes (0: none, all to cuBLASLt) */
#define VOX_CUDA_GEMV_TC VOX_GEMV_TC_MAX_ROWS
#endif
/* Pinned slots the row table is staged in (rows.c). */
#define VOX_ROWS_SLOTS 4

/* Scratch buffers outgrown while a captured graph may still point at them are kept (freed
 * with the backend), at most this many times. */
#define VOX_RETIRED_MAX 32

/* The device heap (heap.c): live blocks by address, freed blocks by size, the chunks blocks are
 * carved from. */
struct vox_heap_bin;
struct vox_heap_chunk;
typedef struct {
    int on;                   /* 0: every buffer its own driver allocation (VOX_CUDA_HEAP=0) */
    CUdeviceptr *key;         /* live blocks: address (0 = empty slot) ... */
    size_t *len;              /* ... rounded size ... */
    int *chunk_of;            /* ... and chunk (-1: a driver allocation of its own) */
    size_t cap, n;            /* slots (a power of 2), entries */
    struct vox_heap_bin *bin; /* freed blocks kept, one bin per size */
    int n_bin, cap_bin;
    struct vox_heap_chunk *chunk;
    int n_chunk, cap_chunk;
} vox_heap;

typedef struct {
    vox_cu_api api;
    CUdevice dev;
    CUcontext ctx;   /* primary context, retained */
    CUstream stream; /* all work of this backend */
    CUmodule module; /* embedded kernels */
    vox_cuda_kernels k;
    int sm_count, cc_major, cc_minor;
    int pdl;        /* launch with programmatic stream serialization (context.c, kernels/common.cuh) */
    int gemv_slots; /* GEMV warps resident at once: SMs x blocks per SM x VOX_GEMV_WARPS */
    char name[300]; /* "NVIDIA H100 80GB HBM3 (sm_90)" */

    cublasLtHandle_t lt;
    void *lt_ws;
    size_t lt_ws_bytes;               /* explicit workspace: capture-safe */
    cublasLtMatmulDesc_t mm, mm_bias; /* op(A) = Wᵀ, B = x, FP32 compute; + bias epilogue */
    vox_gemm_plan plans[VOX_GEMM_PLANS];
    int n_plans, next_plan;
    /* The plans by key (gemm.c find_plan): chains of plan index + 1 per hash bucket, 0 = end. A
     * linear scan of 1024 plans cost every GEMM microseconds of host time (serve's encoder passes
     * make about 200 GEMMs each). */
    int plan_head[VOX_GEMM_HASH], plan_next[VOX_GEMM_PLANS];
    vox_gemm_algo algos[VOX_GEMM_ALGOS];
    int n_algos, next_algo;

    int64_t *pos; /* [1] device position register (set_pos) */
    /* set_rows (rows.c): the row table in device memory (kernels/rows_args.cuh), staged through
     * VOX_ROWS_SLOTS pinned slots (a slot is refilled once its last upload has left); what the ops
     * check it against: its rows, layers, every ring's width and the smallest ring. */
    void *rows_tab;
    void *rows_stage;
    CUevent rows_staged[VOX_ROWS_SLOTS];
    int rows_next, rows_layers_cap;
    int n_rows, rows_layers, rows_kvh, rows_hd, rows_full, rows_cap;
    uint16_t *xbf;
    size_t xbf_cap; /* bf16 copy of a linear() input (elements) */
    float *attn_part;
    size_t attn_part_cap; /* attention split partials (floats) */
    float *rows_part;
    size_t rows_part_cap; /* attention_rows' split partials */
    float *argmax_part;   /* [VOX_ARGMAX_ROWS * VOX_ARGMAX_CHUNKS * 2] (value, index) pairs */

    /* Weight uploads at load (memory.c): two pinned buffers that threads fill while the copy
     * engine drains the other; freed by weights_done. */
    void *stage[2];
    CUevent stage_done[2];
    int stage_next;
    struct vox_pool *stage_pool;

    vox_heap heap;
    size_t bytes_in_use; /* device bytes of this backend's live buffers (rounded as the heap does) */
    int capturing;       /* between graph_begin and graph_end */
    int graphs;          /* captured graphs alive: they hold scratch pointers */
    void *retired[VOX_RETIRED_MAX];
    int n_retired; /* scratch replaced while graphs were alive */
} vox_cuda_t;

struct vox_bweight {
    void *d; /* device data: bf16 [rows, cols] (matrices) or f32 [rows] (vectors) */
    int is_f32;
    int64_t rows, cols; /* cols = product of the trailing dims (conv [out, in, 3] -> in*3) */
};

struct vox_kv {
    uint16_t *k, *v; /* bf16 [capacity, n_kv_heads*head_dim], position p in slot p % capacity */
    /* capacity: the slots allocated, the ring's modulus; full: its slots once whole. While capacity
     * < full no position >= capacity has been written (kv_grow comes first), so growing keeps
     * every position in its slot. */
    int capacity, full, n_kv_heads, head_dim;
};

static inline vox_cuda_t *vox_cuda(vox_backend_t *be) { return (vox_cuda_t *)be->impl; }
/* Blocks of 256 threads for a grid-stride kernel over n items: at most 8 per SM. */
static inline unsigned vox_cuda_grid(const vox_cuda_t *c, size_t n) {
    size_t b = (n + 255) / 256, cap = (size_t)c->sm_count * 8;
    return (unsigned)(b < cap ? b : cap);
}

/* Record a driver / cuBLAS failure into be->err (first failure wins) and return the vox_err:
 * out of memory -> VOX_ENOMEM with the free/total numbers, anything else -> VOX_EDEVICE. */
int vox_cuda_fail_cu(vox_backend_t *be, CUresult r, const char *call, const char *file, int line);
int vox_cuda_fail_blas(vox_backend_t *be, cublasStatus_t s, const char *call, const char *file, int line);

/* The one checking macro for every CUDA / cuBLAS call: on failure it records the call, file
 * and line in be->err and returns the vox_err from the enclosing function. */
#define CU_CHECK(be, call)                                                                                             \
    do {                                                                                                               \
        CUresult cu_r_ = (call);                                                                                       \
        if (cu_r_ != CUDA_SUCCESS) return vox_cuda_fail_cu(be, cu_r_, #call, __FILE__, __LINE__);                      \
    } while (0)
#define BLAS_CHECK(be, call)                                                                                           \
    do {                                                                                                               \
        cublasStatus_t bl_r_ = (call);                                                                                 \
        if (bl_r_ != CUBLAS_STATUS_SUCCESS) return vox_cuda_fail_blas(be, bl_r_, #call, __FILE__, __LINE__);           \
    } while (0)

/* Launch f on the backend's stream with the kernel arguments args[] (pointers to values). */
int vox_cuda_launch(vox_backend_t *be, CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                    void **args);
/* Device buffers (heap.c): NULL and be->err (VOX_ENOMEM with numbers) on failure; freeing one
 * needs no wait (later work reuses it in stream order). heap_init reads VOX_CUDA_HEAP; destroy
 * gives everything back, after every buffer was freed. */
void *vox_cuda_malloc(vox_backend_t *be, size_t bytes);
void vox_cuda_mfree(vox_backend_t *be, void *p);
void vox_cuda_heap_init(vox_cuda_t *c);
void vox_cuda_heap_destroy(vox_cuda_t *c);
/* Make sure a device scratch buffer holds `need` bytes; refused while capturing a graph. The
 * outgrown buffer is freed, or kept until destroy while captured graphs exist (they replay
 * with the pointers they were captured with). */
int vox_cuda_reserve(vox_backend_t *be, void **buf, size_t *cap_bytes, size_t need, const char *what);

/* Op implementations, by file (wired into the ops table in context.c). */
float *vox_cuda_alloc(vox_backend_t *be, size_t n);
int32_t *vox_cuda_alloc_i32(vox_backend_t *be, size_t n);
void vox_cuda_free(vox_backend_t *be, void *p);
int vox_cuda_upload(vox_backend_t *be, void *dst, const void *src, size_t bytes);
int vox_cuda_download(vox_backend_t *be, void *dst, const void *src, size_t bytes);
int vox_cuda_copy(vox_backend_t *be, void *dst, const void *src, size_t bytes);
int vox_cuda_weight_upload(vox_backend_t *be, const vox_tensor_t *t, vox_bweight_t **out);
void vox_cuda_weight_free(vox_backend_t *be, vox_bweight_t *w);
void vox_cuda_weights_done(vox_backend_t *be); /* frees the staging of weight_upload */
vox_kv_t *vox_cuda_kv_new(vox_backend_t *be, int capacity, int room, int n_kv_heads, int head_dim);
int64_t vox_cuda_kv_grow(vox_backend_t *be, vox_kv_t *kv, int64_t positions);
void vox_cuda_kv_free(vox_backend_t *be, vox_kv_t *kv);

int vox_cuda_linear(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const vox_bweight_t *b, int n,
                    int accumulate);
/* ops->linear_multi: one GEMV launch over all the weights' rows for n <= VOX_GEMV_MAX_ROWS. */
int vox_cuda_linear_multi(vox_backend_t *be, int count, float *const *y, const float *x, const vox_bweight_t *const *w,
                          int n);
/* ops->linear_gated: one gated GEMV launch for n <= VOX_GEMV_MAX_ROWS and VOX_GEMV_GATED_ROWS, else
 * linear_multi + silu_mul. */
int vox_cuda_linear_gated(vox_backend_t *be, float *y, float *tmp, const float *x, const vox_bweight_t *w1,
                          const vox_bweight_t *w3, int n);
/* linear()'s paths: the GEMV kernel (n <= VOX_GEMV_MAX_ROWS), the tensor-core GEMV (where
 * vox_cuda_gemv_tc_fits), cuBLASLt; AUTO = the engine's choice, the first of the three that takes n. */
enum { VOX_LINEAR_AUTO = -1, VOX_LINEAR_LT = 0, VOX_LINEAR_GEMV = 1, VOX_LINEAR_TC = 2 };
/* The path linear() takes for `count` weights on one input at n rows when asked for `path`: the one
 * asked for when it can take them, else cuBLASLt. */
int vox_cuda_linear_route(int path, const vox_bweight_t *const *w, int count, int n);
/* linear() with the path forced (engine/dev measures each), routed as above. */
int vox_cuda_linear_path(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const vox_bweight_t *b,
                         int n, int accumulate, int path);

/* One GEMV launch (gemv.c): y[i] (+)= x · w[i]ᵀ (+ bias[i]) for i < count (<= VOX_GEMV_SEGS), all w[i]
 * `in` wide, n <= VOX_GEMV_MAX_ROWS rows. blocks 0 = the engine's grid; dev/opcheck passes others. */
int vox_cuda_gemv(vox_backend_t *be, int count, float *const *y, const float *x, const vox_bweight_t *const *w,
                  const float *const *bias, int n, int accumulate, unsigned blocks);
/* One tensor-core GEMV launch (gemv.c, kernels/gemv_tc.cu): as vox_cuda_gemv, for n up to
 * VOX_GEMV_TC_MAX_ROWS, where vox_cuda_gemv_tc_fits says the shapes suit it. */
int vox_cuda_gemv_tc(vox_backend_t *be, int count, float *const *y, const float *x, const vox_bweight_t *const *w,
                     const float *const *bias, int n, int accumulate);
int vox_cuda_gemv_tc_fits(int count, const vox_bweight_t *const *w, int n);
/* x [elems] f32 rounded to bf16 into the GEMM input buffer (c->xbf), which *xb then points to. */
int vox_cuda_stage_bf16(vox_backend_t *be, const float *x, size_t elems, const uint16_t **xb);
/* One gated GEMV launch: y[n, out] = silu(x · w1ᵀ) ⊙ (x · w3ᵀ), in % 8 == 0, x 16-byte aligned. */
int vox_cuda_gemv_gated(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w1, const vox_bweight_t *w3,
                        int n);

/* Run one small GEMM so cuBLASLt's one-time start-up happens at create (gemm.c). */
int vox_cuda_gemm_warmup(vox_backend_t *be);
/* ops->prepare_linear: choose and launch once the cuBLASLt kernel of every row bucket that
 * meets [min_rows, max_rows] for this weight, bias and beta (gemm.c). */
int vox_cuda_prepare_linear(vox_backend_t *be, const vox_bweight_t *w, const vox_bweight_t *b, int min_rows,
                            int max_rows, int accumulate);
/* Drop the cached cuBLASLt layouts/algorithms (gemm.c). */
void vox_cuda_gemm_cache_clear(vox_backend_t *be);

int vox_cuda_rmsnorm(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const float *scale1p, int n,
                     int dim, float eps);
int vox_cuda_rope(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta);
int vox_cuda_gelu(vox_backend_t *be, float *x, size_t n);
int vox_cuda_silu_mul(vox_backend_t *be, float *a, const float *b, size_t n);
int vox_cuda_add(vox_backend_t *be, float *y, const float *x, size_t n);
int vox_cuda_im2col_k3(vox_backend_t *be, float *cols, const float *x, int n_out, int c_in, int stride);
int vox_cuda_embed(vox_backend_t *be, float *y, const vox_bweight_t *table, const int32_t *ids, int n, int accumulate);
int vox_cuda_argmax(vox_backend_t *be, int32_t *out_id, const float *logits, int n, int vocab);
int vox_cuda_kv_write(vox_backend_t *be, vox_kv_t *kv, const float *k, const float *v, int n);
int vox_cuda_rope_kv_write(vox_backend_t *be, vox_kv_t *kv, float *q, float *k, const float *v, int n, int n_heads,
                           float theta);
/* attention.c, shared with rows.c: the key splits of an attention launch of `blocks` blocks without
 * splitting (as many as fill `target` blocks, at most `keys` and 1024), and the merge of the partials
 * part [nsplit, orows, 2 + hd] into out [orows, hd]. */
int vox_cuda_attn_splits(long long blocks, long long target, long long keys);
int vox_cuda_attn_combine(vox_backend_t *be, float *out, float *part, int orows, int hd, int nsplit);
int vox_cuda_attention(vox_backend_t *be, float *out, const float *q, const vox_kv_t *kv, int n, int n_heads,
                       int window);

/* rows.c: the row-table ops (per-row positions, rings, ada scales) and kv_bytes. */
int vox_cuda_set_rows(vox_backend_t *be, const int64_t *pos, vox_kv_t *const *const *rings,
                      const float *const *const *ada, int layers, int n);
int vox_cuda_rope_rows(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta);
int vox_cuda_kv_write_rows(vox_backend_t *be, int layer, const float *k, const float *v, int n);
int vox_cuda_rope_kv_write_rows(vox_backend_t *be, int layer, float *q, float *k, const float *v, int n, int n_heads,
                                float theta);
int vox_cuda_attention_rows(vox_backend_t *be, int layer, float *out, const float *q, int n, int n_heads, int window);
int vox_cuda_rmsnorm_rows(vox_backend_t *be, int layer, float *y, const float *x, const vox_bweight_t *w, int n,
                          int dim, float eps);
void vox_cuda_rows_free(vox_backend_t *be); /* the row table and its staging (destroy) */
size_t vox_cuda_kv_bytes(vox_backend_t *be, const vox_kv_t *kv);

int vox_cuda_graph_begin(vox_backend_t *be);
int vox_cuda_graph_end(vox_backend_t *be, vox_graph_t **g);
int vox_cuda_graph_launch(vox_backend_t *be, vox_graph_t *g);
void vox_cuda_graph_free(vox_backend_t *be, vox_graph_t *g);

/* Embedded fatbin (fatbin.c): image, size (0 when built without `make cuda`), arch list. */
extern const unsigned char *const vox_cuda_fatbin;
extern const size_t vox_cuda_fatbin_size;
/* 1 when the embedded archs include SASS that runs on compute capability major.minor. */
int vox_cuda_archs_cover(int major, int minor);
#endif
