/* common.cuh — shared helpers of the device kernels (included by every kernel file).
 * Conventions: activations f32 row-major; weights and KV cache bf16 (uint16 bit patterns);
 * the position register is one int64 in device memory (backend.h, set_pos). */
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

#define VOX_KERNEL extern "C" __global__

__device__ __forceinline__ float bf16_lo(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float bf16_hi(uint32_t w) { return __uint_as_float(w & 0xffff0000u); }
__device__ __forceinline__ float bf16_f(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }
/* f32 -> bf16 bits, round to nearest even (NaN kept quiet), as vox_f32_to_bf16 on the host. */
__device__ __forceinline__ uint16_t f_bf16(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
