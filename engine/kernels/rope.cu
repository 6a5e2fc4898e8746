/* rope.cu — interleaved rotary embedding, in place.
 * x [n, n_heads*head_dim] f32; row i is position pos = *pos_reg + off + i (off: the test-only
 * --position-offset, else 0). In each head the pair (2j, 2j+1) rotates by pos * inv_freq_j,
 * inv_freq_j = theta^(-2j/head_dim) rounded to f32 exactly as the CPU backend does. The angle is
 * formed and reduced modulo 2*pi in double, so positions in the millions (hours of audio) and far
 * beyond keep full float accuracy. */
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
        double inv_freq = (double)(float)(1.0 / pow((double)theta, (2.0 * j) / head_dim));
        double a = (double)(pos0 + row) * inv_freq;
        a -= 6.283185307179586 * floor(a * 0.15915494309189535);
        float s, c;
        sincosf((float)a, &s, &c);
        float2 *p = (float2 *)(x + 2 * t);
        float2 v = *p;
        *p = make_float2(v.x * c - v.y * s, v.x * s + v.y * c);
    }
}
