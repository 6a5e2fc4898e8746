/* heap.c — the backend's device memory: every buffer the engine allocates goes through here.
 *
 * A stream holds a few hundred device buffers (its KV rings, scratch, the decoder's ada scales,
 * about 300 MB in 120 large ones on the real model), the driver's cuMemAlloc costs tens of
 * microseconds or more each, and cuMemFree waits for the device: on the H200, opening 128 streams
 * at once took 1.4 s, and closing them stalled the streams still running. So:
 *  - blocks up to VOX_HEAP_CARVED bytes are carved from chunks of VOX_HEAP_CHUNK bytes (the first
 *    chunk with room; a block alone when the device has no room for another chunk), larger ones are
 *    driver allocations of their own;
 *  - a freed block is kept for the next request of its (rounded) size; nothing goes back to the
 *    driver until the backend is destroyed, or an allocation finds the device full: then the kept
 *    blocks of their own and the chunks without a live block are released and it is retried.
 * All work of a backend runs on its one stream, so a block freed while queued kernels still read
 * it is reused only by work queued after them: no wait is needed.
 *
 * VOX_CUDA_HEAP=0 in the environment makes every buffer its own driver allocation, freed at once:
 * compute-sanitizer's bounds checks then see each buffer (gpu-check sets it for its sanitizer runs). */
#include "cuda_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOX_HEAP_ALIGN       256                 /* blocks up to 1 MiB: multiples of this */
#define VOX_HEAP_LARGE_ALIGN ((size_t)64 << 10)  /* larger ones: multiples of this */
#define VOX_HEAP_CARVED      ((size_t)64 << 20)  /* the largest block carved from a chunk */
#define VOX_HEAP_CHUNK       ((size_t)256 << 20) /* bytes of a chunk */

struct vox_heap_chunk {
    CUdeviceptr base; /* 0: released (the slot is free) */
    size_t used;      /* bytes carved so far, from the start */
    int live;         /* live blocks in it */
};

typedef struct {
    CUdeviceptr p;
    int chunk; /* its chunk, -1: a driver allocation of its own */
} heap_block;

struct vox_heap_bin {
    size_t size;
    heap_block *b;
    int n, cap;
};

static size_t rounded(size_t bytes) {
    if (bytes == 0) bytes = 16;
    size_t a = bytes <= ((size_t)1 << 20) ? VOX_HEAP_ALIGN : VOX_HEAP_LARGE_ALIGN;
    return (bytes + a - 1) / a * a;
}

