/* backend.c — choose the backend once: "cpu", "cuda", or "auto" (CUDA when it starts, else the
 * CPU with one `voxtral: note:` line on stderr saying why). */
#include <stdio.h>
#include <string.h>

#include "backend.h"

int vox_backend_create(const vox_backend_opts *o, vox_backend_t **out, vox_error_t *err) {
    const char *kind = o->kind ? o->kind : "auto";
    if (strcmp(kind, "cpu") == 0) return vox_backend_cpu_create(o, out, err);
    if (strcmp(kind, "cuda") == 0) return vox_backend_cuda_create(o, out, err);
    if (strcmp(kind, "auto") != 0)
        return vox_fail(err, VOX_EUSAGE, "unknown backend '%s'. Use --backend auto, cpu or cuda", kind);
    vox_error_t cuda_err = {0, ""};
    if (vox_backend_cuda_create(o, out, &cuda_err) == 0) return 0;
    fprintf(stderr, "voxtral: note: using the CPU backend because the CUDA backend did not start: %s\n", cuda_err.msg);
    return vox_backend_cpu_create(o, out, err);
}

void vox_backend_destroy(vox_backend_t *be) {
    if (be) be->ops->destroy(be);
}
