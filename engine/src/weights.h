/* weights.h — consolidated.safetensors: mmap, validation, and the named tensor table.
 *
 * File layout (safetensors): u64 LE header length N, N bytes of JSON {name: {dtype, shape,
 * data_offsets:[begin,end]}, "__metadata__": {...}}, then the data section. Validation:
 * header length capped (and inside the file), JSON parses, dtype in {BF16, F16, F32},
 * product(shape) * sizeof(dtype) == end - begin, offsets inside the data section and not
 * overlapping, every tensor that params.json implies present with exactly that shape.
 * Any violation -> VOX_EMODEL with a message naming the tensor and the fix. */
#ifndef VOX_WEIGHTS_H
#define VOX_WEIGHTS_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "vox.h"
#include "params.h"

typedef enum { VOX_DT_BF16 = 0, VOX_DT_F16 = 1, VOX_DT_F32 = 2 } vox_dtype;

/* A view into the mmapped file (no copy). Linear weights are [out, in] row-major. */
typedef struct {
    const char *name;
    vox_dtype dtype;
    int ndim;
    int64_t shape[4];
    const void *data; /* points into the mapping */
    size_t nbytes;
} vox_tensor_t;

typedef struct {
    void *map;
    size_t map_size; /* whole file mapping */
    vox_tensor_t *tensors;
    int n_tensors;
    char *names; /* storage for tensor names */
} vox_safetensors_t;

/* Host side: views into the mapped checkpoint. Per encoder layer (Mistral names under
 * W = mm_streams_embeddings.embedding_module.whisper_encoder.) */
typedef struct {
    const vox_tensor_t *attention_norm; /* [enc_dim] */
    const vox_tensor_t *wq, *bq;        /* [H*hd, enc_dim], [H*hd] */
    const vox_tensor_t *wk;             /* [KVH*hd, enc_dim] (no bias) */
    const vox_tensor_t *wv, *bv;        /* [KVH*hd, enc_dim], [KVH*hd] */
    const vox_tensor_t *wo, *bo;        /* [enc_dim, H*hd], [enc_dim] */
    const vox_tensor_t *ffn_norm;       /* [enc_dim] */
    const vox_tensor_t *w1, *w3;        /* [enc_hidden, enc_dim] */
    const vox_tensor_t *w2, *b2;        /* [enc_dim, enc_hidden], [enc_dim] */
} vox_enc_layer_host_t;

/* Per decoder layer (names under layers.{i}.) */
typedef struct {
    const vox_tensor_t *attention_norm;    /* [dim] */
    const vox_tensor_t *wq, *wk, *wv, *wo; /* [H*hd,dim] [KVH*hd,dim] [KVH*hd,dim] [dim,H*hd] */
    const vox_tensor_t *ffn_norm;          /* [dim] */
    const vox_tensor_t *w1, *w3;           /* [hidden, dim] */
    const vox_tensor_t *w2;                /* [dim, hidden] */
    const vox_tensor_t *ada_down;          /* ada_rms_norm_t_cond.0.weight [t_cond_dim, dim] */
    const vox_tensor_t *ada_up;            /* ada_rms_norm_t_cond.2.weight [dim, t_cond_dim] */
} vox_dec_layer_host_t;

typedef struct {
    vox_safetensors_t st;
    const vox_tensor_t *conv0_w, *conv0_b; /* [enc_dim, n_mels, 3], [enc_dim] */
    const vox_tensor_t *conv1_w, *conv1_b; /* [enc_dim, enc_dim, 3], [enc_dim] */
    vox_enc_layer_host_t *enc;             /* [enc_n_layers] */
    const vox_tensor_t *enc_norm;          /* transformer.norm.weight [enc_dim] */
    const vox_tensor_t *proj0;             /* audio_language_projection.0.weight [dim, 4*enc_dim] */
    const vox_tensor_t *proj2;             /* audio_language_projection.2.weight [dim, dim] */
    const vox_tensor_t *tok_embeddings;    /* [vocab, dim]; also the LM head (tied) */
    vox_dec_layer_host_t *dec;             /* [n_layers] */
    const vox_tensor_t *norm;              /* final decoder norm [dim] */
} vox_weights_t;                           /* the host tensors */

/* Backend side: the same tensors once uploaded (struct vox_bweight is backend.h's vox_bweight_t).
 * The decoder's ada-norm projections stay on the host (decoder.c folds them once per stream). */
