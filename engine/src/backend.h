/* backend.h — the compute interface the model code runs on (CPU reference, CUDA fast path).
 *
 * Model code (encoder.c, adapter.c, decoder.c, stream.c) calls only these ops; it has no
 * #ifdef for CUDA. A backend is chosen once at start (vox_backend_create) and owns all of
 * its state (no globals), so two streams / two backends can live in one process.
 *
 * Buffers. Activations are float32, row-major, n rows × width. `float *` / `int32_t *`
 * buffers returned by alloc are backend memory (host memory on the CPU backend, device
 * memory on CUDA): model code never dereferences them, it passes them to ops or copies
 * them with upload/download.
 *
 * Positions. The backend holds one "position register" pos0 (set_pos). Ops that need
 * positions (rope, kv_write, attention) treat row i of their input as sequence position
 * pos0 + i. On CUDA the register lives in device memory, so a captured decode-step graph
 * replays correctly after set_pos changes it.
 *
 * Row tables. For a step of several streams at once, set_rows gives every row its own position
 * and its stream's KV rings and ada scales, and rope_rows / kv_write_rows / attention_rows /
 * rmsnorm_rows use, per row, its own ring and scale of the layer they are given. n <= VOX_MAX_ROWS.
 *
 * Errors. Ops return 0 or a negative vox_err; the first failure's message is kept in
 * be->err (per backend instance).
 */
#ifndef VOX_BACKEND_H
#define VOX_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include "vox.h"
#include "weights.h"

/* The most rows of one multi-row decoder forward (a step of several streams): the size of the
 * row tables. A backend takes up to ops->batch_rows of them per forward. */
#define VOX_MAX_ROWS 256
/* The most rows of a speculation block (one stream, consecutive positions). Up to this many rows
 * the CPU backend computes every row exactly as it computes a row alone (GEMV, attention), so a
 * row's results do not depend on the other rows. */
#define VOX_MAX_SPEC 16

typedef struct vox_backend vox_backend_t;
typedef struct vox_bweight vox_bweight_t; /* a weight tensor owned by the backend */
typedef struct vox_kv vox_kv_t;           /* a KV cache ring owned by the backend */
typedef struct vox_graph vox_graph_t;     /* a captured op sequence (CUDA graphs) */

