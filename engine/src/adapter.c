/* adapter.c — see adapter.h. */
#include <string.h>

#include "adapter.h"

int vox_adapter_init(vox_adapter_t *a, const vox_model_t *m, int chunk, vox_error_t *err) {
    memset(a, 0, sizeof *a);
    vox_backend_t *be = m->be;
    a->m = m;
    a->chunk = chunk;
    int g = m->p.downsample_factor;
    a->in = be->ops->alloc(be, (size_t)(chunk + g - 1) * m->p.enc_dim);
    a->hid = be->ops->alloc(be, (size_t)((chunk + g - 1) / g) * m->p.dim);
    if (!a->in || !a->hid) {
        vox_adapter_free(a);
        if (be->err.code) return vox_model_error(be, be->err.code, err);
        return vox_fail(err, VOX_ENOMEM, "out of memory for the adapter buffers. Use a machine with more memory");
    }
    return 0;
}

void vox_adapter_free(vox_adapter_t *a) {
    if (!a->m) return;
    vox_backend_t *be = a->m->be;
    if (a->in) be->ops->free(be, a->in);
    if (a->hid) be->ops->free(be, a->hid);
    memset(a, 0, sizeof *a);
}

float *vox_adapter_slot(vox_adapter_t *a) { return a->in + (size_t)a->left * a->m->p.enc_dim; }

int vox_adapter_push(vox_adapter_t *a, int n_new, float *out, int *n_emb) {
    const vox_model_t *m = a->m;
    vox_backend_t *be = m->be;
    const vox_backend_ops *o = be->ops;
    int g = m->p.downsample_factor, ed = m->p.enc_dim;
    int rows = a->left + n_new, n = rows / g;
    *n_emb = 0;
    if (n > 0) {
        /* [n*g, enc_dim] row-major is [n, g*enc_dim]: the concatenation is free. */
        TRY(o->linear(be, a->hid, a->in, m->proj0, NULL, n, 0));
        TRY(o->gelu(be, a->hid, (size_t)n * m->p.dim));
        TRY(o->linear(be, out, a->hid, m->proj2, NULL, n, 0));
        int keep = rows - n * g; /* < g rows, source starts at row n*g >= g: no overlap */
        if (keep > 0) TRY(o->copy(be, a->in, a->in + (size_t)n * g * ed, (size_t)keep * ed * sizeof(float)));
        a->left = keep;
    } else {
        a->left = rows;
    }
    *n_emb = n;
    return 0;
}
