/* bench.h — the memory-bandwidth probe behind `voxtral --bench-copy`: the ceiling that decoder
 * speed is judged against (a decode step must read every decoder weight once). */
#ifndef VOX_BENCH_H
#define VOX_BENCH_H
#include <stddef.h>
#include "backend.h"

typedef struct {
    size_t bytes;     /* size of one copy */
    int iterations;   /* timed copies (after one warm-up copy) */
    double ms_median; /* median time of one copy */
    double gbps;      /* (bytes read + bytes written) / median time, in GB/s (1e9) */
} vox_copy_bench_t;

/* Times backend-to-backend copies of `bytes` with the backend's own copy op (cuMemcpyDtoD on
 * CUDA, memcpy on the CPU), synchronising around each copy. */
int vox_bench_copy(vox_backend_t *be, size_t bytes, int iterations, vox_copy_bench_t *out, vox_error_t *err);
#endif