typedef struct {
    const char *name; /* "cpu" | "cuda" */
    void (*destroy)(vox_backend_t *be);
    const char *(*device_name)(vox_backend_t *be); /* e.g. "NVIDIA H100 80GB HBM3 (sm_90)" */

    /* --- memory --- */
    float *(*alloc)(vox_backend_t *be, size_t n); /* n floats; NULL + VOX_ENOMEM */
    int32_t *(*alloc_i32)(vox_backend_t *be, size_t n);
    void (*free)(vox_backend_t *be, void *p);
    int (*upload)(vox_backend_t *be, void *dst, const void *src, size_t bytes);   /* host -> backend */
    int (*download)(vox_backend_t *be, void *dst, const void *src, size_t bytes); /* backend -> host (synchronous) */
    int (*copy)(vox_backend_t *be, void *dst, const void *src, size_t bytes);     /* backend -> backend */

    /* --- weights: converted/uploaded once at load --- */
    int (*weight_upload)(vox_backend_t *be, const vox_tensor_t *t, vox_bweight_t **out);
    void (*weight_free)(vox_backend_t *be, vox_bweight_t *w);
    /* 1 when weight_upload copies the data (device memory) and is done reading the host bytes when
     * it returns: the model then releases each tensor's host pages right after its upload. */
    int copies_weights;
    /* Optional: every weight of the model is uploaded; release what only the uploads needed. */
    void (*weights_done)(vox_backend_t *be);

    /* --- ops (n = number of rows) --- */
    /* y[n,out] (+)= x[n,in] · Wᵀ (+ b). W is [out,in]; b [out] or NULL. accumulate=1 adds into y
     * (fused residual). Weights are BF16 (also F16/F32 accepted); accumulation in FP32. */
    int (*linear)(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const vox_bweight_t *b, int n,
                  int accumulate);
    /* y[i][n, out_i] = x[n, in] · W_iᵀ for i < count: several weights of the same input width on
     * one input (no bias, no accumulate; the y[i] are distinct buffers, none is x). The same
     * values as count linear() calls; mandatory. CUDA runs n <= 8 rows as ONE GEMV launch over
     * the rows of all the weights (the decode step's q/k/v and w1/w3: a small matrix alone
     * leaves part of the memory bandwidth idle), more rows as one GEMM per weight. */
    int (*linear_multi)(vox_backend_t *be, int count, float *const *y, const float *x, const vox_bweight_t *const *w,
                        int n);
    /* The FFN's gate: y[n, out] = silu(x · W1ᵀ) ⊙ (x · W3ᵀ), with the same values as linear_multi
     * (y, tmp) then silu_mul(y, tmp); tmp [n, out] is scratch (left unwritten where one launch
     * computes both: CUDA at n <= 2, one warp dotting row r of both weights). */
    int (*linear_gated)(vox_backend_t *be, float *y, float *tmp, const float *x, const vox_bweight_t *w1,
                        const vox_bweight_t *w3, int n);
    /* Optional (NULL: nothing to prepare): pay now, at model load, the one-time costs of later
     * linear() calls with this weight, bias (given or NULL) and accumulate for every n in
     * [min_rows, max_rows] (CUDA: choose and first-launch the cuBLASLt kernels). */
    int (*prepare_linear)(vox_backend_t *be, const vox_bweight_t *w, const vox_bweight_t *b, int min_rows, int max_rows,
                          int accumulate);
    /* y[n,dim] = x · rsqrt(mean(x²) + eps) · w · (1 + scale1p), scale1p [dim] backend buffer or NULL. */
    int (*rmsnorm)(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w, const float *scale1p, int n,
                   int dim, float eps);
    /* In place, interleaved RoPE: in every head, dims (2j, 2j+1) rotate by angle
     * pos · theta^(−2j/head_dim), pos = pos0 + row. x is [n, n_heads*head_dim]. */
    int (*rope)(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta);
    int (*gelu)(vox_backend_t *be, float *x, size_t n);                     /* exact erf GELU, in place */
    int (*silu_mul)(vox_backend_t *be, float *a, const float *b, size_t n); /* a = silu(a) ⊙ b */
    int (*add)(vox_backend_t *be, float *y, const float *x, size_t n);      /* y += x */
    /* Conv1d (kernel 3) as im2col: cols[t, ci*3 + k] = x[t*stride + k, ci], t < n_out. x is
     * [(n_out-1)*stride + 3, c_in] (the caller prepends the causal left context). Then
     * linear() with the conv weight viewed as [c_out, c_in*3] gives the convolution. */
    int (*im2col_k3)(vox_backend_t *be, float *cols, const float *x, int n_out, int c_in, int stride);
    /* y[i,:] (+)= table[ids[i], :] for i < n; ids is a backend int32 buffer. */
    int (*embed)(vox_backend_t *be, float *y, const vox_bweight_t *table, const int32_t *ids, int n, int accumulate);
    /* out_id[i] = argmax_v logits[i, v] (lowest index on ties); out_id is a backend int32 buffer. */
    int (*argmax)(vox_backend_t *be, int32_t *out_id, const float *logits, int n, int vocab);

    /* --- KV cache: ring of `capacity` positions; position p lives in slot p % capacity --- */
    /* room: the positions 0 .. room-1 it holds from the start (<= capacity; the rest comes with
     * kv_grow; backends without kv_grow hold the whole ring, or grow it themselves). */
    vox_kv_t *(*kv_new)(vox_backend_t *be, int capacity, int room, int n_kv_heads, int head_dim);
    /* Optional: room for positions 0 .. positions-1 (the whole ring once positions >= capacity).
     * Returns the room now (>= that, or the capacity), or a negative vox_err. Make room before any
     * op writes or reads a position past it. The ring's buffers move: graphs captured over it are
     * stale and must be captured again. */
    int64_t (*kv_grow)(vox_backend_t *be, vox_kv_t *kv, int64_t positions);
    void (*kv_free)(vox_backend_t *be, vox_kv_t *kv);
    /* Store k, v rows [n, n_kv_heads*head_dim] at positions pos0 .. pos0+n-1. */
    int (*kv_write)(vox_backend_t *be, vox_kv_t *kv, const float *k, const float *v, int n);
    /* The attention's position step: rope(q, n, n_heads), rope(k, n, kv->n_kv_heads), kv_write(kv, k, v, n),
     * with the same values as those three calls (CUDA: one launch; CPU: the three). */
    int (*rope_kv_write)(vox_backend_t *be, vox_kv_t *kv, float *q, float *k, const float *v, int n, int n_heads,
                         float theta);
    /* out[n, n_heads*head_dim]: causal sliding-window attention of q rows (positions pos0+i)
     * over the cache: query at position P sees keys at positions j with P-window < j <= P
     * (and j >= 0). Scale 1/sqrt(head_dim). GQA: query head h reads kv head
     * h / (n_heads / n_kv_heads). Needs capacity >= window + n - 1. */
    int (*attention)(vox_backend_t *be, float *out, const float *q, const vox_kv_t *kv, int n, int n_heads, int window);

    /* --- position register --- */
    int (*set_pos)(vox_backend_t *be, int64_t pos0);

    /* --- row tables: n <= VOX_MAX_ROWS rows, each of its own stream (set_rows) --- */
    /* Row i: position pos[i], and in layer l the KV ring rings[i][l] and the ada scale ada[i][l]
     * (a backend [dim] buffer or NULL; ada or ada[i] NULL: none), l < layers. A row at a negative
     * position is padding (its rings and scales are not read): the ops below write nothing for it
     * and its attention is zero. The arrays must hold until the last row op after this call. Call
     * it outside a capture: CUDA uploads the table to device memory in stream order, so row ops
     * captured into a graph replay with the rows of the last set_rows of as many rows. */
    int (*set_rows)(vox_backend_t *be, const int64_t *pos, vox_kv_t *const *const *rings,
                    const float *const *const *ada, int layers, int n);
    /* rope with row i at pos[i]. */
    int (*rope_rows)(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta);
    /* Row i of k, v stored in its ring of this layer at position pos[i]. */
    int (*kv_write_rows)(vox_backend_t *be, int layer, const float *k, const float *v, int n);
    /* rope_rows(q), rope_rows(k), kv_write_rows(layer, k, v): the same values as those three calls. */
    int (*rope_kv_write_rows)(vox_backend_t *be, int layer, float *q, float *k, const float *v, int n, int n_heads,
                              float theta);
    /* Row i of q (position pos[i]) over its ring of this layer: keys at positions j,
     * pos[i]-window < j <= pos[i]. */
    int (*attention_rows)(vox_backend_t *be, int layer, float *out, const float *q, int n, int n_heads, int window);
    /* rmsnorm with row i scaled by (1 + its ada scale of this layer). */
    int (*rmsnorm_rows)(vox_backend_t *be, int layer, float *y, const float *x, const vox_bweight_t *w, int n, int dim,
                        float eps);
    /* Bytes a KV ring holds now (the CPU ring grows in blocks of positions up to its capacity). */
    size_t (*kv_bytes)(vox_backend_t *be, const vox_kv_t *kv);
    /* The default most rows of a speculating forward (stream.h: halved and doubled with the guesses),
     * 2..VOX_MAX_SPEC, chosen from what a k-row forward costs on this backend; 1 = no speculation. */
    int spec_k;
    /* The most streams one forward takes (<= VOX_MAX_ROWS), and the default of vox_batch_new: the
     * CPU keeps every row exact (<= VOX_MAX_SPEC rows); CUDA routes more than 8 rows through the
     * cuBLASLt GEMM, which reads the weights once for all of them. 1: streams step one by one. */
    int batch_rows;

    /* --- optional graph capture (NULL on backends without it) --- */
    int (*graph_begin)(vox_backend_t *be);
    int (*graph_end)(vox_backend_t *be, vox_graph_t **g);
    int (*graph_launch)(vox_backend_t *be, vox_graph_t *g);
    void (*graph_free)(vox_backend_t *be, vox_graph_t *g);

    int (*sync)(vox_backend_t *be);        /* wait for queued work (timing) */
    size_t (*mem_used)(vox_backend_t *be); /* device bytes in use (0 on CPU) */
} vox_backend_ops;

