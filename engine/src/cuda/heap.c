/* heap.c — the backend's device memory: every buffer the engine allocates goes through here.
 *
 * A stream holds a few hundred device buffers (its KV rings, scratch, the decoder's ada scales),
 * and the driver's cuMemAlloc costs tens of microseconds each while cuMemFree waits for the
 * device: on the H200, opening 128 streams at once took 1.4 s, and closing them stalled the
 * streams still running. So:
 *  - a freed block is kept for the next request of its (rounded) size; nothing goes back to the
 *    driver until the backend is destroyed, or an allocation finds the device full (then the kept
 *    large blocks are released and the allocation retried);
 *  - blocks up to VOX_HEAP_SMALL bytes are carved from slabs of VOX_HEAP_SLAB bytes.
 * All work of a backend runs on its one stream, so a block freed while queued kernels still read
 * it is reused only by work queued after them: no wait is needed.
 *
 * VOX_CUDA_HEAP=0 in the environment makes every buffer its own driver allocation, freed at once:
 * compute-sanitizer's bounds checks then see each buffer (gpu-check sets it for its sanitizer runs). */
#include "cuda_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOX_HEAP_ALIGN       256                /* small blocks: multiples of this */
#define VOX_HEAP_LARGE_ALIGN ((size_t)64 << 10) /* large blocks: multiples of this */
#define VOX_HEAP_SMALL       ((size_t)1 << 20)
#define VOX_HEAP_SLAB        ((size_t)32 << 20)

struct vox_heap_bin {
    size_t size;
    CUdeviceptr *p;
    int n, cap;
};

static size_t rounded(size_t bytes) {
    if (bytes == 0) bytes = 16;
    size_t a = bytes <= VOX_HEAP_SMALL ? VOX_HEAP_ALIGN : VOX_HEAP_LARGE_ALIGN;
    return (bytes + a - 1) / a * a;
}

static size_t slot_of(const vox_heap *h, CUdeviceptr p) {
    return (size_t)(((uint64_t)p >> 8) * 0x9E3779B97F4A7C15ull >> 20) & (h->cap - 1);
}

/* The live blocks: address -> size, open addressing with linear probing (key 0 = empty). */
static int live_put(vox_heap *h, CUdeviceptr p, size_t size) {
    if (2 * (h->n + 1) > h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        vox_heap grown = *h;
        grown.cap = cap;
        grown.n = 0;
        grown.key = calloc(cap, sizeof *grown.key);
        grown.len = calloc(cap, sizeof *grown.len);
        if (!grown.key || !grown.len) {
            free(grown.key);
            free(grown.len);
            return VOX_ENOMEM;
        }
        for (size_t i = 0; i < h->cap; i++)
            if (h->key[i]) {
                size_t j = slot_of(&grown, h->key[i]);
                while (grown.key[j]) j = (j + 1) & (cap - 1);
                grown.key[j] = h->key[i];
                grown.len[j] = h->len[i];
                grown.n++;
            }
        free(h->key);
        free(h->len);
        *h = grown;
    }
    size_t j = slot_of(h, p);
    while (h->key[j]) j = (j + 1) & (h->cap - 1);
    h->key[j] = p;
    h->len[j] = size;
    h->n++;
    return 0;
}

/* Remove p; its size, or 0 when it is not a live block. */
static size_t live_take(vox_heap *h, CUdeviceptr p) {
    if (!h->cap) return 0;
    size_t m = h->cap - 1, j = slot_of(h, p);
    while (h->key[j] && h->key[j] != p) j = (j + 1) & m;
    if (!h->key[j]) return 0;
    size_t size = h->len[j];
    h->key[j] = 0;
    h->n--;
    /* backward shift: move later entries of the probe run into the hole when their home allows */
    for (size_t i = (j + 1) & m; h->key[i]; i = (i + 1) & m) {
        size_t home = slot_of(h, h->key[i]);
        if (((i - home) & m) >= ((i - j) & m)) {
            h->key[j] = h->key[i];
            h->len[j] = h->len[i];
            h->key[i] = 0;
            j = i;
        }
    }
    return size;
}

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

/* Give the kept large blocks back to the driver (after the queued work that may read them). */
static void release_large(vox_cuda_t *c) {
    vox_heap *h = &c->heap;
    c->api.cuStreamSynchronize(c->stream);
    for (int i = 0; i < h->n_bin; i++) {
        struct vox_heap_bin *b = &h->bin[i];
        if (b->size <= VOX_HEAP_SMALL) continue;
        for (int k = 0; k < b->n; k++) c->api.cuMemFree_v2(b->p[k]);
        b->n = 0;
    }
}

