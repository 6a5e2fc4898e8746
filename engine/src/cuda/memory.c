/* memory.c — device buffers, host<->device copies, weights (BF16 on the device), KV rings.
 *
 * Weights: matrices (ndim >= 2) are stored BF16 [rows, cols] with cols = product of the
 * trailing dims (a conv weight [out, in, 3] becomes [out, in*3], matching im2col_k3); BF16
 * tensors are copied as they are, F16/F32 ones rounded to BF16 once here. Vectors (norm
 * weights, biases) are stored F32. Nothing is converted again after load. */
#define _POSIX_C_SOURCE 200809L
#include "cuda_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cpu_pool.h"

int vox_cuda_reserve(vox_backend_t *be, void **buf, size_t *cap_bytes, size_t need, const char *what) {
    vox_cuda_t *c = vox_cuda(be);
    if (need <= *cap_bytes) return 0;
    if (c->capturing)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "%s needs %zu bytes more scratch during graph capture. "
                        "Run the same step once before graph_begin",
                        what, need);
    /* no wait for queued work that may still read it: the heap reuses it only in stream order */
    if (c->graphs > 0 && *buf) {
        if (c->n_retired == VOX_RETIRED_MAX)
            return vox_fail(&be->err, VOX_EINTERNAL,
                            "%s scratch regrown more than %d times while CUDA "
                            "graphs exist. This is a bug; please report it",
                            what, VOX_RETIRED_MAX);
        c->retired[c->n_retired++] = *buf;
    } else {
        vox_cuda_mfree(be, *buf);
    }
    *buf = NULL;
    *cap_bytes = 0;
    size_t bytes = need + need / 4;
    if (!(*buf = vox_cuda_malloc(be, bytes))) return be->err.code;
    *cap_bytes = bytes;
    if (be->debug) fprintf(stderr, "voxtral: debug: cuda: %s scratch grown to %zu KiB\n", what, bytes >> 10);
    return 0;
}

float *vox_cuda_alloc(vox_backend_t *be, size_t n) { return vox_cuda_malloc(be, n * sizeof(float)); }
int32_t *vox_cuda_alloc_i32(vox_backend_t *be, size_t n) { return vox_cuda_malloc(be, n * sizeof(int32_t)); }
void vox_cuda_free(vox_backend_t *be, void *p) { vox_cuda_mfree(be, p); }

/* Pageable source: the call returns once src has been staged, so the caller may reuse it. */
int vox_cuda_upload(vox_backend_t *be, void *dst, const void *src, size_t bytes) {
    vox_cuda_t *c = vox_cuda(be);
    if (bytes == 0) return 0;
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    CU_CHECK(be, c->api.cuMemcpyHtoDAsync_v2((CUdeviceptr)(uintptr_t)dst, src, bytes, c->stream));
    return 0;
}

int vox_cuda_download(vox_backend_t *be, void *dst, const void *src, size_t bytes) {
    vox_cuda_t *c = vox_cuda(be);
    if (c->capturing)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "download during graph capture (it must wait for the "
                        "device). Download after graph_launch");
    if (bytes == 0) return 0;
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    CU_CHECK(be, c->api.cuMemcpyDtoHAsync_v2(dst, (CUdeviceptr)(uintptr_t)src, bytes, c->stream));
    CU_CHECK(be, c->api.cuStreamSynchronize(c->stream));
    return 0;
}

/* A copy kernel for 16-byte aligned sizes (faster than the copy engine on device memory),
 * cuMemcpyDtoDAsync otherwise. */
int vox_cuda_copy(vox_backend_t *be, void *dst, const void *src, size_t bytes) {
    vox_cuda_t *c = vox_cuda(be);
    if (bytes == 0) return 0;
    if ((((uintptr_t)dst | (uintptr_t)src | bytes) & 15) == 0) {
        long long n16 = (long long)(bytes / 16);
        void *args[] = {&dst, &src, &n16};
        return vox_cuda_launch(be, c->k.k_copy16, vox_cuda_grid(c, bytes / 16), 1, 1, 256, args);
    }
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    CU_CHECK(be,
             c->api.cuMemcpyDtoDAsync_v2((CUdeviceptr)(uintptr_t)dst, (CUdeviceptr)(uintptr_t)src, bytes, c->stream));
    return 0;
}

static float elem_f32(const vox_tensor_t *t, size_t i) {
    const uint16_t *h = t->data;
    switch (t->dtype) {
    case VOX_DT_BF16: return vox_bf16_to_f32(h[i]);
    case VOX_DT_F16: return vox_f16_to_f32(h[i]);
    default: return ((const float *)t->data)[i];
    }
}

