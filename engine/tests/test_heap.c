/* test_heap.c — the CUDA backend's device heap (src/cuda/heap.c) against a fake driver: a device of
 * a set size that hands out address ranges and records every allocation and free. It checks what
 * the heap promises: live blocks never overlap and stay inside what the driver gave; a freed size is
 * reused without a driver call; blocks up to 64 MiB are carved from 256 MiB chunks; a full device
 * gets the unused chunks and kept blocks back and the allocation retried, a block that fits where a
 * chunk does not is allocated alone; VOX_CUDA_HEAP=0 makes each
 * buffer its own allocation, freed at once; destroy gives back every allocation exactly once; the
 * accounting (bytes_in_use) follows a long random run. Exit 0 when all pass. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda_impl.h"

static int n_pass, n_fail;
#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (cond) {                                                                                                    \
            n_pass++;                                                                                                  \
        } else {                                                                                                       \
            n_fail++;                                                                                                  \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                                \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
        }                                                                                                              \
    } while (0)

/* ---- the fake driver ---- */
#define MAX_DRV 100000
typedef struct {
    CUdeviceptr p;
    size_t n;
    int freed;
} drv_alloc;
static drv_alloc drv[MAX_DRV];
static int n_drv, n_allocs, n_frees, n_syncs, bad_frees;
static size_t dev_cap, dev_used;
static CUdeviceptr next_addr = (CUdeviceptr)1 << 40;

static CUresult fake_alloc(CUdeviceptr *p, size_t n) {
    if (dev_used + n > dev_cap || n_drv == MAX_DRV) return CUDA_ERROR_OUT_OF_MEMORY;
    *p = next_addr;
    next_addr += (n + ((size_t)2 << 20) - 1) / ((size_t)2 << 20) * ((size_t)2 << 20) + ((size_t)2 << 20);
    drv[n_drv++] = (drv_alloc){*p, n, 0};
    dev_used += n;
    n_allocs++;
    return CUDA_SUCCESS;
}
static CUresult fake_free(CUdeviceptr p) {
    for (int i = 0; i < n_drv; i++)
        if (drv[i].p == p && !drv[i].freed) {
            drv[i].freed = 1;
            dev_used -= drv[i].n;
            n_frees++;
            return CUDA_SUCCESS;
        }
    bad_frees++;
    return (CUresult)1; /* CUDA_ERROR_INVALID_VALUE */
}
static CUresult fake_sync(CUstream s) {
    (void)s;
    n_syncs++;
    return CUDA_SUCCESS;
}
static CUresult fake_ctx(CUcontext c) {
    (void)c;
    return CUDA_SUCCESS;
}

int vox_cuda_fail_cu(vox_backend_t *be, CUresult r, const char *call, const char *file, int line) {
    (void)file;
    (void)line;
    return vox_fail(&be->err, r == CUDA_ERROR_OUT_OF_MEMORY ? VOX_ENOMEM : VOX_EDEVICE, "%s failed (%d)", call, (int)r);
}

static vox_cuda_t cu;
static vox_backend_t be;

static void fresh(int heap_on, size_t cap) {
    memset(&cu, 0, sizeof cu);
    memset(&be, 0, sizeof be);
    be.impl = &cu;
    cu.api.cuMemAlloc_v2 = fake_alloc;
    cu.api.cuMemFree_v2 = fake_free;
    cu.api.cuStreamSynchronize = fake_sync;
    cu.api.cuCtxSetCurrent = fake_ctx;
    if (heap_on)
        unsetenv("VOX_CUDA_HEAP");
    else
        setenv("VOX_CUDA_HEAP", "0", 1);
    vox_cuda_heap_init(&cu);
    n_drv = n_allocs = n_frees = n_syncs = bad_frees = 0;
    dev_cap = cap;
    dev_used = 0;
}

/* The driver allocation holding [p, p+n), or -1. */
static int owner(CUdeviceptr p, size_t n) {
    for (int i = 0; i < n_drv; i++)
        if (!drv[i].freed && p >= drv[i].p && p + n <= drv[i].p + drv[i].n) return i;
    return -1;
}

typedef struct {
    CUdeviceptr p;
    size_t n;
} blk;

/* Every block inside a live driver allocation, 256-byte aligned, and no two overlapping. */
static int sound(const blk *b, int n) {
    for (int i = 0; i < n; i++) {
        if (!b[i].p) continue;
        if (b[i].p % 256 || owner(b[i].p, b[i].n) < 0) return 0;
        for (int j = i + 1; j < n; j++)
            if (b[j].p && b[i].p < b[j].p + b[j].n && b[j].p < b[i].p + b[i].n) return 0;
    }
    return 1;
}

static CUdeviceptr al(size_t n) { return (CUdeviceptr)(uintptr_t)vox_cuda_malloc(&be, n); }
static void fr(CUdeviceptr p) { vox_cuda_mfree(&be, (void *)(uintptr_t)p); }