/* A driver allocation; when the device is full, once more after releasing the kept blocks. */
static CUresult driver_alloc(vox_cuda_t *c, CUdeviceptr *p, size_t bytes) {
    CUresult r = c->api.cuMemAlloc_v2(p, bytes);
    if (r == CUDA_ERROR_OUT_OF_MEMORY && c->heap.on) {
        release_large(c);
        r = c->api.cuMemAlloc_v2(p, bytes);
    }
    return r;
}

void vox_cuda_heap_init(vox_cuda_t *c) {
    const char *e = getenv("VOX_CUDA_HEAP");
    c->heap.on = !(e && !strcmp(e, "0"));
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
    CUresult r = c->api.cuCtxSetCurrent(c->ctx);
    struct vox_heap_bin *b = h->on ? bin_of(h, size, 0) : NULL;
    if (r == CUDA_SUCCESS && b && b->n > 0) {
        p = b->p[--b->n];
    } else if (r == CUDA_SUCCESS && h->on && size <= VOX_HEAP_SMALL) {
        if (h->left < size) { /* a new slab (the old one's tail stays unused) */
            if (h->n_slab == h->cap_slab) {
                int cap = h->cap_slab ? 2 * h->cap_slab : 16;
                CUdeviceptr *s = realloc(h->slab, (size_t)cap * sizeof *s);
                if (!s) {
                    vox_fail(&be->err, VOX_ENOMEM, "out of host memory for the device heap. Free memory");
                    return NULL;
                }
                h->slab = s;
                h->cap_slab = cap;
            }
            CUdeviceptr slab = 0;
            r = driver_alloc(c, &slab, VOX_HEAP_SLAB);
            if (r == CUDA_SUCCESS) {
                h->slab[h->n_slab++] = h->next = slab;
                h->left = VOX_HEAP_SLAB;
            }
        }
        if (r == CUDA_SUCCESS) {
            p = h->next;
            h->next += size;
            h->left -= size;
        }
    } else if (r == CUDA_SUCCESS) {
        r = driver_alloc(c, &p, size);
    }
    if (r != CUDA_SUCCESS) {
        vox_cuda_fail_cu(be, r, "cuMemAlloc_v2", __FILE__, __LINE__);
        return NULL;
    }
    if (live_put(h, p, size)) {
        vox_cuda_mfree_block(c, p, size);
        vox_fail(&be->err, VOX_ENOMEM, "out of host memory for the device heap. Free memory");
        return NULL;
    }
    c->bytes_in_use += size;
    return (void *)(uintptr_t)p;
}

/* A block no longer live: kept in its size's bin, or (heap off) back to the driver. */
void vox_cuda_mfree_block(vox_cuda_t *c, CUdeviceptr p, size_t size) {
    vox_heap *h = &c->heap;
    struct vox_heap_bin *b = h->on ? bin_of(h, size, 1) : NULL;
    if (b && b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 16;
        CUdeviceptr *q = realloc(b->p, (size_t)cap * sizeof *q);
        if (q) {
            b->p = q;
            b->cap = cap;
        }
    }
    if (b && b->n < b->cap) {
        b->p[b->n++] = p;
        return;
    }
    /* heap off, or no host memory to keep it: a large block goes back now; a slab's piece is lost
     * until the backend is destroyed */
    if (!h->on || size > VOX_HEAP_SMALL) {
        c->api.cuMemFree_v2(p);
    }
}

void vox_cuda_mfree(vox_backend_t *be, void *p) {
    vox_cuda_t *c = vox_cuda(be);
    if (!p) return;
    size_t size = live_take(&c->heap, (CUdeviceptr)(uintptr_t)p);
    if (!size) return; /* not ours (a bug elsewhere): leave it alone */
    c->bytes_in_use -= size <= c->bytes_in_use ? size : c->bytes_in_use;
    c->api.cuCtxSetCurrent(c->ctx);
    vox_cuda_mfree_block(c, (CUdeviceptr)(uintptr_t)p, size);
}

/* After every buffer was freed: everything back to the driver (large blocks still live too). */
void vox_cuda_heap_destroy(vox_cuda_t *c) {
    vox_heap *h = &c->heap;
    for (size_t i = 0; i < h->cap; i++)
        if (h->key[i] && h->len[i] > VOX_HEAP_SMALL) c->api.cuMemFree_v2(h->key[i]);
    for (int i = 0; i < h->n_bin; i++) {
        if (h->bin[i].size > VOX_HEAP_SMALL)
            for (int k = 0; k < h->bin[i].n; k++) c->api.cuMemFree_v2(h->bin[i].p[k]);
        free(h->bin[i].p);
    }
    for (int i = 0; i < h->n_slab; i++) c->api.cuMemFree_v2(h->slab[i]);
    free(h->key);
    free(h->len);
    free(h->bin);
    free(h->slab);
    memset(h, 0, sizeof *h);
}
