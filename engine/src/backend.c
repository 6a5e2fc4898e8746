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

int vox_run_captured(vox_backend_t *be, int (*body)(void *ctx), void *ctx, vox_captured *c) {
    const vox_backend_ops *o = be->ops;
    if (!o->graph_begin || c->uses++ == 0) return body(ctx);
    if (!c->graph) {
        int rc = o->graph_begin(be);
        if (rc) return rc;
        rc = body(ctx);
        vox_graph_t *g = NULL;
        int rc2 = o->graph_end(be, &g); /* always end the capture, even after a failure */
        if (rc || rc2) return rc ? rc : rc2;
        c->graph = g;
    }
    return o->graph_launch(be, c->graph);
}

void vox_captured_free(vox_backend_t *be, vox_captured *c) {
    if (c->graph) be->ops->graph_free(be, c->graph);
    c->graph = NULL;
    c->uses = 0;
}