/* The buffers of one stream of the real model, roughly: KV rings, scratch, ada scales. */
static const size_t k_stream[] = {3600000, 3600000, 3600000, 3600000, 1126400, 1126400, 1126400,
                                  466944,  466944,  622592,  622592,  155648,  1400000, 1400000,
                                  524288,  12288,   12288,   12288,   12288,   152,     4};
#define N_STREAM (int)(sizeof k_stream / sizeof *k_stream)

static int cmp_ptr(const void *a, const void *b) {
    CUdeviceptr x = *(const CUdeviceptr *)a, y = *(const CUdeviceptr *)b;
    return x < y ? -1 : x > y;
}

static void test_reuse(void) {
    fresh(1, (size_t)64 << 30);
    blk b[2 * N_STREAM];
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < N_STREAM; i++) b[s * N_STREAM + i] = (blk){al(k_stream[i]), k_stream[i]};
    CHECK(sound(b, 2 * N_STREAM), "two streams' blocks overlap or lie outside the driver's allocations");
    CHECK(n_allocs == 1, "two streams' %d blocks took %d driver allocations, not one chunk", 2 * N_STREAM, n_allocs);
    size_t live = cu.bytes_in_use;
    CUdeviceptr before[N_STREAM], after[N_STREAM];
    for (int i = 0; i < N_STREAM; i++) before[i] = b[i].p;
    for (int i = 0; i < N_STREAM; i++) fr(b[i].p);
    CHECK(n_frees == 0 && n_syncs == 0, "freeing a stream called cuMemFree %d times and synced %d times", n_frees,
          n_syncs);
    for (int i = 0; i < N_STREAM; i++) b[i] = (blk){al(k_stream[i]), k_stream[i]};
    CHECK(n_allocs == 1, "reopening a stream took %d driver allocations more", n_allocs - 1);
    for (int i = 0; i < N_STREAM; i++) after[i] = b[i].p;
    qsort(before, N_STREAM, sizeof *before, cmp_ptr);
    qsort(after, N_STREAM, sizeof *after, cmp_ptr);
    CHECK(!memcmp(before, after, sizeof before), "the reopened stream did not get the freed stream's blocks back");
    CHECK(cu.bytes_in_use == live, "bytes in use %zu after the reopen, %zu before", cu.bytes_in_use, live);
    CHECK(sound(b, 2 * N_STREAM), "reused blocks overlap");
    /* a block over 64 MiB is a driver allocation of its own, kept for its size after a free */
    CUdeviceptr big = al((size_t)100 << 20);
    CHECK(big && n_allocs == 2 && owner(big, (size_t)100 << 20) == n_drv - 1,
          "a 100 MiB block was not its own allocation");
    fr(big);
    CUdeviceptr again = al((size_t)100 << 20);
    CHECK(again == big && n_allocs == 2 && n_frees == 0, "a freed 100 MiB block was not reused");
    fr(again);
    for (int i = 0; i < 2 * N_STREAM; i++) fr(b[i].p);
    CHECK(cu.bytes_in_use == 0, "%zu bytes in use after every free", cu.bytes_in_use);
    vox_cuda_heap_destroy(&cu);
    CHECK(n_frees == n_allocs && bad_frees == 0 && dev_used == 0,
          "destroy: %d of %d driver allocations freed, %d bad frees, %zu bytes left", n_frees, n_allocs, bad_frees,
          dev_used);
}

static void test_full_device(void) {
    /* a device with room for 2 chunks */
    fresh(1, (size_t)512 << 20);
    CUdeviceptr a[8];
    for (int i = 0; i < 8; i++) a[i] = al(3600000);
    for (int i = 0; i < 8; i++) fr(a[i]);
    blk keep[40];
    int n = 0;
    for (; n < 40; n++) { /* 20 MB each (20.05 rounded): 11 in what the first chunk has left, 13 in the second */
        keep[n] = (blk){al(20000000), 20000000};
        if (!keep[n].p) break;
    }
    CHECK(n == 24 && n_syncs == 1 && n_frees == 0,
          "%d blocks of 20 MB fit in two 256 MiB chunks after 8 x 3.6 MB (24 expected), %d syncs, %d frees", n, n_syncs,
          n_frees);
    be.err.code = 0;
    for (int i = 0; i < n; i++) fr(keep[i].p);
    /* now a 200 MB block of its own: the device is full (two chunks); nothing is live, so both
     * chunks go back and the allocation succeeds */
    CUdeviceptr big = al((size_t)200 << 20);
    CHECK(big != 0 && n_syncs == 2 && n_frees == 2, "a full device: the 200 MB block %s, %d syncs, %d frees",
          big ? "fitted" : "failed", n_syncs, n_frees);
    /* the released chunks' kept blocks are gone: a 3.6 MB request carves a new chunk */
    CUdeviceptr x = al(3600000);
    CHECK(x != 0 && owner(x, 3600000) >= 0 && owner(x, 3600000) != owner(big, (size_t)200 << 20),
          "a block kept from a released chunk was handed out");
    /* the device cannot hold a third chunk while both hold live blocks: a clean error */
    CUdeviceptr y = al((size_t)300 << 20);
    CHECK(y == 0 && be.err.code == VOX_ENOMEM, "an allocation over what the device holds: %s (code %d)",
          y ? "succeeded" : "failed", be.err.code);
    fr(x);
    fr(big);
    vox_cuda_heap_destroy(&cu);
    CHECK(n_frees == n_allocs && bad_frees == 0, "destroy after a full device: %d of %d freed, %d bad", n_frees,
          n_allocs, bad_frees);
}