/* Weight staging. A pageable upload is one thread copying the checkpoint's mapped pages (taking
 * their page faults) into the driver's staging, about 5 GB/s; the 9 GB model then spends most of
 * its load there. Instead up to 8 threads copy each 64 MB piece into one of two pinned buffers
 * while the copy engine moves the other one to the device. Tensors under 1 MB go up pageable. */
enum { STAGE_BYTES = 64 << 20, STAGE_MIN_BYTES = 1 << 20, STAGE_THREADS = 8 };

typedef struct {
    char *dst;
    const char *src;
    size_t n;
} stage_job;

/* Thread t of nt copies its page-aligned share of the piece. */
static void stage_part(void *ctx, int t, int nt) {
    const stage_job *j = ctx;
    size_t per = (j->n / (size_t)nt + 4095) & ~(size_t)4095, lo = per * (size_t)t;
    if (lo < j->n) memcpy(j->dst + lo, j->src + lo, j->n - lo < per ? j->n - lo : per);
}

void vox_cuda_weights_done(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    if (c->stage[0] || c->stage[1]) {
        c->api.cuCtxSetCurrent(c->ctx);
        c->api.cuStreamSynchronize(c->stream); /* the last pieces are still on their way */
    }
    for (int b = 0; b < 2; b++) {
        if (c->stage[b]) c->api.cuMemFreeHost(c->stage[b]);
        if (c->stage_done[b]) c->api.cuEventDestroy_v2(c->stage_done[b]);
        c->stage[b] = NULL;
        c->stage_done[b] = NULL;
    }
    if (c->stage_pool) vox_pool_free(c->stage_pool);
    c->stage_pool = NULL;
}

static int stage_open(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    if (c->stage_pool) return 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cpus < 1 ? 1 : cpus > STAGE_THREADS ? STAGE_THREADS : (int)cpus;
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    for (int b = 0; b < 2; b++) {
        CUresult r = c->api.cuMemAllocHost_v2(&c->stage[b], STAGE_BYTES);
        if (r == CUDA_SUCCESS) r = c->api.cuEventCreate(&c->stage_done[b], CU_EVENT_DISABLE_TIMING);
        if (r != CUDA_SUCCESS) {
            vox_cuda_weights_done(be);
            return vox_cuda_fail_cu(be, r, "cuMemAllocHost (128 MB of pinned staging for the weights)", __FILE__,
                                    __LINE__);
        }
    }
    if (!(c->stage_pool = vox_pool_new(threads))) {
        vox_cuda_weights_done(be);
        return vox_fail(&be->err, VOX_ENOMEM, "cannot start the weight upload threads. Free memory");
    }
    c->stage_next = 0;
    return 0;
}

/* Like vox_cuda_upload (src may be reused when it returns), through the pinned staging. */
static int upload_staged(vox_backend_t *be, void *dst, const void *src, size_t bytes) {
    vox_cuda_t *c = vox_cuda(be);
    if (!VOX_CUDA_STAGE || bytes < STAGE_MIN_BYTES) return vox_cuda_upload(be, dst, src, bytes);
    int rc = stage_open(be);
    if (rc) return rc;
    for (size_t off = 0; off < bytes; off += STAGE_BYTES) {
        int b = c->stage_next;
        c->stage_next ^= 1;
        stage_job j = {c->stage[b], (const char *)src + off, bytes - off < STAGE_BYTES ? bytes - off : STAGE_BYTES};
        CU_CHECK(be, c->api.cuEventSynchronize(c->stage_done[b])); /* its previous piece has left */
        vox_pool_run(c->stage_pool, stage_part, &j);
        CU_CHECK(be, c->api.cuMemcpyHtoDAsync_v2((CUdeviceptr)(uintptr_t)dst + off, j.dst, j.n, c->stream));
        CU_CHECK(be, c->api.cuEventRecord(c->stage_done[b], c->stream));
    }
    return 0;
}

