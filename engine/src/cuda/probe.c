/* probe.c — `voxtral --info` support: what CUDA pieces this machine has, without a model.
 * Writes the value of the "cuda" key of the --info object (see the CLI contract):
 * {"available", "reason", "libcuda", "driver_version", "libcublas", "libcublasLt",
 *  "cublas_version", "devices": [{"index", "name", "cc", "total_mb", "free_mb"}]}.
 * "available" means the CUDA backend can start on device 0 (libraries, driver, a GPU, and
 * kernels for its architecture); otherwise "reason" says why, with the fix.
 * Returns 0, or VOX_EINTERNAL when buf is too small. */
#include "cuda_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t cap, len;
    int overflow;
} jbuf;

static void jprintf(jbuf *j, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = j->len < j->cap ? j->cap - j->len : 0;
    int n = vsnprintf(j->buf + j->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        j->overflow = 1;
    else
        j->len += (size_t)n;
}

/* A JSON string (or null for NULL / empty). */
static void jstr(jbuf *j, const char *s) {
    if (!s || !*s) {
        jprintf(j, "null");
        return;
    }
    jprintf(j, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            jprintf(j, "\\%c", ch);
        else if (ch < 0x20)
            jprintf(j, "\\u%04x", ch);
        else
            jprintf(j, "%c", ch);
    }
    jprintf(j, "\"");
}

static void list_devices(jbuf *j, vox_cu_api *a, int count, char *reason, size_t rcap) {
    jprintf(j, "[");
    for (int i = 0; i < count; i++) {
        CUdevice d;
        char name[256] = "";
        int maj = 0, min = 0;
        size_t total = 0, fr = 0;
        CUcontext ctx = NULL;
        if (a->cuDeviceGet(&d, i) != CUDA_SUCCESS) continue;
        a->cuDeviceGetName(name, sizeof name, d);
        a->cuDeviceGetAttribute(&maj, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
        a->cuDeviceGetAttribute(&min, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
        a->cuDeviceTotalMem_v2(&total, d);
        if (a->cuDevicePrimaryCtxRetain(&ctx, d) == CUDA_SUCCESS) {
            if (a->cuCtxSetCurrent(ctx) == CUDA_SUCCESS) a->cuMemGetInfo_v2(&fr, &total);
            a->cuCtxSetCurrent(NULL);
            a->cuDevicePrimaryCtxRelease_v2(d);
        }
        if (i == 0 && !reason[0]) {
            const char *archs = vox_cuda_archs();
            char want[16];
            snprintf(want, sizeof want, "sm_%d", maj * 10 + min);
            int ok = vox_cuda_archs_cover(maj, min);
            if (!archs[0])
                snprintf(reason, rcap,
                         "this binary has no CUDA kernels embedded. Rebuild with "
                         "`make -C engine cuda`");
            else if (!ok)
                snprintf(reason, rcap,
                         "%s (%s) is not among the embedded architectures %s. Rebuild "
                         "with `make -C engine cuda ARCH=native`",
                         name, want, archs);
        }
        jprintf(j, "%s{\"index\": %d, \"name\": ", i ? ", " : "", i);
        jstr(j, name);
        jprintf(j, ", \"cc\": \"%d.%d\", \"total_mb\": %zu, \"free_mb\": %zu}", maj, min, total >> 20, fr >> 20);
    }
    jprintf(j, "]");
}

int vox_cuda_probe_json(char *buf, size_t cap) {
    jbuf j = {buf, cap, 0, 0};
    char reason[700] = "";
    vox_cu_api drv, full;
    int have_drv = vox_cu_load(&drv, 0, reason, sizeof reason) == 0;
    int have_full = 0, driver_version = 0, count = 0, blas_version = 0;
    char blas_reason[700] = "";
    if (have_drv) {
        drv.cuDriverGetVersion(&driver_version);
        have_full = vox_cu_load(&full, 1, blas_reason, sizeof blas_reason) == 0;
        CUresult r = drv.cuInit(0);
        if (r == CUDA_SUCCESS) r = drv.cuDeviceGetCount(&count);
        if (r != CUDA_SUCCESS || count == 0) {
            char es[200];
            vox_cu_errstr(&drv, r, es, sizeof es);
            if (r == CUDA_ERROR_STUB_LIBRARY)
                snprintf(reason, sizeof reason,
                         "%.300s is the CUDA toolkit's stub, not the driver (%s). Remove "
                         "its folder from LD_LIBRARY_PATH; on WSL2 put /usr/lib/wsl/lib first",
                         drv.path_cuda, es);
            else
                snprintf(reason, sizeof reason,
                         "no CUDA GPU usable (%s). Check nvidia-smi; in a container "
                         "pass the GPU through (--gpus all)",
                         r == CUDA_SUCCESS ? "0 devices" : es);
            count = 0;
        } else if (!have_full) {
            snprintf(reason, sizeof reason, "%s", blas_reason);
        }
        if (have_full) {
            int maj = 0, min = 0, pat = 0;
            full.cublasGetProperty(VOX_LIBPROP_MAJOR, &maj);
            full.cublasGetProperty(VOX_LIBPROP_MINOR, &min);
            full.cublasGetProperty(VOX_LIBPROP_PATCH, &pat);
            blas_version = maj * 10000 + min * 100 + pat;
        }
    }
    jprintf(&j, "{\"available\": ");
    char devices[4096] = "[]";
    if (have_drv && count > 0) {
        jbuf dj = {devices, sizeof devices, 0, 0};
        list_devices(&dj, &drv, count, reason, sizeof reason);
        if (dj.overflow) snprintf(devices, sizeof devices, "[]");
    }
    jprintf(&j, "%s, \"reason\": ", reason[0] ? "false" : "true");
    jstr(&j, reason);
    jprintf(&j, ", \"libcuda\": ");
    jstr(&j, have_drv ? drv.path_cuda : NULL);
    if (driver_version)
        jprintf(&j, ", \"driver_version\": %d", driver_version);
    else
        jprintf(&j, ", \"driver_version\": null");
    jprintf(&j, ", \"libcublas\": ");
    jstr(&j, have_full ? full.path_cublas : NULL);
    jprintf(&j, ", \"libcublasLt\": ");
    jstr(&j, have_full ? full.path_cublaslt : NULL);
    if (blas_version)
        jprintf(&j, ", \"cublas_version\": %d", blas_version);
    else
        jprintf(&j, ", \"cublas_version\": null");
    jprintf(&j, ", \"devices\": %s}", devices);
    if (have_full) vox_cu_unload(&full);
    if (have_drv) vox_cu_unload(&drv);
    return j.overflow ? VOX_EINTERNAL : 0;
}
