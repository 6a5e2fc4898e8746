/* cuda-probe.c: what the engine's loader will find, checked for real and printed as one JSON line.
 * libcuda as the engine's loader finds it -> real path, cuInit(0), cuDriverGetVersion, cuDeviceGetCount;
 * then libcublasLt / libcublas in the engine's order -> real path and cublas(Lt)GetProperty versions.
 * Built and run by vox-doctor with the system C compiler; needs no CUDA headers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libs.h"

typedef int (*init_fn)(unsigned int);
typedef int (*int_out_fn)(int *);
typedef int (*err_name_fn)(int, const char **);
typedef int (*prop_fn)(int, int *); /* cublasGetProperty(libraryPropertyType, int*) */

/* Prints s as a JSON string (escapes quotes, backslashes and control characters). */
static void json_str(const char *s) {
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

/* Real path of a loaded library (resolves the symlinks the loader followed). */
static void real_path(void *h, char *out) {
    struct link_map *lm = NULL;
    strcpy(out, "?");
    if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && !realpath(lm->l_name, out))
        snprintf(out, PATH_MAX, "%s", lm->l_name);
}

/* The engine's search lists, from its own header (engine/src/cuda/libs.h; the doctor passes -I). */
static const char *const cuda_names[] = VOX_CUDA_LIBCUDA_NAMES;
static const char *const lt_names[2][4] = VOX_CUDA_LIBCUBLASLT_NAMES;
static const char *const blas_names[2][4] = VOX_CUDA_LIBCUBLAS_NAMES;

static void *open_first(const char *const *names, const char **which) {
    for (int i = 0; names[i]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            *which = names[i];
            return h;
        }
    }
    return NULL;
}

/* Prints ,"key":{"soname","path","version"} for the library of list `m`, or {"error"}. */
static void print_blas(const char *key, void *h, const char *name, const char *prop_sym) {
    printf(",\"%s\":", key);
    if (!h) {
        printf("{\"error\":");
        json_str(dlerror());
        printf("}");
        return;
    }
    char path[PATH_MAX];
    real_path(h, path);
    int v[3] = {-1, -1, -1};
    prop_fn prop = (prop_fn)dlsym(h, prop_sym);
    for (int k = 0; prop && k < 3; k++) prop(k, &v[k]);
    const char *base = strrchr(name, '/');
    printf("{\"soname\":");
    json_str(base ? base + 1 : name);
    printf(",\"opened\":");
    json_str(name);
    printf(",\"path\":");
    json_str(path);
    printf(",\"version\":[%d,%d,%d]}", v[0], v[1], v[2]);
}

int main(void) {
    const char *name = NULL;
    void *h = open_first(cuda_names, &name);
    int version = 0;
    if (!h) {
        printf("{\"libcuda\":{\"error\":");
        json_str(dlerror());
        printf("}");
    } else {
        char path[PATH_MAX];
        real_path(h, path);
        init_fn cu_init = (init_fn)dlsym(h, "cuInit");
        int_out_fn cu_version = (int_out_fn)dlsym(h, "cuDriverGetVersion");
        int_out_fn cu_count = (int_out_fn)dlsym(h, "cuDeviceGetCount");
        err_name_fn cu_err = (err_name_fn)dlsym(h, "cuGetErrorName");
        int rc = cu_init ? cu_init(0) : -1, count = 0;
        if (cu_version) cu_version(&version);
        if (rc == 0 && cu_count) cu_count(&count);
        const char *err_name = "?";
        if (cu_err && rc >= 0) cu_err(rc, &err_name);
        printf("{\"libcuda\":{\"path\":");
        json_str(path);
        printf(",\"init\":%d,\"init_name\":", rc);
        json_str(err_name);
        printf(",\"driver_version\":%d,\"devices\":%d}", version, count);
    }
    /* Like the engine: cuBLAS 13 needs a CUDA 13 driver, so an older driver tries .12 first;
     * libcublas must then be the same major as the libcublasLt found. */
    int first = version >= 13000 ? 0 : 1, major = -1;
    const char *lt_name = NULL, *blas_name = NULL;
    void *lt = NULL;
    for (int k = 0; k < 2 && !lt; k++) {
        int m = k == 0 ? first : 1 - first;
        lt = open_first(lt_names[m], &lt_name);
        if (lt) major = m;
    }
    print_blas("cublasLt", lt, lt_name, "cublasLtGetProperty");
    void *blas = open_first(blas_names[major < 0 ? first : major], &blas_name);
    print_blas("cublas", blas, blas_name, "cublasGetProperty");
    printf("}\n");
    return 0;
}
