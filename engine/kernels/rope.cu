/* rope.cu — interleaved rotary embedding, in place.
 * x [n, n_heads*head_dim] f32; row i is position pos = *pos_reg + off + i (off: the test-only
 * --position-offset, else 0). In each head the pair (2j, 2j+1) rotates as rope_rotate (common.cuh). */
#include "common.cuh"

VOX_KERNEL void vox_rope(float *x, const long long *pos_reg, long long off, int n, int n_heads, int head_dim,
                         float theta) {
    VOX_PDL_ENTER();
    int half = head_dim / 2;
    long long pairs = (long long)n * n_heads * half;
    long long pos0 = *pos_reg + off;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < pairs;
         t += (long long)gridDim.x * blockDim.x) {
        int j = (int)(t % half);
        long long row = t / ((long long)n_heads * half);
        float2 *p = (float2 *)(x + 2 * t);
        *p = rope_rotate(*p, pos0 + row, j, head_dim, theta);
    }
}
