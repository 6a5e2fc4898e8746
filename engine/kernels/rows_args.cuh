/* rows_args.cuh — the row table of the row-table kernels (kernels/rows.cu, attention.cu), shared
 * with the host code that fills it (src/cuda/rows.c), so it is plain C with the same layout on both
 * sides.
 *
 * Row i of a forward over several streams belongs to its own stream: its position pos[i] (negative:
 * a padding row, which the kernels leave alone and whose attention is zero) and, per layer, its KV
 * ring (bf16 K and V [cap, kvd], position p in slot p % cap) and ada scale (f32 [dim] or NULL). The
 * table lives in device memory, written by set_rows in stream order, so a graph captured over the
 * row ops replays with the rows of the set_rows before its launch:
 *   long long pos[n];  vox_row_ring ring[layers][n];  vox_row_tile tile[n];   (n = its rows)
 * tile[t]: the t-th run of up to VOX_ROW_TILE consecutive rows of one stream at consecutive
 * positions (an encoder push: the attention reads their keys once for all of them, when each
 * KV head serves one query head); entries past the last run have n = 0. */
#ifndef VOX_ROWS_ARGS_CUH
#define VOX_ROWS_ARGS_CUH
#include <stdint.h>

typedef struct {
    uint16_t *k, *v;
    const float *scale;
    long long cap;
} vox_row_ring;

#define VOX_ROW_TILE 4
typedef struct {
    int row, n;
} vox_row_tile;
#endif
