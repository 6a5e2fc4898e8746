/* rope.cu — interleaved rotary embedding, in place.
 * x [n, n_heads*head_dim] f32; row i is position pos = *pos_reg + i. In each head the pair
 * (2j, 2j+1) rotates by pos * theta^(-2j/head_dim). The angle is formed and reduced modulo
 * 2*pi in double, so positions in the millions (hours of audio) keep full float accuracy. */
#include "common.cuh"

VOX_KERNEL void vox_rope(float *x, const long long *pos_reg, int n, int n_heads, int head_dim,
                         float theta) {
    int half = head_dim / 2;
    long long pairs = (long long)n * n_heads * half;
    long long pos0 = *pos_reg;
    double ltheta = log((double)theta);
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < pairs;
         t += (long long)gridDim.x * blockDim.x) {
        int j = (int)(t % half);
        long long row = t / ((long long)n_heads * half);
        double inv_freq = exp(-ltheta * (2.0 * j) / head_dim);
        double a = (double)(pos0 + row) * inv_freq;
        a -= 6.283185307179586 * floor(a * 0.15915494309189535);
        float s, c;
        sincosf((float)a, &s, &c);
        float2 *p = (float2 *)(x + 2 * t);
        float2 v = *p;
        *p = make_float2(v.x * c - v.y * s, v.x * s + v.y * c);
    }
}
