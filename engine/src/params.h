/* params.h — model hyper-parameters, all read from params.json (Mistral layout, MODEL.md).
 * Nothing here is hard-coded: the tiny test models and the real 4B model use the same code. */
#ifndef VOX_PARAMS_H
#define VOX_PARAMS_H
#include "vox.h"

typedef struct {
    /* decoder (top-level keys) */
    int dim, n_layers, head_dim, hidden_dim, n_heads, n_kv_heads, vocab_size;
    int sliding_window;  /* decoder attention window (8192 in the real model) */
    int ada_t_cond_dim;  /* ada_rms_norm_t_cond_dim, 32 when absent */
    int tied_embeddings; /* must be 1: the LM head is tok_embeddings */
    double rope_theta, norm_eps;
    /* encoder (multimodal.whisper_model_args.encoder_args) */
    int enc_dim, enc_n_layers, enc_head_dim, enc_hidden_dim, enc_n_heads, enc_n_kv_heads;
    int enc_sliding_window; /* 750 in the real model */
    double enc_rope_theta, enc_norm_eps;
    /* audio_encoding_args */
    int sampling_rate, n_mels, hop_length, window_size;
    double frame_rate, global_log_mel_max;
    /* downsample_args */
    int downsample_factor; /* 4: encoder positions per decoder position */
} vox_params_t;

/* Read DIR/params.json; validates presence, types and sane ranges (layers >= 1, even head_dim,
 * n_heads % n_kv_heads == 0, dims below sane caps, ...). VOX_EMODEL on failure. */
int vox_params_load(const char *dir, vox_params_t *p, vox_error_t *err);
#endif