static size_t slot_of(size_t cap, CUdeviceptr p) {
    return (size_t)(((uint64_t)p >> 8) * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

/* ---- the live blocks: address -> size and chunk, open addressing with linear probing (key 0 = empty) ---- */

static void live_insert(CUdeviceptr *key, size_t *len, int *chunk, size_t cap, CUdeviceptr p, size_t size, int ch) {
    size_t j = slot_of(cap, p);
    while (key[j]) j = (j + 1) & (cap - 1);
    key[j] = p;
    len[j] = size;
    chunk[j] = ch;
}

static int live_put(vox_heap *h, CUdeviceptr p, size_t size, int ch) {
    if (2 * (h->n + 1) > h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        CUdeviceptr *key = calloc(cap, sizeof *key);
        size_t *len = malloc(cap * sizeof *len);
        int *chunk = malloc(cap * sizeof *chunk);
        if (!key || !len || !chunk) {
            free(key);
            free(len);
            free(chunk);
            return VOX_ENOMEM;
        }
        for (size_t i = 0; i < h->cap; i++)
            if (h->key[i]) live_insert(key, len, chunk, cap, h->key[i], h->len[i], h->chunk_of[i]);
        free(h->key);
        free(h->len);
        free(h->chunk_of);
        h->key = key;
        h->len = len;
        h->chunk_of = chunk;
        h->cap = cap;
    }
    live_insert(h->key, h->len, h->chunk_of, h->cap, p, size, ch);
    h->n++;
    return 0;
}

/* Remove p: its size (0 when it is not a live block) and chunk. */
static size_t live_take(vox_heap *h, CUdeviceptr p, int *ch) {
    if (!h->cap) return 0;
    size_t m = h->cap - 1, j = slot_of(h->cap, p);
    while (h->key[j] && h->key[j] != p) j = (j + 1) & m;
    if (!h->key[j]) return 0;
    size_t size = h->len[j];
    *ch = h->chunk_of[j];
    h->key[j] = 0;
    h->n--;
    /* backward shift: move later entries of the probe run into the hole when their home allows */
    for (size_t i = (j + 1) & m; h->key[i]; i = (i + 1) & m) {
        size_t home = slot_of(h->cap, h->key[i]);
        if (((i - home) & m) >= ((i - j) & m)) {
            h->key[j] = h->key[i];
            h->len[j] = h->len[i];
            h->chunk_of[j] = h->chunk_of[i];
            h->key[i] = 0;
            j = i;
        }
    }
    return size;
}

/* ---- freed blocks by size ---- */

static struct vox_heap_bin *bin_of(vox_heap *h, size_t size, int make) {
    for (int i = 0; i < h->n_bin; i++)
        if (h->bin[i].size == size) return &h->bin[i];
    if (!make) return NULL;
    if (h->n_bin == h->cap_bin) {
        int cap = h->cap_bin ? 2 * h->cap_bin : 32;
        struct vox_heap_bin *b = realloc(h->bin, (size_t)cap * sizeof *b);
        if (!b) return NULL;
        h->bin = b;
        h->cap_bin = cap;
    }
    struct vox_heap_bin *b = &h->bin[h->n_bin++];
    memset(b, 0, sizeof *b);
    b->size = size;
    return b;
}

/* Keep a freed block; 0 when there is no host memory to (the caller gives it back). */
static int bin_push(vox_heap *h, size_t size, heap_block k) {
    struct vox_heap_bin *b = bin_of(h, size, 1);
    if (b && b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 16;
        heap_block *q = realloc(b->b, (size_t)cap * sizeof *q);
        if (!q) return 0;
        b->b = q;
        b->cap = cap;
    }
    if (!b) return 0;
    b->b[b->n++] = k;
    return 1;
}

/* Give back what the heap keeps and no buffer uses: the kept blocks of their own and the chunks
 * without a live block (after the queued work that may read them). */
static void release_unused(vox_cuda_t *c) {
    vox_heap *h = &c->heap;
    c->api.cuStreamSynchronize(c->stream);
    for (int i = 0; i < h->n_chunk; i++)
        if (h->chunk[i].base && h->chunk[i].live == 0) {
            c->api.cuMemFree_v2(h->chunk[i].base);
            h->chunk[i].base = 0;
        }
    for (int i = 0; i < h->n_bin; i++) {
        struct vox_heap_bin *b = &h->bin[i];
        int k = 0;
        for (int j = 0; j < b->n; j++) {
            heap_block x = b->b[j];
            if (x.chunk < 0)
                c->api.cuMemFree_v2(x.p);
            else if (h->chunk[x.chunk].base)
                b->b[k++] = x;
        }
        b->n = k;
    }
}

/* A driver allocation; when the device is full, once more after releasing what is unused. */
static CUresult driver_alloc(vox_cuda_t *c, CUdeviceptr *p, size_t bytes) {
    CUresult r = c->api.cuMemAlloc_v2(p, bytes);
    if (r == CUDA_ERROR_OUT_OF_MEMORY && c->heap.on) {
        release_unused(c);
        r = c->api.cuMemAlloc_v2(p, bytes);
    }
    return r;
}

/* A carved block: from the first chunk with room, or a new chunk. */
static CUresult carve(vox_cuda_t *c, size_t size, CUdeviceptr *p, int *ch) {
    vox_heap *h = &c->heap;
    int free_slot = -1;
    for (int i = 0; i < h->n_chunk; i++) {
        struct vox_heap_chunk *k = &h->chunk[i];
        if (!k->base) {
            if (free_slot < 0) free_slot = i;
        } else if (VOX_HEAP_CHUNK - k->used >= size) {
            *p = k->base + k->used;
            k->used += size;
            k->live++;
            *ch = i;
            return CUDA_SUCCESS;
        }
    }
    if (free_slot < 0) {
        if (h->n_chunk == h->cap_chunk) {
            int cap = h->cap_chunk ? 2 * h->cap_chunk : 64;
            struct vox_heap_chunk *k = realloc(h->chunk, (size_t)cap * sizeof *k);
            if (!k) return CUDA_ERROR_OUT_OF_MEMORY;
            h->chunk = k;
            h->cap_chunk = cap;
        }
        free_slot = h->n_chunk++;
        h->chunk[free_slot].base = 0;
    }
    CUdeviceptr base = 0;
    CUresult r = driver_alloc(c, &base, VOX_HEAP_CHUNK);
    if (r != CUDA_SUCCESS) return r;
    h->chunk[free_slot] = (struct vox_heap_chunk){base, size, 1};
    *p = base;
    *ch = free_slot;
    return CUDA_SUCCESS;
}

void vox_cuda_heap_init(vox_cuda_t *c) {
    const char *e = getenv("VOX_CUDA_HEAP");
    c->heap.on = !(e && !strcmp(e, "0"));
}

/* A block no longer live: kept in its size's bin, or (heap off, or no host memory to keep it) back
 * to the driver, when it is a driver allocation of its own. */
static void put_back(vox_cuda_t *c, CUdeviceptr p, size_t size, int ch) {
    vox_heap *h = &c->heap;
    if (ch >= 0) h->chunk[ch].live--;
    if (h->on && bin_push(h, size, (heap_block){p, ch})) return;
    if (ch < 0) c->api.cuMemFree_v2(p);
}

void *vox_cuda_malloc(vox_backend_t *be, size_t bytes) {
    vox_cuda_t *c = vox_cuda(be);
    vox_heap *h = &c->heap;
    if (c->capturing) {
        vox_fail(&be->err, VOX_EINTERNAL,
                 "device allocation of %zu bytes during graph capture. "
                 "Allocate buffers before graph_begin",
                 bytes);
        return NULL;
    }
    size_t size = rounded(bytes);
    CUdeviceptr p = 0;
    int ch = -1;
    CUresult r = c->api.cuCtxSetCurrent(c->ctx);
    struct vox_heap_bin *b = h->on ? bin_of(h, size, 0) : NULL;
    if (r != CUDA_SUCCESS) {
        /* reported below */
    } else if (b && b->n > 0) {
        heap_block k = b->b[--b->n];
        p = k.p;
        ch = k.chunk;
        if (ch >= 0) h->chunk[ch].live++;
    } else if (h->on && size <= VOX_HEAP_CARVED) {
        r = carve(c, size, &p, &ch);
        if (r == CUDA_ERROR_OUT_OF_MEMORY) /* no room for a chunk (what is unused was released): the block alone */
            r = c->api.cuMemAlloc_v2(&p, size);
    } else {
        r = driver_alloc(c, &p, size);
    }
    if (r != CUDA_SUCCESS) {
        vox_cuda_fail_cu(be, r, "cuMemAlloc_v2", __FILE__, __LINE__);
        return NULL;
    }
    if (live_put(h, p, size, ch)) {
        put_back(c, p, size, ch);
        vox_fail(&be->err, VOX_ENOMEM, "out of host memory for the device heap. Free memory");
        return NULL;
    }
    c->bytes_in_use += size;
    return (void *)(uintptr_t)p;
}

void vox_cuda_mfree(vox_backend_t *be, void *p) {
    vox_cuda_t *c = vox_cuda(be);
    if (!p) return;
    int ch = -1;
    size_t size = live_take(&c->heap, (CUdeviceptr)(uintptr_t)p, &ch);
    if (!size) return; /* not ours (a bug elsewhere): leave it alone */
    c->bytes_in_use -= size <= c->bytes_in_use ? size : c->bytes_in_use;
    c->api.cuCtxSetCurrent(c->ctx);
    put_back(c, (CUdeviceptr)(uintptr_t)p, size, ch);
}

/* After every buffer was freed: everything back to the driver (blocks still live too). */
void vox_cuda_heap_destroy(vox_cuda_t *c) {
    vox_heap *h = &c->heap;
    for (size_t i = 0; i < h->cap; i++)
        if (h->key[i] && h->chunk_of[i] < 0) c->api.cuMemFree_v2(h->key[i]);
    for (int i = 0; i < h->n_bin; i++) {
        for (int j = 0; j < h->bin[i].n; j++)
            if (h->bin[i].b[j].chunk < 0) c->api.cuMemFree_v2(h->bin[i].b[j].p);
        free(h->bin[i].b);
    }
    for (int i = 0; i < h->n_chunk; i++)
        if (h->chunk[i].base) c->api.cuMemFree_v2(h->chunk[i].base);
    free(h->key);
    free(h->len);
    free(h->chunk_of);
    free(h->bin);
    free(h->chunk);
    memset(h, 0, sizeof *h);
}
