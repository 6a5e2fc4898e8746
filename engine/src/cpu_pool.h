/* cpu_pool.h — a tiny fork/join thread pool (the CPU backend's ops; the CUDA backend's weight staging).
 * vox_pool_run(p, fn, ctx) calls fn(ctx, t, n) for every t in 0..n-1, one call per thread
 * (the caller runs t = 0), and returns when all calls have returned. No work stealing: the
 * ops split their own work statically by t. One pool per backend instance (no globals). */
#ifndef VOX_CPU_POOL_H
#define VOX_CPU_POOL_H

typedef void (*vox_pool_fn)(void *ctx, int t, int n);
typedef struct vox_pool vox_pool_t;

vox_pool_t *vox_pool_new(int n_threads); /* NULL on failure (out of memory / no threads) */
int vox_pool_size(const vox_pool_t *p);
void vox_pool_run(vox_pool_t *p, vox_pool_fn fn, void *ctx);
void vox_pool_free(vox_pool_t *p);
#endif
