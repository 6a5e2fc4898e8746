/* kv.cu — store new K/V rows in the ring cache.
 * k, v [n, kvd] f32 (kvd = n_kv_heads*head_dim); row i is position p = *pos_reg + i and goes to
 * slot p % capacity of kc, vc (bf16 [capacity, kvd]). */
#include "common.cuh"

VOX_KERNEL void vox_kv_write(uint16_t *kc, uint16_t *vc, const float *k, const float *v, const long long *pos_reg,
                             int n, int kvd, int capacity) {
    VOX_PDL_ENTER();
    long long total = (long long)n * kvd;
    long long pos0 = *pos_reg;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        long long row = t / kvd;
        int d = (int)(t % kvd);
        long long slot = (pos0 + row) % capacity;
        kc[slot * kvd + d] = f_bf16(k[t]);
        vc[slot * kvd + d] = f_bf16(v[t]);
    }
}

/* rope(q), rope(k) and kv_write in one launch (the attention's position step; the same bits as the three
 * kernels): one thread per pair (2j, 2j+1) of a q head or a KV head of a row. A q pair rotates in place;
 * a KV pair rotates k in place and stores it and the same pair of v in the ring. RoPE positions add off
 * (the test-only --position-offset) as vox_rope does; ring slots do not, as vox_kv_write. */
VOX_KERNEL void vox_rope_kv_write(float *q, float *k, const float *v, uint16_t *kc, uint16_t *vc,
                                  const long long *pos_reg, long long off, int n, int H, int KVH, int hd, int capacity,
                                  float theta) {
    VOX_PDL_ENTER();
    int half = hd / 2, heads = H + KVH;
    long long pairs = (long long)n * heads * half, pos0 = *pos_reg;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < pairs;
         t += (long long)gridDim.x * blockDim.x) {
        int j = (int)(t % half), h = (int)((t / half) % heads);
        long long row = t / ((long long)heads * half), kvd = (long long)KVH * hd, slot = (pos0 + row) % capacity;
        rope_kv_pair(q + row * H * hd, k + row * kvd, v + row * kvd, kc + slot * kvd, vc + slot * kvd, h, j, H, hd,
                     pos0 + off + row, theta);
    }
}
