/* cpu_kernels.h — the CPU backend's inner loops, each with an AVX2+FMA version (compiled with
 * __attribute__((target)), chosen at run time when the CPU has it) and a portable scalar one.
 * `avx2` selects the version; the backend sets it once from the CPU's feature flags. */
#ifndef VOX_CPU_KERNELS_H
#define VOX_CPU_KERNELS_H
#include <stddef.h>
#include <stdint.h>

int vox_cpu_has_avx2_fma(void);

/* For output rows r in [r0, r1) and input rows j < nx:
 *   y[j*ldy + r] = (acc ? y[j*ldy + r] : 0) + sum_k W[r*in + k] * x[j*in + k] + (b ? b[r] : 0)
 * W is BF16 [out, in] (read straight from the mapping), x is f32 [nx, in]. */
void vox_cpu_gemv_bf16(int avx2, const uint16_t *W, int in, const float *x, int nx, float *y, int ldy, int r0, int r1,
                       const float *b, int acc);
/* dst[i] = bf16 src[i] as f32, i < n. */
void vox_cpu_bf16_to_f32(int avx2, const uint16_t *src, float *dst, size_t n);
/* x[i] = exp(x[i] - mx) for i < n; returns the sum (in double). The AVX2 exp is a Cephes-style
 * range reduction + degree-6 polynomial (relative error ~2e-7), the scalar one is expf. */
double vox_cpu_exp_sum(int avx2, float *x, int n, float mx);
#endif
