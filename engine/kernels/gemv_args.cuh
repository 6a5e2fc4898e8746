/* gemv_args.cuh — the GEMV kernels' argument block (kernels/gemv.cu), shared with the host code
 * that fills it (src/cuda/gemm.c), so it is plain C with the same layout on both sides.
 *
 * One launch covers the output rows of up to VOX_GEMV_SEGS weights ("segments") that read the
 * same input x [n, in]: linear() is one segment; linear_multi() the decode step's q/k/v or
 * w1/w3, so the small matrices no longer run alone on a partly idle GPU. The rows of all
 * segments are numbered one after the other: segment i owns rows row_end[i-1] .. row_end[i]-1
 * (row_end[-1] = 0), `rows` in all; the grid's warps take them round-robin (gemv.cu). */
#ifndef VOX_GEMV_ARGS_CUH
#define VOX_GEMV_ARGS_CUH
#include <stdint.h>

#define VOX_GEMV_SEGS       4
#define VOX_GEMV_WARPS      8 /* warps per 256-thread block (one output row per warp at a time) */
#define VOX_GEMV_GATED_ROWS 2 /* the most input rows of the gated launch (gemv.cu) */

typedef struct {
    const uint16_t *w[VOX_GEMV_SEGS]; /* bf16 [out, in] */
    float *y[VOX_GEMV_SEGS];          /* f32 [n, out] */
    const float *bias[VOX_GEMV_SEGS]; /* f32 [out] or NULL */
    int out[VOX_GEMV_SEGS];           /* output rows of each segment */
    int row_end[VOX_GEMV_SEGS];       /* rows of segments 0..i together */
    int rows;                         /* rows of all segments (row_end[count - 1]) */
    int count;                        /* segments in use, 1..VOX_GEMV_SEGS */
} vox_gemv_args;
#endif
