/* context.c — vox_backend_cuda_create: libraries, device, primary context, stream, kernels
 * module, cuBLASLt handle + workspace, position register; the ops table; error reporting.
 *
 * Device work of one backend goes to its own non-blocking stream, so two backends (two
 * streams of audio) run side by side in one process. */
#include "cuda_impl.h"
#include "../../kernels/gemv_args.cuh"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LT_WORKSPACE_BYTES ((size_t)32 << 20)

int vox_cuda_fail_cu(vox_backend_t *be, CUresult r, const char *call, const char *file, int line) {
    vox_cuda_t *c = vox_cuda(be);
    char es[200];
    vox_cu_errstr(&c->api, r, es, sizeof es);
    if (r == CUDA_ERROR_OUT_OF_MEMORY) {
        size_t fr = 0, tot = 0;
        c->api.cuMemGetInfo_v2(&fr, &tot);
        return vox_fail(&be->err, VOX_ENOMEM,
                        "out of GPU memory in %s (%s:%d): %zu MiB free of %zu MiB, this backend holds "
                        "%zu MiB. Close other GPU programs, use a GPU with more memory, or run with "
                        "--backend cpu",
                        call, file, line, fr >> 20, tot >> 20, c->bytes_in_use >> 20);
    }
    return vox_fail(&be->err, VOX_EDEVICE,
                    "CUDA call %s failed at %s:%d: %s. Check the driver (nvidia-smi) and rerun with "
                    "--debug; --backend cpu avoids the GPU",
                    call, file, line, es);
}

int vox_cuda_fail_blas(vox_backend_t *be, cublasStatus_t s, const char *call, const char *file, int line) {
    vox_cuda_t *c = vox_cuda(be);
    const char *name = c->api.cublasLtGetStatusName ? c->api.cublasLtGetStatusName(s) : NULL;
    return vox_fail(&be->err, s == 3 /* CUBLAS_STATUS_ALLOC_FAILED */ ? VOX_ENOMEM : VOX_EDEVICE,
                    "cuBLAS call %s failed at %s:%d: %s (%d). Check that libcublasLt matches the "
                    "driver's CUDA version; --backend cpu avoids the GPU",
                    call, file, line, name ? name : "error", s);
}

/* Every kernel of the backend goes through here. With c->pdl a kernel may begin while the one
 * before it drains; each kernel's first statement waits for that one (kernels/common.cuh). */
int vox_cuda_launch(vox_backend_t *be, CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                    void **args) {
    vox_cuda_t *c = vox_cuda(be);
    if (gx == 0 || gy == 0 || gz == 0) return 0; /* nothing to do (n == 0) */
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    if (!c->pdl) {
        CU_CHECK(be, c->api.cuLaunchKernel(f, gx, gy, gz, block, 1, 1, 0, c->stream, args, NULL));
        return 0;
    }
    CUlaunchAttribute attr = {.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION};
    attr.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig cfg = {gx, gy, gz, block, 1, 1, 0, c->stream, &attr, 1};
    CU_CHECK(be, c->api.cuLaunchKernelEx(&cfg, f, args, NULL));
    return 0;
}

static const char *cuda_device_name(vox_backend_t *be) { return vox_cuda(be)->name; }

static int cuda_sync(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    CU_CHECK(be, c->api.cuStreamSynchronize(c->stream));
    return 0;
}

static size_t cuda_mem_used(vox_backend_t *be) { return vox_cuda(be)->bytes_in_use; }

/* The register lives on the device and is written in stream order by a one-thread kernel, so
 * work queued before keeps the old value and a replayed graph reads the new one. It must not
 * be captured: a captured write would freeze the position inside the graph. */
static int cuda_set_pos(vox_backend_t *be, int64_t pos0) {
    vox_cuda_t *c = vox_cuda(be);
    if (c->capturing)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "set_pos called during graph capture. Call set_pos "
                        "before graph_launch, outside graph_begin/graph_end");
    long long p = pos0;
    void *args[] = {&c->pos, &p};
    return vox_cuda_launch(be, c->k.k_set_pos, 1, 1, 1, 1, args);
}

static void cuda_destroy(vox_backend_t *be) {
    if (!be) return;
    vox_cuda_t *c = vox_cuda(be);
    if (c) {
        if (c->ctx) {
            c->api.cuCtxSetCurrent(c->ctx);
            if (c->stream) c->api.cuStreamSynchronize(c->stream);
            vox_cuda_weights_done(be);
            vox_cuda_mfree(be, c->pos);
            vox_cuda_mfree(be, c->xbf);
            vox_cuda_mfree(be, c->attn_part);
            vox_cuda_mfree(be, c->rows_part);
            vox_cuda_rows_free(be);
            vox_cuda_mfree(be, c->argmax_part);
            vox_cuda_mfree(be, c->lt_ws);
            for (int i = 0; i < c->n_retired; i++) vox_cuda_mfree(be, c->retired[i]);
            vox_cuda_gemm_cache_clear(be);
            vox_cuda_heap_destroy(c);
            if (c->lt) c->api.cublasLtDestroy(c->lt);
            if (c->module) c->api.cuModuleUnload(c->module);
            if (c->stream) c->api.cuStreamDestroy_v2(c->stream);
            c->api.cuDevicePrimaryCtxRelease_v2(c->dev);
        }
        vox_cu_unload(&c->api);
        free(c);
    }
    free(be);
}