struct vox_backend {
    const vox_backend_ops *ops;
    void *impl;          /* backend private state */
    vox_error_t err;     /* first failure of this backend instance */
    int debug;           /* --debug: log choices, memory, fallbacks to stderr */
    int64_t rope_offset; /* test-only (--position-offset N): added to every RoPE position, 0 otherwise */
};

typedef struct {
    const char *kind; /* "auto" | "cpu" | "cuda" */
    int threads;      /* CPU threads (0 = all cores) */
    int device;       /* CUDA device index */
    int debug;
} vox_backend_opts;

/* linear_gated as its parts, linear_multi(y, tmp) then silu_mul over n x out values (out: w1's rows,
 * known to the backend that calls it): the CPU's op, and CUDA's where one launch does not apply. */
static inline int vox_linear_gated_parts(vox_backend_t *be, float *y, float *tmp, const float *x,
                                         const vox_bweight_t *w1, const vox_bweight_t *w3, int n, int out) {
    float *ys[2] = {y, tmp};
    const vox_bweight_t *ws[2] = {w1, w3};
    int rc = be->ops->linear_multi(be, 2, ys, x, ws, n);
    return rc ? rc : be->ops->silu_mul(be, y, tmp, (size_t)n * out);
}

/* Create the backend asked for. "auto" tries CUDA and falls back to CPU, writing one
 * `voxtral: note: ...` line to stderr that says why. "cuda" that cannot start is VOX_EDEVICE
 * with the reason (no libcuda, no GPU, no kernels for this GPU, ...). */
int vox_backend_create(const vox_backend_opts *o, vox_backend_t **out, vox_error_t *err);
void vox_backend_destroy(vox_backend_t *be);

/* Per-backend constructors (backend_cpu.c, cuda/context.c). */
int vox_backend_cpu_create(const vox_backend_opts *o, vox_backend_t **out, vox_error_t *err);
int vox_backend_cuda_create(const vox_backend_opts *o, vox_backend_t **out, vox_error_t *err);

/* --info support: append the "cuda" JSON object (see the CLI contract) to buf. */
int vox_cuda_probe_json(char *buf, size_t cap);
/* Embedded GPU architectures, e.g. "sm_80,sm_86,sm_90" ("" when none were compiled in). */
const char *vox_cuda_archs(void);
#endif
