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
