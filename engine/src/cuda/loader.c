/* loader.c — dlopen libcuda, libcublasLt and libcublas at run time and resolve every entry
 * point the backend uses into a vox_cu_api table. Nothing CUDA is linked at build time, so one
 * binary starts on machines with no GPU; a missing piece yields ONE reason sentence that names
 * the file and the fix. */
#define _GNU_SOURCE
#include "cuda_api.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libs.h"

/* Where to look, in order (libs.h: shared with vox-doctor's probe). */
static const char *const k_cuda_names[] = VOX_CUDA_LIBCUDA_NAMES;
static const char *const k_lt_names[2][4] = VOX_CUDA_LIBCUBLASLT_NAMES;
static const char *const k_blas_names[2][4] = VOX_CUDA_LIBCUBLAS_NAMES;

static void *open_first(const char *const *names, char *path, size_t cap) {
    for (int i = 0; names[i]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            snprintf(path, cap, "%s", names[i]);
            return h;
        }
    }
    return NULL;
}

/* Replace the name we asked for by the file actually mapped (symlinks resolved). */
static void real_path_of(void *sym, char *path, size_t cap) {
    Dl_info info;
    char buf[PATH_MAX];
    if (sym && dladdr(sym, &info) && info.dli_fname && realpath(info.dli_fname, buf)) snprintf(path, cap, "%s", buf);
}

/* Resolve api->name from library handle h (file path p, for the message) or fail. */
#define VOX_CU_RESOLVE(h, p, name)                                                                                     \
    do {                                                                                                               \
        *(void **)&api->name = dlsym(h, #name);                                                                        \
        if (!api->name) {                                                                                              \
            snprintf(reason, cap,                                                                                      \
                     "%s has no symbol %s (too old). Install an NVIDIA "                                               \
                     "driver and CUDA runtime libraries of version 12 or 13",                                          \
                     p, #name);                                                                                        \
            goto fail;                                                                                                 \
        }                                                                                                              \
    } while (0)

int vox_cu_load(vox_cu_api *api, int want_blas, char *reason, size_t cap) {
    memset(api, 0, sizeof *api);
    api->h_cuda = open_first(k_cuda_names, api->path_cuda, sizeof api->path_cuda);
    if (!api->h_cuda) {
        snprintf(reason, cap,
                 "libcuda.so.1 not found (no NVIDIA driver). Install the NVIDIA "
                 "driver; on WSL2 add /usr/lib/wsl/lib to LD_LIBRARY_PATH");
        return -1;
    }
#define R(name, ret, args) VOX_CU_RESOLVE(api->h_cuda, api->path_cuda, name);
    VOX_CU_DRIVER_FUNCS(R)
#undef R
    real_path_of((void *)api->cuInit, api->path_cuda, sizeof api->path_cuda);
    if (!want_blas) return 0;

    /* cuBLAS 13 needs a CUDA 13 driver: on an older driver try the .12 libraries first. */
    int drv = 0;
    api->cuDriverGetVersion(&drv);
    int first = drv >= 13000 ? 0 : 1;
    int major = -1;
    for (int k = 0; k < 2 && major < 0; k++) {
        int m = k == 0 ? first : 1 - first;
        api->h_cublaslt = open_first(k_lt_names[m], api->path_cublaslt, sizeof api->path_cublaslt);
        if (api->h_cublaslt) major = m;
    }
    if (major < 0) {
        snprintf(reason, cap,
                 "libcublasLt.so.13 / .so.12 not found. Install the CUDA 13 or 12 "
                 "runtime libraries (e.g. apt install libcublas-13-0, or pip install nvidia-cublas) "
                 "and add their folder to LD_LIBRARY_PATH");
        goto fail;
    }
    api->h_cublas = open_first(k_blas_names[major], api->path_cublas, sizeof api->path_cublas);
    if (!api->h_cublas) {
        snprintf(reason, cap,
                 "%s found but %s is missing. Install the complete cuBLAS package of "
                 "the same CUDA version and add its folder to LD_LIBRARY_PATH",
                 api->path_cublaslt, k_blas_names[major][0]);
        goto fail;
    }
#define R(name, ret, args) VOX_CU_RESOLVE(api->h_cublas, api->path_cublas, name);
    VOX_CUBLAS_FUNCS(R)
#undef R
#define R(name, ret, args) VOX_CU_RESOLVE(api->h_cublaslt, api->path_cublaslt, name);
    VOX_CUBLASLT_FUNCS(R)
#undef R
    real_path_of((void *)api->cublasLtCreate, api->path_cublaslt, sizeof api->path_cublaslt);
    real_path_of((void *)api->cublasGetProperty, api->path_cublas, sizeof api->path_cublas);
    return 0;
fail:
    vox_cu_unload(api);
    return -1;
}

void vox_cu_unload(vox_cu_api *api) {
    if (api->h_cublas) dlclose(api->h_cublas);
    if (api->h_cublaslt) dlclose(api->h_cublaslt);
    if (api->h_cuda) dlclose(api->h_cuda);
    memset(api, 0, sizeof *api);
}

void vox_cu_errstr(const vox_cu_api *api, CUresult r, char *buf, size_t cap) {
    const char *name = NULL, *desc = NULL;
    if (api->cuGetErrorName) api->cuGetErrorName(r, &name);
    if (api->cuGetErrorString) api->cuGetErrorString(r, &desc);
    snprintf(buf, cap, "%s (%s)", name ? name : "CUDA error", desc ? desc : "unknown");
}
