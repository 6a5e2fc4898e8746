/* norm.cu — RMSNorm, one block per row (norm_row.cuh).
 * x, y [rows, dim] f32 (may alias); w [dim] f32; scale1p [dim] f32 or NULL (ada-norm). */
#include "norm_row.cuh"

VOX_KERNEL void vox_rmsnorm(float *y, const float *x, const float *w, const float *scale1p, int dim, float eps) {
    VOX_PDL_ENTER();
    vox_rmsnorm_row(y + (long long)blockIdx.x * dim, x + (long long)blockIdx.x * dim, w, scale1p, dim, eps);
}
