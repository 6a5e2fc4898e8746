/* model.h — a loaded model: params.json, the mapped checkpoint, the tokenizer, and every weight
 * uploaded once to the backend (BF16 stays BF16; the conv weights [c_out, c_in, 3] are handed
 * to the backend as matrices [c_out, c_in*3], which is the im2col column order). */
#ifndef VOX_MODEL_H
#define VOX_MODEL_H
#include <pthread.h>

#include "backend.h"
#include "params.h"
#include "tokenizer.h"
#include "weights.h"

/* The decoder's ada-norm scales of one delay, every layer ([n_layers, dim] host floats): computed by
 * the first decoder of that delay (decoder.c), then shared by every later one (streams opened by a
 * server mostly share one delay). */
typedef struct vox_ada_scales {
    int delay_tokens;
    float *v;
    struct vox_ada_scales *next;
} vox_ada_scales;

/* The layer structs, host and backend, sit beside the tensor table in weights.h. */
typedef struct vox_model {
    vox_params_t p;
    vox_weights_t w;         /* host views into the mapping (ada weights are read from here) */
    vox_tensor_spec_t *spec; /* the tensor table, host and backend slots filled: upload and free walk it */
    int n_spec;
    vox_tokenizer_t tok;
    vox_backend_t *be;                                    /* not owned */
    vox_bweight_t *conv0_w, *conv0_b, *conv1_w, *conv1_b; /* [enc_dim, n_mels*3], [enc_dim], ... */
    vox_enc_layer_backend_t *enc;                         /* [enc_n_layers] */
    vox_bweight_t *enc_norm;
    vox_bweight_t *proj0, *proj2;  /* adapter [dim, 4*enc_dim], [dim, dim] */
    vox_bweight_t *tok_embeddings; /* [vocab, dim]: input embedding and LM head */
    vox_dec_layer_backend_t *dec;  /* [n_layers] */
    vox_bweight_t *norm;
    /* The ada scales computed so far (decoders of several threads may start at once: the mutex). */
    pthread_mutex_t ada_mu;
    vox_ada_scales *ada;
} vox_model_t;

/* Model code calls backend ops through TRY: the first failing op returns its code; the
 * message stays in be->err (vox_model_error copies it to the caller). */
#define TRY(call)                                                                                                      \
    do {                                                                                                               \
        int rc_ = (call);                                                                                              \
        if (rc_) return rc_;                                                                                           \
    } while (0)

/* Copy the backend's first error (if any) into err; returns the code to propagate. */
int vox_model_error(const vox_backend_t *be, int rc, vox_error_t *err);

/* Load DIR (params.json, consolidated.safetensors, tekken.json) and upload the weights to be. */
int vox_model_load(const char *dir, vox_backend_t *be, vox_model_t **out, vox_error_t *err);
void vox_model_free(vox_model_t *m);
#endif
