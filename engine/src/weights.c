/* weights.c — consolidated.safetensors: mmap, validate, map names to the model's tensors.
 *
 * Layout: u64 LE header length N | N bytes of JSON header | data section. Each header entry
 * {dtype, shape, data_offsets:[b,e]} is checked (dtype BF16/F16/F32, product(shape) × size ==
 * e − b, [b,e) inside the data section and aligned to the element size, no two tensors
 * overlapping); then every tensor params.json implies must be present with exactly its shape.
 * Tensors are views into the read-only mapping: nothing is copied here. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include "weights.h"

#include "model.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json.h"

#define HEADER_MAX ((uint64_t)100 << 20)
#define MODEL_URL  "https://huggingface.co/mistralai/Voxtral-Mini-4B-Realtime-2602"
#define REDOWNLOAD "Re-download consolidated.safetensors from " MODEL_URL

size_t vox_dtype_size(vox_dtype dt) { return dt == VOX_DT_F32 ? 4 : 2; }

static const char *file_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Reads a non-negative integer array element with an upper bound. */
static int json_u64(const vox_json *v, uint64_t max, uint64_t *out) {
    if (!v || v->type != VOX_JSON_NUMBER || v->number < 0 || v->number > (double)max ||
        v->number != (double)(uint64_t)v->number)
        return -1;
    *out = (uint64_t)v->number;
    return 0;
}

static int parse_entry(const vox_json *e, const char *fname, uint64_t data_size, vox_tensor_t *t, uint64_t *begin,
                       vox_error_t *err) {
    const char *nm = e->key;
    const vox_json *dt = vox_json_get(e, "dtype"), *sh = vox_json_get(e, "shape"),
                   *of = vox_json_get(e, "data_offsets");
    if (e->type != VOX_JSON_OBJECT || !dt || dt->type != VOX_JSON_STRING || !sh || sh->type != VOX_JSON_ARRAY || !of ||
        of->type != VOX_JSON_ARRAY || of->count != 2)
        return vox_fail(err, VOX_EMODEL,
                        "%s: header entry for tensor '%s' lacks a dtype, shape or data_offsets. " REDOWNLOAD, fname,
                        nm);
    if (!strcmp(dt->string, "BF16"))
        t->dtype = VOX_DT_BF16;
    else if (!strcmp(dt->string, "F16"))
        t->dtype = VOX_DT_F16;
    else if (!strcmp(dt->string, "F32"))
        t->dtype = VOX_DT_F32;
    else
        return vox_fail(err, VOX_EMODEL,
                        "%s: tensor '%s' has dtype %.32s; the engine needs BF16, F16 or F32 "
                        "(quantized or converted checkpoints are not supported). " REDOWNLOAD,
                        fname, nm, dt->string);
    if (sh->count > 4)
        return vox_fail(err, VOX_EMODEL, "%s: tensor '%s' has %zu dimensions; at most 4 are expected. " REDOWNLOAD,
                        fname, nm, sh->count);
    t->ndim = (int)sh->count;
    uint64_t n = 1, b, end;
    int i = 0;
    for (const vox_json *d = sh->child; d; d = d->next, i++) {
        uint64_t v;
        if (json_u64(d, (uint64_t)1 << 40, &v))
            return vox_fail(err, VOX_EMODEL, "%s: tensor '%s' has an invalid shape entry. " REDOWNLOAD, fname, nm);
        t->shape[i] = (int64_t)v;
        n = (v && n > ((uint64_t)1 << 60) / v) ? ((uint64_t)1 << 60) : n * v; /* saturate: n * 4 cannot overflow */
    }
    if (json_u64(of->child, (uint64_t)1 << 53, &b) || json_u64(of->child->next, (uint64_t)1 << 53, &end) || end < b)
        return vox_fail(err, VOX_EMODEL, "%s: tensor '%s' has invalid data_offsets. " REDOWNLOAD, fname, nm);
    if (end > data_size)
        return vox_fail(err, VOX_EMODEL,
                        "%s is truncated or damaged: tensor '%s' needs data bytes [%llu, %llu) but the data "
                        "section has only %llu bytes (an interrupted download leaves a short file). " REDOWNLOAD,
                        fname, nm, (unsigned long long)b, (unsigned long long)end, (unsigned long long)data_size);
    uint64_t esz = vox_dtype_size(t->dtype);
    if (n * esz != end - b)
        return vox_fail(err, VOX_EMODEL,
                        "%s: tensor '%s' holds %llu bytes but its dtype %s and shape need %llu. " REDOWNLOAD, fname, nm,
                        (unsigned long long)(end - b), dt->string, (unsigned long long)(n * esz));
    *begin = b;
    t->nbytes = (size_t)(end - b);
    return 0;
}

