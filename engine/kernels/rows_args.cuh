/* rows_args.cuh — the argument block of the row-table kernels (kernels/rows.cu), shared with the
 * host code that fills it (src/cuda/rows.c), so it is plain C with the same layout on both sides.
 *
 * Row i of a multi-stream decoder step belongs to its own stream: its position, its KV ring
 * (bf16 K and V [cap, kvd], position p in slot p % cap) and its ada scale (f32 [dim] or NULL).
 * The block travels by value in the kernel arguments, so these launches take their positions
 * from the launch, not from the device position register: they are not captured into graphs. */
#ifndef VOX_ROWS_ARGS_CUH
#define VOX_ROWS_ARGS_CUH
#include <stdint.h>

/* = VOX_MAX_ROWS (backend.h; rows.c checks): 9.2 KB of kernel arguments, which CUDA 12.1 and later
 * take on Volta and newer GPUs (up to 32 KB; the engine needs sm_80 or newer). */
#define VOX_ROWS_ARGS_MAX 256

typedef struct {
    long long pos[VOX_ROWS_ARGS_MAX];
    uint16_t *k[VOX_ROWS_ARGS_MAX], *v[VOX_ROWS_ARGS_MAX];
    const float *scale[VOX_ROWS_ARGS_MAX];
    int cap[VOX_ROWS_ARGS_MAX];
    int n;
} vox_rows_args;
#endif