static const vox_backend_ops k_cuda_ops = {
    .name = "cuda",
    .destroy = cuda_destroy,
    .device_name = cuda_device_name,
    .alloc = vox_cuda_alloc,
    .alloc_i32 = vox_cuda_alloc_i32,
    .free = vox_cuda_free,
    .upload = vox_cuda_upload,
    .download = vox_cuda_download,
    .copy = vox_cuda_copy,
    .weight_upload = vox_cuda_weight_upload,
    .weight_free = vox_cuda_weight_free,
    .copies_weights = 1,
    .weights_done = vox_cuda_weights_done,
    .linear = vox_cuda_linear,
    .linear_multi = vox_cuda_linear_multi,
    .linear_gated = vox_cuda_linear_gated,
    .prepare_linear = vox_cuda_prepare_linear,
    .rmsnorm = vox_cuda_rmsnorm,
    .rope = vox_cuda_rope,
    .gelu = vox_cuda_gelu,
    .silu_mul = vox_cuda_silu_mul,
    .add = vox_cuda_add,
    .im2col_k3 = vox_cuda_im2col_k3,
    .embed = vox_cuda_embed,
    .argmax = vox_cuda_argmax,
    .kv_new = vox_cuda_kv_new,
    .kv_free = vox_cuda_kv_free,
    .kv_grow = vox_cuda_kv_grow,
    .kv_write = vox_cuda_kv_write,
    .rope_kv_write = vox_cuda_rope_kv_write,
    .attention = vox_cuda_attention,
    .set_pos = cuda_set_pos,
    .set_rows = vox_cuda_set_rows,
    .rope_rows = vox_cuda_rope_rows,
    .kv_write_rows = vox_cuda_kv_write_rows,
    .rope_kv_write_rows = vox_cuda_rope_kv_write_rows,
    .attention_rows = vox_cuda_attention_rows,
    .rmsnorm_rows = vox_cuda_rmsnorm_rows,
    .kv_bytes = vox_cuda_kv_bytes,
    /* Off by default: 3 to 16 rows through cuBLASLt cost only 1.6-1.8 steps on the H200, but a file
     * would then take other arithmetic paths than the same audio streamed (single steps), and at a near
     * tie the two could pick different tokens. --speculate 16 is the fast offline choice (PERF.md). */
    .spec_k = 1,
    .batch_rows = VOX_MAX_ROWS,
    .graph_begin = vox_cuda_graph_begin,
    .graph_end = vox_cuda_graph_end,
    .graph_launch = vox_cuda_graph_launch,
    .graph_free = vox_cuda_graph_free,
    .sync = cuda_sync,
    .mem_used = cuda_mem_used,
};

