/* attn_window.cuh — the sliding-window and ring-cache arithmetic both attention kernels share
 * (attention.cu, attention_tc.cu). Query row R of a tile is position pos0 + R / G (G query heads per
 * KV head); query position P sees key positions P - window < j <= P, j >= 0; key position j lives in
 * ring slot j % cap of the KV cache [cap, n_kv_heads * hd]. */
#pragma once

/* Keys [start, end) that block `split` of `nsplit` covers for the tile of query rows [row0, row0 + rows):
 * the tile's whole range [max(0, P_lo - window + 1), P_hi] cut into nsplit equal pieces. */
struct vox_attn_span {
    long long start, end;
};
__device__ __forceinline__ vox_attn_span vox_attn_block_span(int row0, int rows, int G, int n, long long pos0,
                                                             int window, int split, int nsplit) {
    const int i_lo = row0 / G, i_hi = min(n - 1, (row0 + rows - 1) / G);
    const long long klo = max(0LL, pos0 + i_lo - window + 1), khi = pos0 + i_hi;
    const long long per = (khi - klo + 1 + nsplit - 1) / nsplit;
    vox_attn_span s;
    s.start = klo + split * per;
    s.end = min(khi + 1, s.start + per);
    return s;
}

/* Element offset of key position j, KV head g (hd wide), in a ring cache of cap slots of kvd values. */
__device__ __forceinline__ long long vox_kv_slot(long long j, int cap, int kvd, int g, int hd) {
    return (j % cap) * kvd + (long long)g * hd;
}

/* Whether query position P sees key position j (causal, inside the window). */
__device__ __forceinline__ bool vox_attn_sees(long long j, long long P, int window) { return j <= P && j > P - window; }