/* A device with room for the block but not for another chunk: the block is allocated alone. */
static void test_no_room_for_chunk(void) {
    fresh(1, (size_t)300 << 20);
    CUdeviceptr a[4];
    for (int i = 0; i < 4; i++) a[i] = al((size_t)60 << 20); /* 240 MiB of the first chunk */
    CUdeviceptr z = al((size_t)40 << 20);
    CHECK(a[3] && z && n_allocs == 2 && owner(z, (size_t)40 << 20) == 1 && drv[1].n == ((size_t)40 << 20),
          "a 40 MiB block without room for a second chunk: %s, %d driver allocations", z ? "allocated" : "refused",
          n_allocs);
    for (int i = 0; i < 4; i++) fr(a[i]);
    fr(z);
    vox_cuda_heap_destroy(&cu);
    CHECK(n_frees == n_allocs && bad_frees == 0, "destroy: %d of %d freed, %d bad", n_frees, n_allocs, bad_frees);
}

static void test_heap_off(void) {
    fresh(0, (size_t)64 << 30);
    CUdeviceptr a = al(12288), b = al(3600000);
    CHECK(n_allocs == 2 && owner(a, 12288) >= 0 && owner(b, 3600000) >= 0 && owner(a, 1) != owner(b, 1),
          "VOX_CUDA_HEAP=0: %d driver allocations for 2 buffers", n_allocs);
    fr(a);
    CHECK(n_frees == 1, "VOX_CUDA_HEAP=0: a free did not go to the driver");
    CUdeviceptr c = al(12288);
    CHECK(n_allocs == 3 && c, "VOX_CUDA_HEAP=0: a freed size was kept");
    fr(b);
    fr(c);
    vox_cuda_heap_destroy(&cu);
    CHECK(n_frees == n_allocs && bad_frees == 0, "VOX_CUDA_HEAP=0: %d of %d freed, %d bad", n_frees, n_allocs,
          bad_frees);
}

static void test_misuse(void) {
    fresh(1, (size_t)64 << 30);
    cu.capturing = 1;
    CHECK(al(4096) == 0 && be.err.code == VOX_EINTERNAL && strstr(be.err.msg, "graph capture"),
          "an allocation during capture was not refused");
    cu.capturing = 0;
    CUdeviceptr a = al(4096);
    fr(0);
    fr(a + 256); /* not a block's start: left alone */
    CHECK(cu.bytes_in_use == 4096, "freeing NULL or an unknown pointer changed the accounting");
    fr(a);
    CHECK(cu.bytes_in_use == 0 && al(4096) == a, "a freed block was not reused after the unknown frees");
    vox_cuda_heap_destroy(&cu);
    CHECK(bad_frees == 0 && n_frees == n_allocs, "destroy after misuse: %d bad frees", bad_frees);
}

/* The heap's rounding: 256-byte multiples up to 1 MiB, 64 KiB multiples above. */
static size_t rnd(size_t n) { return n <= (1u << 20) ? (n + 255) / 256 * 256 : (n + 65535) / 65536 * 65536; }

/* 200000 random allocations and frees of the stream's sizes and a few odd ones, the live set
 * checked against the heap's accounting and for overlaps. */
static void test_random(void) {
    fresh(1, (size_t)64 << 30);
    enum { N = 3000 };
    static blk live[N];
    memset(live, 0, sizeof live);
    uint64_t r = 88172645463325252ull;
    size_t sum = 0;
    int ok = 1;
    for (int it = 0; it < 200000 && ok; it++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int i = (int)(r % N);
        if (live[i].p) {
            fr(live[i].p);
            sum -= rnd(live[i].n);
            live[i].p = 0;
        } else {
            size_t n = (r >> 20) % 4 ? k_stream[(r >> 24) % N_STREAM] : 1 + (r >> 28) % (3u << 20);
            live[i] = (blk){al(n), n};
            if (!live[i].p) ok = 0;
            sum += rnd(n);
        }
        if (cu.bytes_in_use != sum) ok = 0;
    }
    CHECK(ok, "random run: accounting %zu, expected %zu", cu.bytes_in_use, sum);
    CHECK(sound(live, N), "random run: live blocks overlap or lie outside the driver's allocations");
    CHECK(n_frees == 0, "random run: %d driver frees", n_frees);
    vox_cuda_heap_destroy(&cu);
    CHECK(n_frees == n_allocs && bad_frees == 0, "destroy after the random run: %d of %d freed, %d bad", n_frees,
          n_allocs, bad_frees);
}

int main(void) {
    test_reuse();
    test_full_device();
    test_no_room_for_chunk();
    test_heap_off();
    test_misuse();
    test_random();
    printf("test_heap: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