struct vox_bweight;
struct vox_model;
typedef struct {
    struct vox_bweight *attention_norm, *wq, *bq, *wk, *wv, *bv, *wo, *bo;
    struct vox_bweight *ffn_norm, *w1, *w2, *b2, *w3;
} vox_enc_layer_backend_t;
typedef struct {
    struct vox_bweight *attention_norm, *wq, *wk, *wv, *wo, *ffn_norm, *w1, *w2, *w3;
} vox_dec_layer_backend_t;

/* The tensors params.json implies, in a fixed order (711 for the real model): the one table behind
 * vox_weights_load (validation), the synthetic-model writer (synth.c), the decoder's bytes per
 * step, and the model's upload and free (model.c). */
typedef enum { VOX_TK_LINEAR, VOX_TK_BIAS, VOX_TK_NORM, VOX_TK_EMBED } vox_tensor_kind;
typedef struct {
    char name[128];
    int ndim;
    int64_t shape[3];
    vox_tensor_kind kind;      /* how the synthetic writer initialises it */
    const vox_tensor_t **slot; /* host: where vox_weights_load stores it (NULL when w was NULL) */
    struct vox_bweight **dev;  /* backend: where model.c uploads it (NULL when m was NULL, or host-only) */
    int as_matrix;             /* a conv weight [c_out, c_in, 3], uploaded as the matrix [c_out, c_in*3] */
} vox_tensor_spec_t;
/* Fills *out (malloc'd, caller frees) and returns the count, or a negative vox_err. When w is
 * non-NULL, w->enc and w->dec must already be allocated; slots then point into w. Likewise m
 * (model.h; m->enc and m->dec allocated) for the backend slots. */
int vox_weights_spec(const vox_params_t *p, vox_weights_t *w, struct vox_model *m, vox_tensor_spec_t **out,
                     vox_error_t *err);

/* The dtype every tensor of the released checkpoint has (synth.c writes BF16 too); the loader also
 * accepts F16 / F32, which the backends convert at upload. */
#define VOX_CHECKPOINT_DTYPE "BF16"

/* `voxtral --tensors`: vox_weights_spec's list as one JSON line on f,
 * {"tensors":[{"name","shape":[...],"dtype":VOX_CHECKPOINT_DTYPE}, ...]}, in the table's order. The
 * toolkit reads it (lib/tensors.ts: the doctor's model check, vox-bench's weight bytes), so the
 * expected tensors are written down once, here. 0 or a vox_err. */
int vox_weights_spec_write_json(FILE *f, const vox_params_t *p, vox_error_t *err);

/* Bytes the decoder reads from memory per step, in BF16: each layer's linear weights (wq, wk, wv, wo,
 * w1, w2, w3) and norms, the final norm and the LM head (the tied token embeddings); the ada-norm
 * projections are constant over positions and excluded. Summed over vox_weights_spec's list (6.86e9
 * for the real model). The floor of a decode step is this over the memory bandwidth. 0 or a vox_err. */
int vox_weights_decoder_bytes_per_step(const vox_params_t *p, int64_t *bytes, vox_error_t *err);

/* mmap + validate DIR/consolidated.safetensors against p, fill every pointer above. */
int vox_weights_load(const char *dir, const vox_params_t *p, vox_weights_t *w, vox_error_t *err);
void vox_weights_free(vox_weights_t *w);
/* Drop the resident pages of one tensor's bytes in the mapping (re-read from the file if touched
 * again): for backends that keep their own copy of the weights, so host memory never holds the
 * whole checkpoint at once. */
void vox_tensor_release_pages(const vox_tensor_t *t);

/* Lower-level pieces (also used by the synthetic-model writer and tests). */
int vox_safetensors_open(const char *path, vox_safetensors_t *st, vox_error_t *err);
void vox_safetensors_close(vox_safetensors_t *st);
const vox_tensor_t *vox_safetensors_find(const vox_safetensors_t *st, const char *name);
size_t vox_dtype_size(vox_dtype dt);

/* Element i of a tensor as f32, whatever its dtype (slow path; for small tensors/tests). */
float vox_tensor_get_f32(const vox_tensor_t *t, size_t i);
/* Convert a whole tensor (any dtype) to f32 (n = product of shape). */
void vox_tensor_to_f32(const vox_tensor_t *t, float *out);
#endif
