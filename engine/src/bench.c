/* bench.c — copy-bandwidth probe; see bench.h. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int vox_bench_copy(vox_backend_t *be, size_t bytes, int iterations, vox_copy_bench_t *out, vox_error_t *err) {
    const vox_backend_ops *ops = be->ops;
    size_t n = bytes / sizeof(float);
    float *src = ops->alloc(be, n), *dst = src ? ops->alloc(be, n) : NULL;
    double *ms = malloc(sizeof(double) * (size_t)(iterations > 0 ? iterations : 1));
    int rc = 0;
    if (!src || !dst || !ms) {
        rc = vox_fail(
            err, VOX_ENOMEM,
            "--bench-copy could not allocate 2 x %zu MB on the %s backend. Free memory or use a smaller machine load",
            bytes >> 20, ops->name);
        goto done;
    }
    /* Fill the source with non-zero data so no path can shortcut zeros; one warm-up copy. */
    float *host = malloc(sizeof(float) * 4096);
    if (!host) {
        rc = vox_fail(err, VOX_ENOMEM, "out of host memory. Close other programs");
        goto done;
    }
    for (int i = 0; i < 4096; i++) host[i] = (float)(i % 251) * 0.37f + 1.0f;
    for (size_t off = 0; off < n && !rc; off += 4096)
        rc = ops->upload(be, src + off, host, sizeof(float) * (n - off < 4096 ? n - off : 4096));
    free(host);
    if (!rc) rc = ops->copy(be, dst, src, n * sizeof(float));
    if (!rc) rc = ops->sync(be);
    for (int it = 0; it < iterations && !rc; it++) {
        double t0 = vox_now_ms();
        rc = ops->copy(be, dst, src, n * sizeof(float));
        if (!rc) rc = ops->sync(be);
        ms[it] = vox_now_ms() - t0;
    }
    if (rc) {
        if (!err->code) *err = be->err;
        goto done;
    }
    qsort(ms, (size_t)iterations, sizeof(double), cmp_double);
    out->bytes = n * sizeof(float);
    out->iterations = iterations;
    out->ms_median = ms[iterations / 2];
    out->gbps = 2.0 * (double)out->bytes / (out->ms_median * 1e6);
done:
    if (dst) ops->free(be, dst);
    if (src) ops->free(be, src);
    free(ms);
    return rc;
}
