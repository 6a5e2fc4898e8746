/* cuda-probe.c: what the engine's loader will find, checked for real and printed as one JSON line.
 * dlopen("libcuda.so.1") -> real path, cuInit(0), cuDriverGetVersion, cuDeviceGetCount;
 * then libcublasLt / libcublas (.13, then .12) -> real path and cublas(Lt)GetProperty versions.
 * Built and run by vox-doctor with the system C compiler; needs no CUDA headers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*init_fn)(unsigned int);
typedef int (*int_out_fn)(int *);
typedef int (*err_name_fn)(int, const char **);
typedef int (*prop_fn)(int, int *); /* cublasGetProperty(libraryPropertyType, int*) */

/* Prints s as a JSON string (escapes quotes, backslashes and control characters). */
static void json_str(const char *s) {
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
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

/* Loads the first of two sonames; prints "key":{"soname","path","major","minor","patch"} or an error. */
static void probe_blas(const char *key, const char *a, const char *b, const char *prop_sym) {
    const char *names[2] = {a, b};
    printf(",\"%s\":", key);
    for (int i = 0; i < 2; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) continue;
        char path[PATH_MAX];
        real_path(h, path);
        int v[3] = {-1, -1, -1};
        prop_fn prop = (prop_fn)dlsym(h, prop_sym);
        for (int k = 0; prop && k < 3; k++) prop(k, &v[k]);
        printf("{\"soname\":");
        json_str(names[i]);
        printf(",\"path\":");
        json_str(path);
        printf(",\"version\":[%d,%d,%d]}", v[0], v[1], v[2]);
        return;
    }
    printf("{\"error\":");
    json_str(dlerror());
    printf("}");
}

int main(void) {
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
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
        int rc = cu_init ? cu_init(0) : -1, version = 0, count = 0;
        if (cu_version) cu_version(&version);
        if (rc == 0 && cu_count) cu_count(&count);
        const char *name = "?";
        if (cu_err) cu_err(rc, &name);
        printf("{\"libcuda\":{\"path\":");
        json_str(path);
        printf(",\"init\":%d,\"init_name\":", rc);
        json_str(name);
        printf(",\"driver_version\":%d,\"devices\":%d}", version, count);
    }
    probe_blas("cublasLt", "libcublasLt.so.13", "libcublasLt.so.12", "cublasLtGetProperty");
    probe_blas("cublas", "libcublas.so.13", "libcublas.so.12", "cublasGetProperty");
    printf("}\n");
    return 0;
}
