/* im2col.cu — conv1d (kernel 3) as a matrix: cols[t, ci*3 + k] = x[t*stride + k, ci].
 * x [(n_out-1)*stride + 3, c_in] f32 (causal context already prepended), cols [n_out, c_in*3]. */
#include "common.cuh"

VOX_KERNEL void vox_im2col_k3(float *cols, const float *x, int n_out, int c_in, int stride) {
    VOX_PDL_ENTER();
    long long total = (long long)n_out * c_in * 3;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        int k = (int)(i % 3);
        long long r = i / 3;
        int ci = (int)(r % c_in);
        long long t = r / c_in;
        cols[i] = x[(t * stride + k) * c_in + ci];
    }
}