int vox_cuda_weight_upload(vox_backend_t *be, const vox_tensor_t *t, vox_bweight_t **out) {
    *out = NULL;
    vox_bweight_t *w = calloc(1, sizeof *w);
    if (!w) return vox_fail(&be->err, VOX_ENOMEM, "out of host memory for weight %s. Free memory", t->name);
    w->rows = t->shape[0];
    w->cols = 1;
    for (int i = 1; i < t->ndim; i++) w->cols *= t->shape[i];
    w->is_f32 = t->ndim == 1;
    size_t count = (size_t)w->rows * (size_t)w->cols;
    size_t bytes = count * (w->is_f32 ? 4 : 2);
    const void *src = t->data;
    void *tmp = NULL;
    if (w->is_f32 ? t->dtype != VOX_DT_F32 : t->dtype != VOX_DT_BF16) {
        /* One conversion at load: vectors to F32, matrices to BF16 (round to nearest even). */
        if (!(tmp = malloc(bytes))) {
            free(w);
            return vox_fail(&be->err, VOX_ENOMEM, "out of host memory converting %s. Free memory", t->name);
        }
        for (size_t i = 0; i < count; i++) {
            float v = elem_f32(t, i);
            if (w->is_f32)
                ((float *)tmp)[i] = v;
            else
                ((uint16_t *)tmp)[i] = vox_f32_to_bf16(v);
        }
        src = tmp;
        if (be->debug && !w->is_f32)
            fprintf(stderr, "voxtral: debug: cuda: weight %s converted to bf16 at load\n", t->name);
    }
    int rc = 0;
    if (!(w->d = vox_cuda_malloc(be, bytes)))
        rc = be->err.code;
    else
        rc = upload_staged(be, w->d, src, bytes);
    if (tmp) {
        /* staged (upload_staged returns once src is copied), so tmp may go */
        free(tmp);
    }
    if (rc != 0) {
        vox_cuda_weight_free(be, w);
        return rc;
    }
    *out = w;
    return 0;
}

void vox_cuda_weight_free(vox_backend_t *be, vox_bweight_t *w) {
    if (!w) return;
    vox_cuda_mfree(be, w->d);
    free(w);
}

/* Attention split partials never exceed 4 * SMs * 16 rows * (head_dim + 2) floats (see
 * attention.c), so reserving that here keeps attention free of allocation (graph capture). */
vox_kv_t *vox_cuda_kv_new(vox_backend_t *be, int capacity, int room, int n_kv_heads, int head_dim) {
    vox_cuda_t *c = vox_cuda(be);
    vox_kv_t *kv = calloc(1, sizeof *kv);
    if (!kv) {
        vox_fail(&be->err, VOX_ENOMEM, "out of host memory for a KV cache. Free memory");
        return NULL;
    }
    kv->full = capacity;
    kv->capacity = room < 1 ? 1 : room < capacity ? room : capacity;
    kv->n_kv_heads = n_kv_heads;
    kv->head_dim = head_dim;
    size_t elems = (size_t)kv->capacity * n_kv_heads * head_dim;
    kv->k = vox_cuda_malloc(be, elems * 2);
    kv->v = kv->k ? vox_cuda_malloc(be, elems * 2) : NULL;
    size_t part = (size_t)4 * c->sm_count * 16 * (head_dim + 2) * sizeof(float);
    if (!kv->v || vox_cuda_reserve(be, (void **)&c->attn_part, &c->attn_part_cap, part, "attention") != 0) {
        vox_cuda_kv_free(be, kv);
        return NULL;
    }
    if (be->debug)
        fprintf(stderr,
                "voxtral: debug: cuda: KV ring %d of %d positions x %d heads x %d (bf16), %zu MiB; "
                "backend holds %zu MiB\n",
                kv->capacity, capacity, n_kv_heads, head_dim, (elems * 4) >> 20, c->bytes_in_use >> 20);
    return kv;
}

/* New buffers of at least twice the slots (or the whole ring), the written slots copied in stream
 * order; the old ones are freed at once (heap.c: reused only by work queued after the copies). */
int64_t vox_cuda_kv_grow(vox_backend_t *be, vox_kv_t *kv, int64_t positions) {
    vox_cuda_t *c = vox_cuda(be);
    if (positions <= kv->capacity || kv->capacity == kv->full) return kv->capacity;
    int64_t want = positions > 2LL * kv->capacity ? positions : 2LL * kv->capacity;
    int cap = want < kv->full ? (int)want : kv->full;
    size_t row = (size_t)kv->n_kv_heads * kv->head_dim * 2, old = (size_t)kv->capacity * row;
    uint16_t *k = vox_cuda_malloc(be, (size_t)cap * row), *v = k ? vox_cuda_malloc(be, (size_t)cap * row) : NULL;
    int rc = v ? vox_cuda_copy(be, k, kv->k, old) : be->err.code;
    if (!rc) rc = vox_cuda_copy(be, v, kv->v, old);
    if (rc) {
        vox_cuda_mfree(be, k);
        vox_cuda_mfree(be, v);
        return rc;
    }
    vox_cuda_mfree(be, kv->k);
    vox_cuda_mfree(be, kv->v);
    kv->k = k;
    kv->v = v;
    kv->capacity = cap;
    if (be->debug)
        fprintf(stderr, "voxtral: debug: cuda: KV ring grown to %d of %d positions; backend holds %zu MiB\n", cap,
                kv->full, c->bytes_in_use >> 20);
    return cap;
}

void vox_cuda_kv_free(vox_backend_t *be, vox_kv_t *kv) {
    if (!kv) return;
    vox_cuda_mfree(be, kv->k);
    vox_cuda_mfree(be, kv->v);
    free(kv);
}
