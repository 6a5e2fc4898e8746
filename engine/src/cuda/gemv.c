/* gemv.c — linear() for n <= VOX_GEMV_MAX_ROWS (the decode step): the host side of the GEMV kernel;
 * and for a few more rows (up to VOX_GEMV_TC_MAX_ROWS) the host side of its tensor-core form.
 *
 * kernels/gemv.cu reads W once with 16-byte loads straight from f32 x: bandwidth-bound, no
 * staging; its grid spreads the rows evenly over the warps that fit on the GPU (gemv_blocks).
 * One launch covers up to VOX_GEMV_SEGS weights on one x (linear_multi: q/k/v, w1/w3): its kernel
 * arguments carry the weight/output table (kernels/gemv_args.cuh), so a captured graph holds it
 * by value and nothing is uploaded. gemm.c routes here and holds the cuBLASLt side. */
#include "cuda_impl.h"
#include "../../kernels/gemv_args.cuh"

#include <string.h>

/* Blocks of a GEMV launch over `rows` output rows (the kernel's warps take rows round-robin):
 * at most the warps resident at once (c->gemv_slots), as few as give each the same number of
 * rows: per = ceil(rows / slots) rows for ceil(rows / per) warps. q/k/v (6144 rows on 4224
 * slots of an H200) is then 3072 warps of 2 rows, not a wave of 4224 warps and a second of
 * 1920, w1/w3 (18432) 3687 warps of 5 rows, not 4.36 waves of blocks. (dev/opcheck times the
 * other spreads against this one.) */
static unsigned gemv_blocks(const vox_cuda_t *c, int rows) {
    int slots = c->gemv_slots, warps = rows;
    if (rows > slots) {
        int per = (rows + slots - 1) / slots;
        warps = (rows + per - 1) / per;
    }
    return (unsigned)((warps + VOX_GEMV_WARPS - 1) / VOX_GEMV_WARPS);
}

/* The argument block of `count` weights on one input, their rows numbered one after the other; returns
 * the rows of all. */
static int fill_args(vox_gemv_args *a, int count, float *const *y, const vox_bweight_t *const *w,
                     const float *const *bias) {
    memset(a, 0, sizeof *a);
    int rows = 0;
    for (int i = 0; i < count; i++) {
        a->w[i] = w[i]->d;
        a->y[i] = y[i];
        a->bias[i] = bias ? bias[i] : NULL;
        a->out[i] = (int)w[i]->rows;
        rows += a->out[i];
        a->row_end[i] = rows;
    }
    a->rows = rows;
    a->count = count;
    return rows;
}

int vox_cuda_gemv(vox_backend_t *be, int count, float *const *y, const float *x, const vox_bweight_t *const *w,
                  const float *const *bias, int n, int accumulate, unsigned blocks) {
    vox_cuda_t *c = vox_cuda(be);
    vox_gemv_args a;
    int in = (int)w[0]->cols, rows = fill_args(&a, count, y, w, bias);
    int vec = in % 8 == 0 && ((uintptr_t)x & 15) == 0;
    void *args[] = {&a, &x, &n, &in, &accumulate};
    if (!blocks) blocks = gemv_blocks(c, rows);
    return vox_cuda_launch(be, vec ? c->k.k_gemv_vec : c->k.k_gemv_scalar, blocks, 1, 1, VOX_GEMV_WARPS * 32, args);
}

/* The gated launch: segment 0 = w1, 1 = w3, output rows = w1's (each warp reads both weights' row). */
int vox_cuda_gemv_gated(vox_backend_t *be, float *y, const float *x, const vox_bweight_t *w1, const vox_bweight_t *w3,
                        int n) {
    vox_cuda_t *c = vox_cuda(be);
    vox_gemv_args a;
    memset(&a, 0, sizeof a);
    int in = (int)w1->cols, zero = 0;
    a.w[0] = w1->d;
    a.w[1] = w3->d;
    a.y[0] = y;
    a.out[0] = a.out[1] = (int)w1->rows;
    a.rows = a.row_end[0] = a.row_end[1] = (int)w1->rows;
    a.count = 2;
    void *args[] = {&a, &x, &n, &in, &zero};
    return vox_cuda_launch(be, c->k.k_gemv_gated, gemv_blocks(c, a.rows), 1, 1, VOX_GEMV_WARPS * 32, args);
}

/* The tensor-core GEMV takes these weights at n rows: n up to VOX_GEMV_TC_MAX_ROWS, every weight's
 * width a multiple of the block's warps x 32 columns and its rows a multiple of 32 (a block's
 * 16 or 32 rows lie in one segment), at most VOX_GEMV_SEGS weights. */
int vox_cuda_gemv_tc_fits(int count, const vox_bweight_t *const *w, int n) {
    if (n < 1 || n > VOX_CUDA_GEMV_TC || n > VOX_GEMV_TC_MAX_ROWS || count < 1 || count > VOX_GEMV_SEGS) return 0;
    for (int i = 0; i < count; i++)
        if (w[i]->is_f32 || w[i]->cols != w[0]->cols || w[i]->cols % (VOX_GEMV_TC_WARPS * 32) || w[i]->rows % 32 ||
            ((uintptr_t)w[i]->d & 15))
            return 0;
    return 1;
}

/* Blocks of 32 rows where that still gives two per SM, else of 16 (twice the blocks). */
int vox_cuda_gemv_tc(vox_backend_t *be, int count, float *const *y, const float *x, const vox_bweight_t *const *w,
                     const float *const *bias, int n, int accumulate) {
    vox_cuda_t *c = vox_cuda(be);
    vox_gemv_args a;
    int in = (int)w[0]->cols, rows = fill_args(&a, count, y, w, bias);
    const uint16_t *xb;
    int rc = vox_cuda_stage_bf16(be, x, (size_t)n * in, &xb);
    if (rc) return rc;
    int wide = rows / 32 >= 2 * c->sm_count;
    void *args[] = {&a, &xb, &n, &in, &accumulate};
    return vox_cuda_launch(be, wide ? c->k.k_gemv_tc_m2 : c->k.k_gemv_tc_m1, (unsigned)(rows / (wide ? 32 : 16)), 1, 1,
                           VOX_GEMV_TC_WARPS * 32, args);
}
