/* params.c — DIR/params.json (Mistral layout, see MODEL.md) -> vox_params_t.
 *
 * Every key is required except the two MODEL.md gives defaults for
 * (ada_rms_norm_t_cond_dim: 32, encoder n_kv_heads: n_heads). Values are range-checked so a
 * damaged or hostile file fails here with a message, not later as a giant allocation. */
#define _POSIX_C_SOURCE 200809L
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "json.h"

#define MODEL_URL "https://huggingface.co/mistralai/Voxtral-Mini-4B-Realtime-2602"
#define DAMAGED   "The model folder is damaged: re-download params.json from " MODEL_URL

#define ENC "multimodal.whisper_model_args.encoder_args."
#define AUD ENC "audio_encoding_args."
#define DS  "multimodal.whisper_model_args.downsample_args."

static const char *type_name(const vox_json *v) {
    static const char *names[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
    return names[v->type];
}

/* Integer at dotted key; def < 0 means required. Range [lo, hi]. */
static int get_int(const vox_json *root, const char *key, int def, long lo, long hi, int *out, vox_error_t *err) {
    const vox_json *v = vox_json_path(root, key);
    if (!v) {
        if (def >= 0) {
            *out = def;
            return 0;
        }
        return vox_fail(err, VOX_EMODEL, "params.json: missing key '%s'. " DAMAGED, key);
    }
    if (v->type != VOX_JSON_NUMBER || v->number != floor(v->number))
        return vox_fail(err, VOX_EMODEL, "params.json: %s is %s; expected an integer. " DAMAGED, key,
                        v->type == VOX_JSON_NUMBER ? "a fraction" : type_name(v));
    if (v->number < (double)lo)
        return vox_fail(err, VOX_EMODEL, "params.json: %s is %.17g; expected >= %ld. " DAMAGED, key, v->number, lo);
    if (v->number > (double)hi)
        return vox_fail(err, VOX_EMODEL,
                        "params.json: %s is %.17g; expected <= %ld (larger is not a Voxtral model). " DAMAGED, key,
                        v->number, hi);
    *out = (int)v->number;
    return 0;
}

/* Positive finite real in (0, hi]. */
static int get_real(const vox_json *root, const char *key, double lo_excl, double hi, double *out, vox_error_t *err) {
    const vox_json *v = vox_json_path(root, key);
    if (!v) return vox_fail(err, VOX_EMODEL, "params.json: missing key '%s'. " DAMAGED, key);
    if (v->type != VOX_JSON_NUMBER)
        return vox_fail(err, VOX_EMODEL, "params.json: %s is %s; expected a number. " DAMAGED, key, type_name(v));
    if (!(v->number > lo_excl && v->number <= hi))
        return vox_fail(err, VOX_EMODEL, "params.json: %s is %.17g; expected a number in (%g, %g]. " DAMAGED, key,
                        v->number, lo_excl, hi);
    *out = v->number;
    return 0;
}

/* Shape rules shared by the decoder and the encoder attention. */
static int check_heads(const char *pre, int n_heads, int n_kv_heads, int head_dim, vox_error_t *err) {
    if (head_dim % 2)
        return vox_fail(err, VOX_EMODEL,
                        "params.json: %shead_dim is %d; expected an even number (RoPE rotates pairs). " DAMAGED, pre,
                        head_dim);
    if (n_heads % n_kv_heads)
        return vox_fail(err, VOX_EMODEL, "params.json: %sn_heads (%d) is not a multiple of %sn_kv_heads (%d). " DAMAGED,
                        pre, n_heads, pre, n_kv_heads);
    return 0;
}

static int read_all(const vox_json *r, vox_params_t *p, vox_error_t *err) {
    const long DIM_MAX = 65536, LAYERS_MAX = 1024, HEADS_MAX = 1024, HD_MAX = 1024;
    const long HIDDEN_MAX = 1 << 20, VOCAB_MAX = 1 << 22, WINDOW_MAX = 1 << 24;
    int rc;
    if (r->type != VOX_JSON_OBJECT)
        return vox_fail(err, VOX_EMODEL, "params.json: the top level is %s; expected an object. " DAMAGED,
                        type_name(r));
    /* decoder */
    if ((rc = get_int(r, "dim", -1, 2, DIM_MAX, &p->dim, err))) return rc;
    if ((rc = get_int(r, "n_layers", -1, 1, LAYERS_MAX, &p->n_layers, err))) return rc;
    if ((rc = get_int(r, "head_dim", -1, 2, HD_MAX, &p->head_dim, err))) return rc;
    if ((rc = get_int(r, "hidden_dim", -1, 1, HIDDEN_MAX, &p->hidden_dim, err))) return rc;
    if ((rc = get_int(r, "n_heads", -1, 1, HEADS_MAX, &p->n_heads, err))) return rc;
    if ((rc = get_int(r, "n_kv_heads", -1, 1, HEADS_MAX, &p->n_kv_heads, err))) return rc;
    if ((rc = get_int(r, "vocab_size", -1, 1, VOCAB_MAX, &p->vocab_size, err))) return rc;
    if ((rc = get_int(r, "sliding_window", -1, 1, WINDOW_MAX, &p->sliding_window, err))) return rc;
    if ((rc = get_int(r, "ada_rms_norm_t_cond_dim", 32, 1, DIM_MAX, &p->ada_t_cond_dim, err))) return rc;
    if ((rc = get_real(r, "rope_theta", 0, 1e12, &p->rope_theta, err))) return rc;
    if ((rc = get_real(r, "norm_eps", 0, 1, &p->norm_eps, err))) return rc;
    const vox_json *tied = vox_json_get(r, "tied_embeddings");
    if (!tied) return vox_fail(err, VOX_EMODEL, "params.json: missing key 'tied_embeddings'. " DAMAGED);
    if (tied->type != VOX_JSON_BOOL)
        return vox_fail(err, VOX_EMODEL, "params.json: tied_embeddings is %s; expected true. " DAMAGED,
                        type_name(tied));
    if (!tied->number)
        return vox_fail(
            err, VOX_EMODEL,
            "params.json: tied_embeddings is false; this engine needs tied embeddings "
            "(the LM head is tok_embeddings, as in Voxtral Realtime). Use the Voxtral-Mini-4B-Realtime-2602 model");
    p->tied_embeddings = 1;
    if (p->dim % 2)
        return vox_fail(err, VOX_EMODEL,
                        "params.json: dim is %d; expected an even number (t_cond has dim/2 frequencies). " DAMAGED,
                        p->dim);
    if ((rc = check_heads("", p->n_heads, p->n_kv_heads, p->head_dim, err))) return rc;

    /* encoder */
    if (!vox_json_path(r, "multimodal.whisper_model_args.encoder_args"))
        return vox_fail(err, VOX_EMODEL,
                        "params.json: missing key 'multimodal.whisper_model_args.encoder_args'. " DAMAGED);
    if ((rc = get_int(r, ENC "dim", -1, 2, DIM_MAX, &p->enc_dim, err))) return rc;
    if ((rc = get_int(r, ENC "n_layers", -1, 1, LAYERS_MAX, &p->enc_n_layers, err))) return rc;
    if ((rc = get_int(r, ENC "head_dim", -1, 2, HD_MAX, &p->enc_head_dim, err))) return rc;
    if ((rc = get_int(r, ENC "hidden_dim", -1, 1, HIDDEN_MAX, &p->enc_hidden_dim, err))) return rc;
    if ((rc = get_int(r, ENC "n_heads", -1, 1, HEADS_MAX, &p->enc_n_heads, err))) return rc;
    if ((rc = get_int(r, ENC "n_kv_heads", p->enc_n_heads, 1, HEADS_MAX, &p->enc_n_kv_heads, err))) return rc;
    if ((rc = get_int(r, ENC "sliding_window", -1, 1, WINDOW_MAX, &p->enc_sliding_window, err))) return rc;
    if ((rc = get_real(r, ENC "rope_theta", 0, 1e12, &p->enc_rope_theta, err))) return rc;
    if ((rc = get_real(r, ENC "norm_eps", 0, 1, &p->enc_norm_eps, err))) return rc;
    if ((rc = check_heads("encoder_args.", p->enc_n_heads, p->enc_n_kv_heads, p->enc_head_dim, err))) return rc;

    /* audio front end: the engine's audio path produces 16 kHz, so that rate is required */
    if ((rc = get_int(r, AUD "sampling_rate", -1, 1, 1 << 20, &p->sampling_rate, err))) return rc;
    if (p->sampling_rate != 16000)
        return vox_fail(err, VOX_EMODEL,
                        "params.json: audio_encoding_args.sampling_rate is %d; this engine supports 16000 only. "
                        "Use the Voxtral-Mini-4B-Realtime-2602 model",
                        p->sampling_rate);
    if ((rc = get_int(r, AUD "num_mel_bins", -1, 1, 1024, &p->n_mels, err))) return rc;
    if ((rc = get_int(r, AUD "hop_length", -1, 1, 1 << 16, &p->hop_length, err))) return rc;
    if ((rc = get_int(r, AUD "window_size", -1, 2, 1 << 16, &p->window_size, err))) return rc;
    if ((rc = get_real(r, AUD "frame_rate", 0, 1e6, &p->frame_rate, err))) return rc;
    const vox_json *lmm = vox_json_path(r, AUD "global_log_mel_max");
    if (!lmm) return vox_fail(err, VOX_EMODEL, "params.json: missing key '" AUD "global_log_mel_max'. " DAMAGED);
    if (lmm->type != VOX_JSON_NUMBER || !isfinite(lmm->number))
        return vox_fail(err, VOX_EMODEL, "params.json: " AUD "global_log_mel_max is %s; expected a number. " DAMAGED,
                        type_name(lmm));
    p->global_log_mel_max = lmm->number;
    if ((rc = get_int(r, DS "downsample_factor", -1, 1, 64, &p->downsample_factor, err))) return rc;
    return 0;
}

int vox_params_load(const char *dir, vox_params_t *p, vox_error_t *err) {
    char path[4096];
    struct stat sb;
    memset(p, 0, sizeof *p);
    if (stat(dir, &sb) != 0)
        return vox_fail(err, VOX_EMODEL,
                        "model folder %s does not exist. Download params.json, consolidated.safetensors and "
                        "tekken.json from " MODEL_URL " into it, or pass -d with the model folder",
                        dir);
    if (!S_ISDIR(sb.st_mode))
        return vox_fail(err, VOX_EMODEL,
                        "model folder %s is not a folder. Pass -d with the folder that holds params.json, "
                        "consolidated.safetensors and tekken.json",
                        dir);
    if (snprintf(path, sizeof path, "%s/params.json", dir) >= (int)sizeof path)
        return vox_fail(err, VOX_EMODEL, "model folder path is too long (%zu bytes). Use a shorter path", strlen(dir));
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return vox_fail(err, VOX_EMODEL,
                        "model folder %s has no params.json. Download params.json, consolidated.safetensors "
                        "and tekken.json from " MODEL_URL " into it, or pass -d with the model folder",
                        dir);
    vox_json *root = vox_json_parse_file(path, "params.json", (size_t)1 << 24, err);
    if (!root) return err ? err->code : VOX_EMODEL;
    int rc = read_all(root, p, err);
    vox_json_free(root);
    return rc;
}
