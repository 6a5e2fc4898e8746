/* embed.cu — token embedding lookup: y[i, :] (+)= table[ids[i], :], table bf16 [vocab, dim].
 * One block per row; ids outside [0, vocab) give a zero row (never read out of bounds). */
#include "common.cuh"

VOX_KERNEL void vox_embed(float *y, const uint16_t *table, const int *ids, int dim, int vocab, int accumulate) {
    VOX_PDL_ENTER();
    int id = ids[blockIdx.x];
    float *yr = y + (long long)blockIdx.x * dim;
    int ok = id >= 0 && id < vocab;
    const uint16_t *tr = table + (long long)(ok ? id : 0) * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = ok ? bf16_f(tr[i]) : 0.f;
        yr[i] = accumulate ? yr[i] + v : v;
    }
}