static int cmp_begin(const void *a, const void *b) {
    const vox_tensor_t *x = a, *y = b;
    return x->data < y->data ? -1 : x->data > y->data;
}

/* Sorted by start: a tensor overlaps the next one when it ends past the next one's start. */
static int check_overlap(vox_safetensors_t *st, const char *fname, vox_error_t *err) {
    qsort(st->tensors, (size_t)st->n_tensors, sizeof *st->tensors, cmp_begin);
    const vox_tensor_t *prev = NULL;
    for (int i = 0; i < st->n_tensors; i++) {
        const vox_tensor_t *t = &st->tensors[i];
        if (t->nbytes == 0) continue;
        if (prev && (const char *)prev->data + prev->nbytes > (const char *)t->data)
            return vox_fail(err, VOX_EMODEL,
                            "%s is damaged: tensors '%s' and '%s' overlap in the data section. " REDOWNLOAD, fname,
                            prev->name, t->name);
        prev = t;
    }
    return 0;
}

static int parse_header(vox_safetensors_t *st, const char *fname, uint64_t hlen, vox_error_t *err) {
    const char *base = st->map;
    uint64_t data_size = st->map_size - 8 - hlen;
    vox_json *h = vox_json_parse(base + 8, (size_t)hlen, "consolidated.safetensors header", err);
    if (!h) return err ? err->code : VOX_EMODEL;
    int rc = 0;
    if (h->type != VOX_JSON_OBJECT) {
        rc = vox_fail(err, VOX_EMODEL, "%s: the header is not a JSON object. " REDOWNLOAD, fname);
        goto done;
    }
    size_t names_len = 0;
    for (const vox_json *e = h->child; e; e = e->next) names_len += strlen(e->key) + 1;
    st->tensors = calloc(h->count ? h->count : 1, sizeof *st->tensors);
    st->names = malloc(names_len + 1);
    if (!st->tensors || !st->names) {
        rc = vox_fail(err, VOX_ENOMEM, "out of memory reading the %s header. Free some memory and retry", fname);
        goto done;
    }
    char *np = st->names;
    for (const vox_json *e = h->child; e; e = e->next) {
        if (!strcmp(e->key, "__metadata__")) continue;
        vox_tensor_t *t = &st->tensors[st->n_tensors];
        uint64_t begin = 0;
        if ((rc = parse_entry(e, fname, data_size, t, &begin, err))) goto done;
        size_t kl = strlen(e->key) + 1;
        memcpy(np, e->key, kl);
        t->name = np;
        np += kl;
        uint64_t abs_off = 8 + hlen + begin;
        if (abs_off % vox_dtype_size(t->dtype)) {
            rc = vox_fail(err, VOX_EMODEL,
                          "%s: tensor '%s' starts at byte %llu, not aligned to its element size. " REDOWNLOAD, fname,
                          t->name, (unsigned long long)abs_off);
            goto done;
        }
        t->data = base + abs_off;
        st->n_tensors++;
    }
    rc = check_overlap(st, fname, err);
done:
    vox_json_free(h);
    return rc;
}

