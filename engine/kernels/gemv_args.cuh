/* gemv_args.cuh — the GEMV kernels' argument block (kernels/gemv.cu, gemv_tc.cu), shared with the
 * host code that fills it (src/cuda/gemv.c), so it is plain C with the same layout on both sides.
 *
 * One launch covers the output rows of up to VOX_GEMV_SEGS weights ("segments") that read the
 * same input x [n, in]: linear() is one segment; linear_multi() the decode step's q/k/v or
 * w1/w3, so the small matrices no longer run alone on a partly idle GPU. The rows of all
 * segments are numbered one after the other: segment i owns rows row_end[i-1] .. row_end[i]-1
 * (row_end[-1] = 0), `rows` in all; the grid's warps take them round-robin (gemv.cu) or a block
 * takes 16 or 32 of them (gemv_tc.cu). */
#ifndef VOX_GEMV_ARGS_CUH
#define VOX_GEMV_ARGS_CUH
#include <stdint.h>

#define VOX_GEMV_SEGS        4
#define VOX_GEMV_WARPS       8  /* warps per 256-thread block (one output row per warp at a time) */
#define VOX_GEMV_GATED_ROWS  2  /* the most input rows of the gated launch (gemv.cu) */
#define VOX_GEMV_TC_WARPS    8  /* warps per block of the tensor-core GEMV (gemv_tc.cu), splitting `in` */
#define VOX_GEMV_TC_MAX_ROWS 32 /* the most input rows of the tensor-core GEMV: 4 tiles of 8 */
/* Whether the GEMV kernels issue their first weight loads before the kernel's dependency wait (default
 * on; -DVOX_GEMV_PRELOAD=0 in NVCCFLAGS for A/B builds). No kernel writes a weight, so they may be read
 * while the kernel before is still running: the first loads of a GEMV that follows a small kernel (an
 * RMSNorm, the attention merge, the input's BF16 staging) are in flight during it instead of after it.
 * The same bits either way. */
#ifndef VOX_GEMV_PRELOAD
#define VOX_GEMV_PRELOAD 0 /* off until measured on the GPU; 1 to try */
#endif

typedef struct {
    const uint16_t *w[VOX_GEMV_SEGS]; /* bf16 [out, in] */
    float *y[VOX_GEMV_SEGS];          /* f32 [n, out] */
    const float *bias[VOX_GEMV_SEGS]; /* f32 [out] or NULL */
    int out[VOX_GEMV_SEGS];           /* output rows of each segment */
    int row_end[VOX_GEMV_SEGS];       /* rows of segments 0..i together */
    int rows;                         /* rows of all segments (row_end[count - 1]) */
    int count;                        /* segments in use, 1..VOX_GEMV_SEGS */
} vox_gemv_args;

#ifdef __CUDACC__ /* how the kernels read the block (gemv.cu, gemv_tc.cu) */
/* v[seg] with constant indices only, so the argument block stays in the parameter bank (no
 * local copy), and is read where it is used (the outputs only at the store: fewer registers). */
template <typename T> __device__ __forceinline__ T pick(const T (&v)[VOX_GEMV_SEGS], int seg) {
    T r = v[0];
#pragma unroll
    for (int i = 1; i < VOX_GEMV_SEGS; i++)
        if (seg == i) r = v[i];
    return r;
}

/* Segment of global row g: the last one whose rows start at or before g; *first = its first row. */
__device__ __forceinline__ int find_seg(const vox_gemv_args &a, int g, int *first) {
    int seg = 0;
    *first = 0;
#pragma unroll
    for (int i = 1; i < VOX_GEMV_SEGS; i++)
        if (i < a.count && g >= a.row_end[i - 1]) {
            seg = i;
            *first = a.row_end[i - 1];
        }
    return seg;
}
#endif
#endif
