/* cuda_none.c — stands in for the CUDA backend when the engine is built without it
 * (the Makefile uses the C files of engine/src/cuda/ instead when engine/cuda.mk provides them). */
#include <stdio.h>

#include "backend.h"

int vox_backend_cuda_create(const vox_backend_opts *o, vox_backend_t **out, vox_error_t *err) {
    (void)o;
    *out = NULL;
    return vox_fail(err, VOX_EDEVICE,
                    "this engine was built without the CUDA backend. Rebuild it with make -C engine cuda");
}

int vox_cuda_probe_json(char *buf, size_t cap) {
    int n = snprintf(buf, cap,
                     "{\"available\":false,\"reason\":\"this engine was built without the CUDA backend "
                     "(rebuild with make -C engine cuda)\",\"libcuda\":null,\"driver_version\":null,"
                     "\"libcublas\":null,\"libcublasLt\":null,\"cublas_version\":null,\"devices\":[]}");
    return n < 0 || (size_t)n >= cap ? VOX_EINTERNAL : 0;
}

const char *vox_cuda_archs(void) { return ""; }