int vox_safetensors_open(const char *path, vox_safetensors_t *st, vox_error_t *err) {
    const char *fname = file_name(path);
    memset(st, 0, sizeof *st);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return vox_fail(err, VOX_EMODEL, "cannot open %s: %s. " REDOWNLOAD, path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return vox_fail(err, VOX_EMODEL, "%s is not a regular file. " REDOWNLOAD, path);
    }
    if (sb.st_size < 8) {
        close(fd);
        return vox_fail(err, VOX_EMODEL,
                        "%s is truncated: %lld bytes, too short to hold the 8-byte header length. " REDOWNLOAD, fname,
                        (long long)sb.st_size);
    }
    st->map_size = (size_t)sb.st_size;
    st->map = mmap(NULL, st->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (st->map == MAP_FAILED) {
        st->map = NULL;
        return vox_fail(err, map_errno == ENOMEM ? VOX_ENOMEM : VOX_EMODEL, "cannot map %s (%zu bytes): %s. %s", path,
                        st->map_size, strerror(map_errno),
                        map_errno == ENOMEM ? "Free memory or raise the virtual-memory limit (ulimit -v)"
                                            : "Check the file");
    }
    const unsigned char *b = st->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | b[i];
    int rc;
    if (hlen > HEADER_MAX)
        rc = vox_fail(err, VOX_EMODEL,
                      "%s: header length %llu is larger than the 100 MiB limit; the file is damaged or not a "
                      "safetensors file. " REDOWNLOAD,
                      fname, (unsigned long long)hlen);
    else if (hlen > st->map_size - 8)
        rc = vox_fail(err, VOX_EMODEL,
                      "%s: header length %llu goes beyond the end of the file (%zu bytes); the file is "
                      "truncated or damaged. " REDOWNLOAD,
                      fname, (unsigned long long)hlen, st->map_size);
    else
        rc = parse_header(st, fname, hlen, err);
    if (rc) vox_safetensors_close(st);
    return rc;
}

void vox_safetensors_close(vox_safetensors_t *st) {
    if (st->map) munmap(st->map, st->map_size);
    free(st->tensors);
    free(st->names);
    memset(st, 0, sizeof *st);
}

const vox_tensor_t *vox_safetensors_find(const vox_safetensors_t *st, const char *name) {
    for (int i = 0; i < st->n_tensors; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

/* ---- the expected tensor list ---- */

typedef struct {
    vox_tensor_spec_t *v;
    int n, cap;
} spec_list;

#if defined(__GNUC__)
__attribute__((format(printf, 9, 10)))
#endif
static void
add(spec_list *l, vox_tensor_kind kind, const vox_tensor_t **slot, struct vox_bweight **dev, int ndim, int64_t d0,
    int64_t d1, int64_t d2, const char *fmt, ...) {
    vox_tensor_spec_t *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->kind = kind;
    s->slot = slot;
    s->dev = dev;
    s->as_matrix = ndim == 3;
    s->ndim = ndim;
    s->shape[0] = d0;
    s->shape[1] = d1;
    s->shape[2] = d2;
}

#define E  "mm_streams_embeddings.embedding_module."
#define W  E "whisper_encoder."
#define WL W "transformer.layers.%d."

int vox_weights_spec(const vox_params_t *p, vox_weights_t *w, struct vox_model *m, vox_tensor_spec_t **out,
                     vox_error_t *err) {
    spec_list l = {NULL, 0, 9 + 13 * p->enc_n_layers + 11 * p->n_layers};
    l.v = malloc((size_t)l.cap * sizeof *l.v);
    if (!l.v) return vox_fail(err, VOX_ENOMEM, "out of memory listing the model tensors. Free some memory and retry");
#define SLOT(x) (w ? &(x) : NULL)
#define DEV(x)  (m ? &(x) : NULL)
    const int64_t ed = p->enc_dim, eq = (int64_t)p->enc_n_heads * p->enc_head_dim,
                  ekv = (int64_t)p->enc_n_kv_heads * p->enc_head_dim, eh = p->enc_hidden_dim;
    const int64_t d = p->dim, q = (int64_t)p->n_heads * p->head_dim, kv = (int64_t)p->n_kv_heads * p->head_dim,
                  h = p->hidden_dim, tc = p->ada_t_cond_dim;
    add(&l, VOX_TK_EMBED, SLOT(w->tok_embeddings), DEV(m->tok_embeddings), 2, p->vocab_size, d, 0,
        E "tok_embeddings.weight");
    add(&l, VOX_TK_LINEAR, SLOT(w->conv0_w), DEV(m->conv0_w), 3, ed, p->n_mels, 3, W "conv_layers.0.conv.weight");
    add(&l, VOX_TK_BIAS, SLOT(w->conv0_b), DEV(m->conv0_b), 1, ed, 0, 0, W "conv_layers.0.conv.bias");
    add(&l, VOX_TK_LINEAR, SLOT(w->conv1_w), DEV(m->conv1_w), 3, ed, ed, 3, W "conv_layers.1.conv.weight");
    add(&l, VOX_TK_BIAS, SLOT(w->conv1_b), DEV(m->conv1_b), 1, ed, 0, 0, W "conv_layers.1.conv.bias");
    for (int i = 0; i < p->enc_n_layers; i++) {
        vox_enc_layer_host_t *x = w ? &w->enc[i] : NULL;
        vox_enc_layer_backend_t *y = m ? &m->enc[i] : NULL;
        add(&l, VOX_TK_LINEAR, SLOT(x->wq), DEV(y->wq), 2, eq, ed, 0, WL "attention.wq.weight", i);
        add(&l, VOX_TK_BIAS, SLOT(x->bq), DEV(y->bq), 1, eq, 0, 0, WL "attention.wq.bias", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->wk), DEV(y->wk), 2, ekv, ed, 0, WL "attention.wk.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->wv), DEV(y->wv), 2, ekv, ed, 0, WL "attention.wv.weight", i);
        add(&l, VOX_TK_BIAS, SLOT(x->bv), DEV(y->bv), 1, ekv, 0, 0, WL "attention.wv.bias", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->wo), DEV(y->wo), 2, ed, eq, 0, WL "attention.wo.weight", i);
        add(&l, VOX_TK_BIAS, SLOT(x->bo), DEV(y->bo), 1, ed, 0, 0, WL "attention.wo.bias", i);
        add(&l, VOX_TK_NORM, SLOT(x->attention_norm), DEV(y->attention_norm), 1, ed, 0, 0, WL "attention_norm.weight",
            i);
        add(&l, VOX_TK_LINEAR, SLOT(x->w1), DEV(y->w1), 2, eh, ed, 0, WL "feed_forward.w1.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->w2), DEV(y->w2), 2, ed, eh, 0, WL "feed_forward.w2.weight", i);
        add(&l, VOX_TK_BIAS, SLOT(x->b2), DEV(y->b2), 1, ed, 0, 0, WL "feed_forward.w2.bias", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->w3), DEV(y->w3), 2, eh, ed, 0, WL "feed_forward.w3.weight", i);
        add(&l, VOX_TK_NORM, SLOT(x->ffn_norm), DEV(y->ffn_norm), 1, ed, 0, 0, WL "ffn_norm.weight", i);
    }
    add(&l, VOX_TK_NORM, SLOT(w->enc_norm), DEV(m->enc_norm), 1, ed, 0, 0, W "transformer.norm.weight");
    add(&l, VOX_TK_LINEAR, SLOT(w->proj0), DEV(m->proj0), 2, d, (int64_t)p->downsample_factor * ed, 0,
        E "audio_language_projection.0.weight");
    add(&l, VOX_TK_LINEAR, SLOT(w->proj2), DEV(m->proj2), 2, d, d, 0, E "audio_language_projection.2.weight");
    for (int i = 0; i < p->n_layers; i++) {
        vox_dec_layer_host_t *x = w ? &w->dec[i] : NULL;
        vox_dec_layer_backend_t *y = m ? &m->dec[i] : NULL;
        add(&l, VOX_TK_NORM, SLOT(x->attention_norm), DEV(y->attention_norm), 1, d, 0, 0,
            "layers.%d.attention_norm.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->wq), DEV(y->wq), 2, q, d, 0, "layers.%d.attention.wq.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->wk), DEV(y->wk), 2, kv, d, 0, "layers.%d.attention.wk.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->wv), DEV(y->wv), 2, kv, d, 0, "layers.%d.attention.wv.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->wo), DEV(y->wo), 2, d, q, 0, "layers.%d.attention.wo.weight", i);
        add(&l, VOX_TK_NORM, SLOT(x->ffn_norm), DEV(y->ffn_norm), 1, d, 0, 0, "layers.%d.ffn_norm.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->w1), DEV(y->w1), 2, h, d, 0, "layers.%d.feed_forward.w1.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->w2), DEV(y->w2), 2, d, h, 0, "layers.%d.feed_forward.w2.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->w3), DEV(y->w3), 2, h, d, 0, "layers.%d.feed_forward.w3.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->ada_down), NULL, 2, tc, d, 0, "layers.%d.ada_rms_norm_t_cond.0.weight", i);
        add(&l, VOX_TK_LINEAR, SLOT(x->ada_up), NULL, 2, d, tc, 0, "layers.%d.ada_rms_norm_t_cond.2.weight", i);
    }
    add(&l, VOX_TK_NORM, SLOT(w->norm), DEV(m->norm), 1, d, 0, 0, "norm.weight");
