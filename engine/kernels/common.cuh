/* common.cuh — shared helpers of the device kernels (included by every kernel file).
 * Conventions: activations f32 row-major; weights and KV cache bf16 (uint16 bit patterns);
 * the position register is one int64 in device memory (backend.h, set_pos). */
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

#define VOX_KERNEL extern "C" __global__

/* First statement of every kernel. On sm_90+ the host launches kernels with programmatic stream
 * serialization (context.c), so a kernel may start while the one before it in the stream is still
 * finishing: griddepcontrol.wait holds it until that kernel has completed and its writes are
 * visible, then launch_dependents lets the next kernel start early in turn. Nothing may be read
 * or written before it, except data no kernel of the step writes: the GEMVs' weights (gemv_args.cuh,
 * VOX_GEMV_PRELOAD) and the decode attention's older keys (attention.cu, vox_attn_dec_g4_d128), both
 * off by default until measured. (Prefetching the GEMV's first weights into L2 before the wait was
 * tried on the H200 and made the step slower: engine/PERF.md.) Without that launch attribute (older
 * GPUs, -DVOX_CUDA_PDL=0) both are no-ops. */
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define VOX_PDL_ENTER() asm volatile("griddepcontrol.wait;\n\tgriddepcontrol.launch_dependents;" ::: "memory")
#else
#define VOX_PDL_ENTER() ((void)0)
#endif

__device__ __forceinline__ float bf16_lo(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float bf16_hi(uint32_t w) { return __uint_as_float(w & 0xffff0000u); }
__device__ __forceinline__ float bf16_f(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }
/* f32 -> bf16 bits, round to nearest even (NaN kept quiet), as vox_f32_to_bf16 on the host. */
__device__ __forceinline__ uint16_t f_bf16(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }
/* f rounded to bf16 (as f_bf16), back as a float: what the cuBLASLt path's staging kernel feeds the GEMM. */
__device__ __forceinline__ float bf16_round(float f) { return bf16_f(f_bf16(f)); }
/* (a, b) rounded to bf16 in one conversion, back as floats. */
__device__ __forceinline__ float2 bf16_round2(float a, float b) {
    __nv_bfloat162 h = __floats2bfloat162_rn(a, b); /* .x = a in the low half */
    uint32_t w = (uint32_t)__bfloat16_as_ushort(h.x) | ((uint32_t)__bfloat16_as_ushort(h.y) << 16);
    return make_float2(bf16_lo(w), bf16_hi(w));
}

/* RoPE of the pair (2j, 2j+1) at position pos: angle pos * inv_freq_j, inv_freq_j = theta^(-2j/head_dim)
 * rounded to f32 exactly as the CPU backend does; the angle is formed and reduced modulo 2*pi in double,
 * so positions in the millions (hours of audio) keep full float accuracy. rope.cu, rows.cu, kv.cu. */
__device__ __forceinline__ float2 rope_rotate(float2 v, long long pos, int j, int head_dim, float theta) {
    double inv_freq = (double)(float)(1.0 / pow((double)theta, (2.0 * j) / head_dim));
    double a = (double)pos * inv_freq;
    a -= 6.283185307179586 * floor(a * 0.15915494309189535);
    float s, c;
    sincosf((float)a, &s, &c);
    return make_float2(v.x * c - v.y * s, v.x * s + v.y * c);
}

/* The fused position step's pair j of head h of one row at RoPE position pos (vox_rope_kv_write in kv.cu,
 * vox_rope_kv_write_rows in rows.cu): heads 0..H-1 are q heads, the rest KV heads. A q pair rotates in
 * place; a KV pair rotates k in place and stores it and the same pair of v into the ring's slot row
 * (kc, vc: bf16 [KV heads * head_dim] of the row's slot). */
__device__ __forceinline__ void rope_kv_pair(float *q, float *k, const float *v, uint16_t *kc, uint16_t *vc, int h,
                                             int j, int H, int head_dim, long long pos, float theta) {
    if (h < H) {
        float2 *p = (float2 *)(q + (long long)h * head_dim) + j;
        *p = rope_rotate(*p, pos, j, head_dim, theta);
        return;
    }
    int d = (h - H) * head_dim + 2 * j;
    float2 *p = (float2 *)(k + d);
    float2 r = rope_rotate(*p, pos, j, head_dim, theta), w = *(const float2 *)(v + d);
    *p = r;
    kc[d] = f_bf16(r.x);
    kc[d + 1] = f_bf16(r.y);
    vc[d] = f_bf16(w.x);
    vc[d + 1] = f_bf16(w.y);
}

/* A 16-byte load of data read once (streamed weights): through the non-coherent path, not kept in L1. */
__device__ __forceinline__ uint4 ld_stream(const uint4 *p) {
    uint4 r;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
                 : "l"(p));
    return r;
}

/* c[16 x 8] += a[16 x 16] · b[16 x 8] on tensor cores: BF16 operands in mma.sync's fragment
 * layout (a row-major, b column-major), FP32 accumulate (attention_tc.cu, gemv_tc.cu). sm_80+. */
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
                 "{%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
