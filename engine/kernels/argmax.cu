/* argmax.cu — greedy token choice on the device, two passes.
 *   vox_argmax_part:  grid (chunks, rows); each block scans one chunk of a row and writes its
 *                     best (value, index) to part[(row*chunks + chunk)*2 + {0,1}].
 *   vox_argmax_final: one warp per row merges the chunks into out_id[row].
 * Ties resolve to the lowest index; NaN never wins (a row of NaN gives 0). */
#include "common.cuh"

__device__ __forceinline__ void better(float &bv, int &bi, float v, int i) {
    if (v > bv || (v == bv && i < bi)) {
        bv = v;
        bi = i;
    }
}

__device__ void warp_best(float &bv, int &bi) {
    for (int o = 16; o > 0; o >>= 1) {
        float v = __shfl_xor_sync(0xffffffffu, bv, o);
        int i = __shfl_xor_sync(0xffffffffu, bi, o);
        better(bv, bi, v, i);
    }
}

VOX_KERNEL void vox_argmax_part(float *part, const float *logits, int vocab) {
    VOX_PDL_ENTER();
    int row = blockIdx.y, chunk = blockIdx.x, chunks = gridDim.x;
    int per = (vocab + chunks - 1) / chunks;
    int lo = chunk * per, hi = min(vocab, lo + per);
    const float *lr = logits + (long long)row * vocab;
    float bv = -INFINITY;
    int bi = 0x7fffffff;
    for (int i = lo + threadIdx.x; i < hi; i += blockDim.x) {
        float v = lr[i];
        if (!isnan(v)) better(bv, bi, v, i);
    }
    warp_best(bv, bi);
    __shared__ float sv[32];
    __shared__ int si[32];
    int w = threadIdx.x >> 5;
    if ((threadIdx.x & 31) == 0) {
        sv[w] = bv;
        si[w] = bi;
    }
    __syncthreads();
    if (threadIdx.x < 32) {
        int nw = blockDim.x >> 5;
        bv = threadIdx.x < nw ? sv[threadIdx.x] : -INFINITY;
        bi = threadIdx.x < nw ? si[threadIdx.x] : 0x7fffffff;
        warp_best(bv, bi);
        if (threadIdx.x == 0) {
            float *p = part + ((long long)row * chunks + chunk) * 2;
            p[0] = bv;
            p[1] = __int_as_float(bi);
        }
    }
}

VOX_KERNEL void vox_argmax_final(int *out_id, const float *part, int chunks) {
    VOX_PDL_ENTER();
    const float *p = part + (long long)blockIdx.x * chunks * 2;
    float bv = -INFINITY;
    int bi = 0x7fffffff;
    for (int c = threadIdx.x; c < chunks; c += 32) better(bv, bi, p[2 * c], __float_as_int(p[2 * c + 1]));
    warp_best(bv, bi);
    if (threadIdx.x == 0) out_id[blockIdx.x] = bi == 0x7fffffff ? 0 : bi;
}