/* Everything after the libraries: context, stream, module, kernels, cuBLASLt, buffers. */
static int cuda_init_device(vox_backend_t *be, int index) {
    vox_cuda_t *c = vox_cuda(be);
    vox_cu_api *a = &c->api;
    int count = 0;
    CU_CHECK(be, a->cuDeviceGetCount(&count));
    if (index < 0 || index >= count)
        return vox_fail(&be->err, VOX_EDEVICE,
                        "CUDA device %d does not exist (%d found). Pick a "
                        "device index below %d",
                        index, count, count);
    CU_CHECK(be, a->cuDeviceGet(&c->dev, index));
    char dn[256] = "";
    CU_CHECK(be, a->cuDeviceGetName(dn, sizeof dn, c->dev));
    CU_CHECK(be, a->cuDeviceGetAttribute(&c->cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, c->dev));
    CU_CHECK(be, a->cuDeviceGetAttribute(&c->cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, c->dev));
    CU_CHECK(be, a->cuDeviceGetAttribute(&c->sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, c->dev));
    snprintf(c->name, sizeof c->name, "%s (sm_%d%d)", dn, c->cc_major, c->cc_minor);
    /* Programmatic dependent launch: Hopper and later, with a driver that keeps it in captured
     * graphs (12.3+). Measured on the H200: engine/PERF.md. -DVOX_CUDA_PDL=0 turns it off. */
    int drv = 0;
    CU_CHECK(be, a->cuDriverGetVersion(&drv));
    c->pdl = VOX_CUDA_PDL && c->cc_major >= 9 && drv >= 12030;

    const char *archs = vox_cuda_archs();
    if (vox_cuda_fatbin_size == 0)
        return vox_fail(&be->err, VOX_EDEVICE,
                        "this voxtral binary has no CUDA kernels embedded. "
                        "Rebuild with `make -C engine cuda` (needs nvcc)");
    if (!vox_cuda_archs_cover(c->cc_major, c->cc_minor))
        return vox_fail(&be->err, VOX_EDEVICE,
                        "%s needs kernels for sm_%d%d but this binary carries "
                        "only %s. Rebuild with `make -C engine cuda ARCH=native`",
                        c->name, c->cc_major, c->cc_minor, archs);

    CU_CHECK(be, a->cuDevicePrimaryCtxRetain(&c->ctx, c->dev));
    CU_CHECK(be, a->cuCtxSetCurrent(c->ctx));
    CU_CHECK(be, a->cuStreamCreate(&c->stream, CU_STREAM_NON_BLOCKING));
    CU_CHECK(be, a->cuModuleLoadData(&c->module, vox_cuda_fatbin));
#define GETK(field, sym) CU_CHECK(be, a->cuModuleGetFunction(&c->k.field, c->module, sym));
    VOX_KERNELS(GETK)
#undef GETK
    int gemv_blocks_per_sm = 0; /* register-bound: 4 blocks of 256 threads on sm_90 */
    CU_CHECK(be, a->cuOccupancyMaxActiveBlocksPerMultiprocessor(&gemv_blocks_per_sm, c->k.k_gemv_vec,
                                                                VOX_GEMV_WARPS * 32, 0));
    c->gemv_slots = (gemv_blocks_per_sm > 0 ? gemv_blocks_per_sm : 1) * c->sm_count * VOX_GEMV_WARPS;
    BLAS_CHECK(be, a->cublasLtCreate(&c->lt));
    c->lt_ws_bytes = LT_WORKSPACE_BYTES;
    if (!(c->lt_ws = vox_cuda_malloc(be, c->lt_ws_bytes))) return be->err.code;
    if (!(c->pos = vox_cuda_malloc(be, sizeof(int64_t)))) return be->err.code;
    if (!(c->argmax_part = vox_cuda_malloc(be, sizeof(float) * 2 * VOX_ARGMAX_ROWS * VOX_ARGMAX_CHUNKS)))
        return be->err.code;
    return vox_cuda_gemm_warmup(be);
}

int vox_backend_cuda_create(const vox_backend_opts *o, vox_backend_t **out, vox_error_t *err) {
    *out = NULL;
    vox_backend_t *be = calloc(1, sizeof *be);
    vox_cuda_t *c = calloc(1, sizeof *c);
    if (!be || !c) {
        free(be);
        free(c);
        return vox_fail(err, VOX_ENOMEM, "out of host memory creating the CUDA backend. Free memory");
    }
    be->ops = &k_cuda_ops;
    be->impl = c;
    be->debug = o->debug;
    vox_cuda_heap_init(c);

    char reason[700];
    if (vox_cu_load(&c->api, 1, reason, sizeof reason) != 0) {
        cuda_destroy(be);
        return vox_fail(err, VOX_EDEVICE, "%s", reason);
    }
    CUresult r = c->api.cuInit(0);
    if (r != CUDA_SUCCESS) {
        char es[200], path[sizeof c->api.path_cuda];
        snprintf(path, sizeof path, "%s", c->api.path_cuda);
        vox_cu_errstr(&c->api, r, es, sizeof es);
        cuda_destroy(be);
        if (r == CUDA_ERROR_NO_DEVICE)
            return vox_fail(err, VOX_EDEVICE,
                            "no CUDA GPU found (cuInit: %s). Check nvidia-smi; in a "
                            "container pass the GPU through (--gpus all)",
                            es);
        if (r == CUDA_ERROR_STUB_LIBRARY)
            return vox_fail(err, VOX_EDEVICE,
                            "%s is the CUDA toolkit's stub, not the driver (cuInit: %s). "
                            "Remove its folder from LD_LIBRARY_PATH; on WSL2 put /usr/lib/wsl/lib first",
                            path, es);
        return vox_fail(err, VOX_EDEVICE,
                        "the CUDA driver did not start (cuInit: %s). Check nvidia-smi "
                        "and that the driver matches the kernel module",
                        es);
    }
    int rc = cuda_init_device(be, o->device);
    if (rc != 0) {
        *err = be->err;
        cuda_destroy(be);
        return rc;
    }
    if (be->debug) {
        int drv = 0, ltv = (int)c->api.cublasLtGetVersion();
        c->api.cuDriverGetVersion(&drv);
        size_t fr = 0, tot = 0;
        c->api.cuMemGetInfo_v2(&fr, &tot);
        fprintf(stderr,
                "voxtral: debug: cuda: device %d %s, %d SMs, driver %d, cuBLASLt %d, "
                "%zu of %zu MiB free; kernels %s (%zu bytes), dependent launches %s; libcuda %s; libcublasLt %s\n",
                o->device, c->name, c->sm_count, drv, ltv, fr >> 20, tot >> 20, vox_cuda_archs(), vox_cuda_fatbin_size,
                c->pdl ? "on" : "off", c->api.path_cuda, c->api.path_cublaslt);
    }
    *out = be;
    return 0;
}
