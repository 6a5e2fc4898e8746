/* tokenizer.c — tekken.json, decode direction (ids -> bytes).
 *
 * ids 0 .. n_special-1 are control tokens (no text); id n_special + k is the base64-decoded
 * vocab[k].token_bytes. BOS / EOS / STREAMING_PAD are looked up by name in special_tokens[].
 * Only the ids below params' vocab_size are kept (the real file lists 150000 entries, the
 * model uses the first 131072 - 1000). */
#define _POSIX_C_SOURCE 200809L
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json.h"

#define MODEL_URL "https://huggingface.co/mistralai/Voxtral-Mini-4B-Realtime-2602"
#define DAMAGED   "The model folder is damaged: re-download tekken.json from " MODEL_URL

/* Standard base64 (RFC 4648), '=' padding optional. Returns the decoded length or -1. */
static long base64_decode(const char *s, size_t n, unsigned char *out) {
    while (n && s[n - 1] == '=') n--;
    if (n % 4 == 1) return -1;
    long o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '+'             ? 62
                : c == '/'             ? 63
                                       : -1;
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
        acc &= (1u << bits) - 1; /* keep only the undecoded bits */
    }
    return o;
}

static int find_special(const vox_json *specials, const char *name, int n_special, int *id, vox_error_t *err) {
    for (const vox_json *s = specials->child; s; s = s->next) {
        const vox_json *str = vox_json_get(s, "token_str"), *rank = vox_json_get(s, "rank");
        if (!str || str->type != VOX_JSON_STRING || strcmp(str->string, name) != 0) continue;
        if (!rank || rank->type != VOX_JSON_NUMBER || rank->number < 0 || rank->number >= n_special ||
            rank->number != (double)(int)rank->number)
            return vox_fail(err, VOX_EMODEL, "tekken.json: special token %s has no valid rank below %d. " DAMAGED, name,
                            n_special);
        *id = (int)rank->number;
        return 0;
    }
    return vox_fail(err, VOX_EMODEL, "tekken.json: special_tokens has no %s. " DAMAGED, name);
}

static int load(const vox_json *r, int vocab_size, vox_tokenizer_t *t, vox_error_t *err) {
    const vox_json *ns = vox_json_path(r, "config.default_num_special_tokens");
    const vox_json *vocab = vox_json_get(r, "vocab"), *specials = vox_json_get(r, "special_tokens");
    if (!ns || ns->type != VOX_JSON_NUMBER || ns->number < 1 || ns->number > vocab_size ||
        ns->number != (double)(int)ns->number)
        return vox_fail(err, VOX_EMODEL,
                        "tekken.json: config.default_num_special_tokens is missing or not an integer in "
                        "1..%d (params.json vocab_size). " DAMAGED,
                        vocab_size);
    if (!vocab || vocab->type != VOX_JSON_ARRAY)
        return vox_fail(err, VOX_EMODEL, "tekken.json: missing the vocab array. " DAMAGED);
    if (!specials || specials->type != VOX_JSON_ARRAY)
        return vox_fail(err, VOX_EMODEL, "tekken.json: missing the special_tokens array. " DAMAGED);
    t->n_special = (int)ns->number;
    size_t need = (size_t)(vocab_size - t->n_special);
    if (vocab->count < need)
        return vox_fail(err, VOX_EMODEL,
                        "tekken.json has %zu vocab entries but params.json vocab_size %d needs %zu; the two "
                        "files come from different models. Download both from " MODEL_URL,
                        vocab->count, vocab_size, need);
    int rc;
    if ((rc = find_special(specials, "<s>", t->n_special, &t->bos, err))) return rc;
    if ((rc = find_special(specials, "</s>", t->n_special, &t->eos, err))) return rc;
    if ((rc = find_special(specials, "[STREAMING_PAD]", t->n_special, &t->streaming_pad, err))) return rc;

    /* Pass 1: bound the decoded size; pass 2: decode into one buffer. */
    size_t total = 0, k = 0;
    for (const vox_json *v = vocab->child; v && k < need; v = v->next, k++) {
        const vox_json *b = vox_json_get(v, "token_bytes");
        if (!b || b->type != VOX_JSON_STRING)
            return vox_fail(err, VOX_EMODEL, "tekken.json: vocab[%zu] has no token_bytes string. " DAMAGED, k);
        total += b->string_len / 4 * 3 + 3;
    }
    t->n_vocab = vocab_size;
    t->bytes = malloc(total ? total : 1);
    t->offset = calloc((size_t)vocab_size + 1, sizeof *t->offset);
    if (!t->bytes || !t->offset)
        return vox_fail(err, VOX_ENOMEM, "out of memory loading tekken.json. Free some memory and retry");
    size_t pos = 0;
    k = 0;
    for (const vox_json *v = vocab->child; v && k < need; v = v->next, k++) {
        const vox_json *b = vox_json_get(v, "token_bytes");
        long n = base64_decode(b->string, b->string_len, t->bytes + pos);
        if (n < 0)
            return vox_fail(err, VOX_EMODEL, "tekken.json: vocab[%zu].token_bytes is not valid base64. " DAMAGED, k);
        t->offset[(size_t)t->n_special + k] = pos; /* control ids keep offset 0 .. 0: empty */
        pos += (size_t)n;
        t->offset[(size_t)t->n_special + k + 1] = pos;
    }
    return 0;
}

int vox_tokenizer_load(const char *dir, int vocab_size, vox_tokenizer_t *t, vox_error_t *err) {
    char path[4096];
    memset(t, 0, sizeof *t);
    if (snprintf(path, sizeof path, "%s/tekken.json", dir) >= (int)sizeof path)
        return vox_fail(err, VOX_EMODEL, "model folder path is too long. Use a shorter path");
    if (access(path, F_OK) != 0)
        return vox_fail(err, VOX_EMODEL,
                        "model folder %s has no tekken.json. Download it from " MODEL_URL
                        " into that folder, or pass -d with the model folder",
                        dir);
    vox_json *root = vox_json_parse_file(path, "tekken.json", (size_t)256 << 20, err);
    if (!root) return err ? err->code : VOX_EMODEL;
    int rc = load(root, vocab_size, t, err);
    vox_json_free(root);
    if (rc) vox_tokenizer_free(t);
    return rc;
}

void vox_tokenizer_free(vox_tokenizer_t *t) {
    free(t->bytes);
    free(t->offset);
    memset(t, 0, sizeof *t);
}

int vox_tokenizer_is_control(const vox_tokenizer_t *t, int id) { return id >= 0 && id < t->n_special; }

const unsigned char *vox_tokenizer_bytes(const vox_tokenizer_t *t, int id, size_t *len) {
    if (id < t->n_special || id >= t->n_vocab) {
        *len = 0;
        return t->bytes;
    }
    *len = t->offset[id + 1] - t->offset[id];
    return t->bytes + t->offset[id];
}
