/* model.c — load params + weights + tokenizer and upload every weight to the backend once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "model.h"
#include "stream.h"

/* Upload one tensor; on failure copy the backend's message into err. */
static int up_tensor(vox_model_t *m, const vox_tensor_t *t, vox_bweight_t **out, vox_error_t *err) {
    if (m->be->ops->weight_upload(m->be, t, out) != 0)
        return vox_fail(err, m->be->err.code ? m->be->err.code : VOX_EDEVICE, "%s", m->be->err.msg);
    /* The device has its own copy once the upload returns (its host staging is done): drop the
     * host pages now, so peak host memory stays near one tensor instead of the checkpoint. */
    if (m->be->ops->copies_weights) vox_tensor_release_pages(t);
    return 0;
}

/* One entry of the tensor table; a conv weight [c_out, c_in, 3] goes up as the matrix [c_out, c_in*3]
 * (same bytes). */
static int up(vox_model_t *m, const vox_tensor_spec_t *s, vox_error_t *err) {
    const vox_tensor_t *t = *s->slot;
    if (!s->as_matrix) return up_tensor(m, t, s->dev, err);
    vox_tensor_t v = *t;
    v.ndim = 2;
    v.shape[1] = t->shape[1] * t->shape[2];
    v.shape[2] = 0;
    return up_tensor(m, &v, s->dev, err);
}

int vox_model_error(const vox_backend_t *be, int rc, vox_error_t *err) {
    if (rc == 0) return 0;
    if (be->err.code) return vox_fail(err, be->err.code, "%s", be->err.msg);
    if (err && err->code) return err->code;
    return vox_fail(err, rc, "backend operation failed (code %d) without a message. This is a bug; please report it",
                    rc);
}

/* Pay the backend's one-time GEMM costs now (timed as load), for the row counts the stream
 * will use (stream.h / decoder.h): conv0 up to 2 mel frames per encoder position of a chunk,
 * conv1 and the encoder layers up to a chunk, the adapter a chunk over the downsample factor,
 * and the decoder's prefill its prompt (left padding + delay). Layer 0 stands for every layer:
 * the costs are per shape. */
static int prepare(vox_model_t *m, vox_error_t *err) {
    vox_backend_t *be = m->be;
    if (!be->ops->prepare_linear) return 0;
    const vox_params_t *p = &m->p;
    int C = VOX_STREAM_CHUNK, g = p->downsample_factor, lo = 1;
    int pmin = VOX_LEFT_PAD_TOKENS + 1, pmax = VOX_LEFT_PAD_TOKENS + VOX_DELAY_MS_MAX / 80;
    const vox_enc_layer_backend_t *e = &m->enc[0];
    const vox_dec_layer_backend_t *d = &m->dec[0];
    struct {
        const vox_bweight_t *w, *b;
        int min, max, acc;
    } all[] = {
        {m->conv0_w, m->conv0_b, lo, 2 * C, 0},
        {m->conv1_w, m->conv1_b, lo, C, 0},
        {e->wq, e->bq, lo, C, 0},
        {e->wk, NULL, lo, C, 0},
        {e->wv, e->bv, lo, C, 0},
        {e->wo, e->bo, lo, C, 1},
        {e->w1, NULL, lo, C, 0},
        {e->w3, NULL, lo, C, 0},
        {e->w2, e->b2, lo, C, 1},
        {m->proj0, NULL, lo, (C + g - 1) / g, 0},
        {m->proj2, NULL, lo, (C + g - 1) / g, 0},
        {d->wq, NULL, pmin, pmax, 0},
        {d->wk, NULL, pmin, pmax, 0},
        {d->wv, NULL, pmin, pmax, 0},
        {d->wo, NULL, pmin, pmax, 1},
        {d->w1, NULL, pmin, pmax, 0},
        {d->w3, NULL, pmin, pmax, 0},
        {d->w2, NULL, pmin, pmax, 1},
    };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        int rc = be->ops->prepare_linear(be, all[i].w, all[i].b, all[i].min, all[i].max, all[i].acc);
        if (rc) return vox_model_error(be, rc, err);
    }
    return 0;
}

static void free_w(vox_model_t *m, vox_bweight_t *w) {
    if (w) m->be->ops->weight_free(m->be, w);
}

int vox_model_load(const char *dir, vox_backend_t *be, vox_model_t **out, vox_error_t *err) {
    *out = NULL;
    vox_model_t *m = calloc(1, sizeof *m);
    if (!m) return vox_fail(err, VOX_ENOMEM, "out of host memory loading the model. Use a machine with more RAM");
    m->be = be;
    pthread_mutex_init(&m->ada_mu, NULL);
    double t_read = vox_now_ms();
    int rc = vox_params_load(dir, &m->p, err);
    if (rc == 0) rc = vox_weights_load(dir, &m->p, &m->w, err);
    if (rc == 0) rc = vox_tokenizer_load(dir, m->p.vocab_size, &m->tok, err);
    if (rc == 0 && be->debug)
        fprintf(stderr, "voxtral: debug: params, checkpoint index and tokenizer read in %.0f ms\n",
                vox_now_ms() - t_read);
    if (rc != 0) {
        vox_model_free(m);
        return rc;
    }
    const vox_params_t *p = &m->p;
    m->enc = calloc((size_t)p->enc_n_layers, sizeof *m->enc);
    m->dec = calloc((size_t)p->n_layers, sizeof *m->dec);
    if (!m->enc || !m->dec) {
        vox_model_free(m);
        return vox_fail(err, VOX_ENOMEM, "out of host memory loading the model. Use a machine with more RAM");
    }

    m->n_spec = vox_weights_spec(p, &m->w, m, &m->spec, err);
    rc = m->n_spec < 0 ? m->n_spec : 0;
    if (rc) m->n_spec = 0;
    double t_up = vox_now_ms();
    for (int i = 0; i < m->n_spec && !rc; i++)
        if (m->spec[i].dev) rc = up(m, &m->spec[i], err);
    if (be->ops->weights_done) be->ops->weights_done(be);
    double t_prep = vox_now_ms();
    if (!rc && p->enc_n_layers > 0 && p->n_layers > 0) rc = prepare(m, err);
    if (!rc && be->debug)
        fprintf(stderr, "voxtral: debug: weights read + uploaded in %.0f ms, linear layers prepared in %.0f ms\n",
                t_prep - t_up, vox_now_ms() - t_prep);
    if (rc) {
        vox_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void vox_model_free(vox_model_t *m) {
    if (!m) return;
    for (int i = 0; i < m->n_spec; i++)
        if (m->spec[i].dev) free_w(m, *m->spec[i].dev);
    free(m->spec);
    free(m->enc);
    free(m->dec);
    vox_tokenizer_free(&m->tok);
    vox_weights_free(&m->w);
    for (vox_ada_scales *a = m->ada, *next; a; a = next) {
        next = a->next;
        free(a->v);
        free(a);
    }
    pthread_mutex_destroy(&m->ada_mu);
    free(m);
}