#undef DEV
#undef SLOT
    *out = l.v;
    return l.n;
}

int vox_weights_decoder_bytes_per_step(const vox_params_t *p, int64_t *bytes, vox_error_t *err) {
    vox_tensor_spec_t *spec;
    int n = vox_weights_spec(p, NULL, NULL, &spec, err);
    if (n < 0) return n;
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        const vox_tensor_spec_t *s = &spec[i];
        int decoder = strncmp(s->name, "layers.", 7) == 0 && !strstr(s->name, ".ada_rms_norm_t_cond.");
        if (!decoder && s->kind != VOX_TK_EMBED && strcmp(s->name, "norm.weight") != 0) continue;
        int64_t elems = 1;
        for (int k = 0; k < s->ndim; k++) elems *= s->shape[k];
        sum += 2 * elems; /* BF16 */
    }
    free(spec);
    *bytes = sum;
    return 0;
}

int vox_weights_spec_write_json(FILE *f, const vox_params_t *p, vox_error_t *err) {
    vox_tensor_spec_t *spec;
    int n = vox_weights_spec(p, NULL, NULL, &spec, err);
    if (n < 0) return n;
    fputs("{\"tensors\":[", f);
    for (int i = 0; i < n; i++) { /* names come from the format strings above: nothing to escape */
        fprintf(f, "%s{\"name\":\"%s\",\"shape\":[", i ? "," : "", spec[i].name);
        for (int k = 0; k < spec[i].ndim; k++) fprintf(f, "%s%lld", k ? "," : "", (long long)spec[i].shape[k]);
        fprintf(f, "],\"dtype\":\"%s\"}", VOX_CHECKPOINT_DTYPE);
    }
    fputs("]}\n", f);
    free(spec);
    return 0;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

int vox_weights_load(const char *dir, const vox_params_t *p, vox_weights_t *w, vox_error_t *err) {
    char path[4096];
    memset(w, 0, sizeof *w);
    if (snprintf(path, sizeof path, "%s/consolidated.safetensors", dir) >= (int)sizeof path)
        return vox_fail(err, VOX_EMODEL, "model folder path is too long. Use a shorter path");
    if (access(path, F_OK) != 0)
        return vox_fail(err, VOX_EMODEL,
                        "model folder %s has no consolidated.safetensors. Download it from " MODEL_URL
                        " into that folder, or pass -d with the model folder",
                        dir);
    int rc = vox_safetensors_open(path, &w->st, err);
    if (rc) return rc;
    w->enc = calloc((size_t)p->enc_n_layers, sizeof *w->enc);
    w->dec = calloc((size_t)p->n_layers, sizeof *w->dec);
    vox_tensor_spec_t *spec = NULL;
    int n = (w->enc && w->dec)
                ? vox_weights_spec(p, w, NULL, &spec, err)
                : vox_fail(err, VOX_ENOMEM, "out of memory loading the weights. Free some memory and retry");
    rc = n < 0 ? n : 0;
    for (int i = 0; i < n && !rc; i++) {
        const vox_tensor_spec_t *s = &spec[i];
        const vox_tensor_t *t = vox_safetensors_find(&w->st, s->name);
        char want[96], got[96];
        shape_str(want, sizeof want, s->ndim, s->shape);
        if (!t) {
            rc = vox_fail(err, VOX_EMODEL,
                          "consolidated.safetensors has no tensor '%s' (expected shape %s); the file does not "
                          "match params.json. Download params.json and consolidated.safetensors of the same model "
                          "from " MODEL_URL,
                          s->name, want);
            break;
        }
        shape_str(got, sizeof got, t->ndim, t->shape);
        if (strcmp(want, got) != 0) {
            rc = vox_fail(err, VOX_EMODEL,
                          "consolidated.safetensors: tensor '%s' has shape %s but params.json implies %s; the "
                          "two files come from different models. Download both from " MODEL_URL,
                          s->name, got, want);
            break;
        }
        *s->slot = t;
    }
    free(spec);
    if (rc) vox_weights_free(w);
    return rc;
}

void vox_weights_free(vox_weights_t *w) {
    vox_safetensors_close(&w->st);
    free(w->enc);
    free(w->dec);
    memset(w, 0, sizeof *w);
}

float vox_tensor_get_f32(const vox_tensor_t *t, size_t i) {
    const char *src = (const char *)t->data + i * vox_dtype_size(t->dtype);
    if (t->dtype == VOX_DT_F32) {
        float f;
        memcpy(&f, src, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, src, 2);
    return t->dtype == VOX_DT_BF16 ? vox_bf16_to_f32(h) : vox_f16_to_f32(h);
}

void vox_tensor_to_f32(const vox_tensor_t *t, float *out) {
    size_t n = t->nbytes / vox_dtype_size(t->dtype);
    for (size_t i = 0; i < n; i++) out[i] = vox_tensor_get_f32(t, i);
}

void vox_tensor_release_pages(const vox_tensor_t *t) {
    /* Whole pages around the tensor (a neighbour's shared page is simply re-read if needed).
     * MADV_DONTNEED on a read-only private file mapping only drops clean page-cache references;
     * a failure costs memory, never correctness, so it is not an error. */
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)t->data, mask = (uintptr_t)(page > 0 ? page : 4096) - 1;
    uintptr_t lo = a & ~mask, hi = (a + t->nbytes + mask) & ~mask;
    if (t->nbytes) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
