/* synth.c — synthetic Voxtral models (see synth.h). The tensor list and shapes come from
 * vox_weights_spec(), the same list the loader validates against, so a synthetic model always
 * loads. Random values: xoshiro256** seeded per tensor from (seed, tensor name), so a tensor's
 * values do not depend on the order or chunking of the writes; a normal variate is approximated
 * by the sum of four 16-bit uniforms (Irwin–Hall, rescaled to unit variance). */
#define _POSIX_C_SOURCE 200809L
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "params.h"
#include "weights.h"

#define CHUNK ((size_t)1 << 20) /* values generated and written per step */

/* ---- PRNG ---- */

typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed, const char *name) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the name */
    for (const char *c = name; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    uint64_t x = seed ^ h;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rng_next(rng_t *r) {
    uint64_t *s = r->s, t = s[1] << 17;
    uint64_t out = s[1] * 5;
    out = ((out << 7) | (out >> 57)) * 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

/* ~N(0, 1): four uniforms on [0, 65535] have mean 131070 and variance 4 · (65536² − 1)/12. */
static float rng_normal(rng_t *r) {
    uint64_t u = rng_next(r);
    double sum = (double)(u & 0xffff) + (double)((u >> 16) & 0xffff) + (double)((u >> 32) & 0xffff) + (double)(u >> 48);
    return (float)((sum - 131070.0) * (1.0 / 37837.23)); /* sqrt(4 * (65536^2 - 1) / 12) */
}

/* ---- the two sizes ---- */

static void real_params(vox_params_t *p) {
    memset(p, 0, sizeof *p);
    p->dim = 3072;
    p->n_layers = 26;
    p->head_dim = 128;
    p->hidden_dim = 9216;
    p->n_heads = 32;
    p->n_kv_heads = 8;
    p->vocab_size = 131072;
    p->sliding_window = 8192;
    p->ada_t_cond_dim = 32;
    p->tied_embeddings = 1;
    p->rope_theta = 1e6;
    p->norm_eps = 1e-5;
    p->enc_dim = 1280;
    p->enc_n_layers = 32;
    p->enc_head_dim = 64;
    p->enc_hidden_dim = 5120;
    p->enc_n_heads = 32;
    p->enc_n_kv_heads = 32;
    p->enc_sliding_window = 750;
    p->enc_rope_theta = 1e6;
    p->enc_norm_eps = 1e-5;
    p->sampling_rate = 16000;
    p->n_mels = 128;
    p->hop_length = 160;
    p->window_size = 400;
    p->frame_rate = 12.5;
    p->global_log_mel_max = 1.5;
    p->downsample_factor = 4;
}

/* The shapes of the small test fixtures (checks/reference): real windows, GQA 2:1 in the decoder. */
static void tiny_params(vox_params_t *p) {
    real_params(p);
    p->dim = 64;
    p->n_layers = 2;
    p->head_dim = 32;
    p->hidden_dim = 160;
    p->n_heads = 4;
    p->n_kv_heads = 2;
    p->vocab_size = 1300;
    p->enc_dim = 64;
    p->enc_n_layers = 2;
    p->enc_head_dim = 16;
    p->enc_hidden_dim = 128;
    p->enc_n_heads = 4;
    p->enc_n_kv_heads = 4;
}

/* ---- [STREAMING_PAD] at a chosen rate (synth.h) ---- */

#define PAD_ID      32
#define EMBED_SCALE 0.1 /* scale_of(VOX_TK_EMBED) */
#define FINAL_NORM  4.0 /* scale_of("norm.weight") */

typedef struct {
    int on;
    double rate, c, d, g, mu, mu_sd, s, k;
} pad_plan_t;

static double norm_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static double norm_pdf(double x) { return exp(-0.5 * x * x) * 0.39894228040143268; } /* 1 / sqrt(2 pi) */

/* Expected fraction of steps PAD wins when its logit is k·x + Z and the other vocab−1 logits are
 * N(0, 1) (all in units of the logit spread s), x ~ N(mu, sd²), Z ~ N(0, 1): the mean over x of
 * P(k·x + Z > M), M the largest of the others, by quadrature on grids over x and M. */
static double pad_win_rate(double k, double mu, double sd, int vocab) {
    enum { NM = 601, NX = 61 };
    const double m0 = -2.0, m1 = 10.0, dm = (m1 - m0) / (NM - 1), x0 = mu - 5.0 * sd, dx = 10.0 * sd / (NX - 1);
    double rate = 0, wsum = 0;
    for (int ix = 0; ix < NX; ix++) {
        double x = x0 + ix * dx, w = norm_pdf((x - mu) / sd), inner = 0;
        for (int im = 0; im < NM; im++) {
            double m = m0 + im * dm;
            double fm = (vocab - 1) * norm_pdf(m) * exp((vocab - 2) * log(fmax(norm_cdf(m), 1e-300)));
            inner += fm * norm_cdf(k * x - m) * dm;
        }
        rate += w * inner;
        wsum += w;
    }
    return rate / wsum;
}

/* Full size, as measured on an H200 (CUDA, 30 s of speech, engine 8a3ab4e and a6947e4, two
 * values of g): the hidden feature x̂₀ = 4.37 ± 0.165 (a row's mean logit is g·c·x̂₀); without PAD's
 * advantage the best other id sits G = 96.75 above PAD, varying by 6.35 (sd) and with a covariance
 * of 0.629 with x̂₀ (the random model's logits drift slowly with the audio, far less than the logit
 * spread of 22.1: a step is no fresh Gaussian draw). So PAD wins when u·x̂₀ > G (u = g·d) with
 * probability Φ((u·4.37 − G) / sd(u)), sd(u)² = 6.35² − 2u·0.629 + u²·0.165². */
static double pad_rate_full(double u) {
    double sd = sqrt(fmax(6.35 * 6.35 - 2 * u * 0.629 + u * u * 0.165 * 0.165, 1e-9));
    return norm_cdf((u * 4.37 - 96.75) / sd);
}

/* The constant c = 2.5 · sqrt(0.36 + 4 · n_layers) (about 2.5 times a first guess at the rms of the
 * final hidden state). Full size: g from pad_rate_full. Tiny: the Gaussian picture (pad_win_rate,
 * x̂₀ = 3.48 ± 0.10 measured on the CPU); its logits are far from Gaussian (it repeats a few ids), so
 * its rate comes out near 0 or 1. The rate a run measures is the fact to report. */
static int pad_plan(const vox_params_t *p, int full, double rate, pad_plan_t *pl, vox_error_t *err) {
    memset(pl, 0, sizeof *pl);
    if (rate < 0) return 0;
    pl->on = 1;
    pl->rate = rate;
    pl->mu = full ? 4.37 : 3.48;
    pl->mu_sd = full ? 0.165 : 0.10;
    pl->c = vox_bf16_to_f32(vox_f32_to_bf16((float)(2.5 * sqrt(0.36 + 4.0 * p->n_layers))));
    pl->d = vox_bf16_to_f32(vox_f32_to_bf16((float)(pl->c + EMBED_SCALE))) - pl->c;
    pl->s = FINAL_NORM * EMBED_SCALE * sqrt((p->dim - (pl->mu * pl->mu + pl->mu_sd * pl->mu_sd)));
    double lo = 0, hi = 200; /* k: PAD's advantage per unit of x̂₀, in logit spreads */
    double top = full ? pad_rate_full(hi * pl->s) : pad_win_rate(hi, pl->mu, pl->mu_sd, p->vocab_size);
    if (top < rate)
        return vox_fail(err, VOX_EUSAGE,
                        "--synthetic-pad-rate %g is more than this recipe reaches (%.3f). Use a lower rate", rate, top);
    for (int it = 0; it < 40; it++) {
        double mid = 0.5 * (lo + hi);
        double r = full ? pad_rate_full(mid * pl->s) : pad_win_rate(mid, pl->mu, pl->mu_sd, p->vocab_size);
        if (r < rate)
            lo = mid;
        else
            hi = mid;
    }
    pl->k = 0.5 * (lo + hi);
    pl->g = vox_bf16_to_f32(vox_f32_to_bf16((float)(pl->k * pl->s / pl->d)));
    return 0;
}

/* Overrides the values of tensor `name` from element `first` on (m of them) as the plan says. */
static void pad_apply(const pad_plan_t *pl, const vox_tensor_spec_t *t, uint64_t first, uint16_t *buf, size_t m) {
    if (!pl->on) return;
    if (t->kind == VOX_TK_EMBED) { /* the token embeddings, also the LM head */
        uint64_t dim = (uint64_t)t->shape[1];
        for (uint64_t e = first + (dim - first % dim) % dim; e < first + m; e += dim)
            buf[e - first] = vox_f32_to_bf16((float)(e / dim == PAD_ID ? pl->c + pl->d : pl->c));
    } else if (!strcmp(t->name, "norm.weight") && first == 0 && m > 0) {
        buf[0] = vox_f32_to_bf16((float)pl->g);
    }
}

/* ---- file helpers ---- */

static int write_fail(const char *path, vox_error_t *err) {
    return vox_fail(err, VOX_EMODEL,
                    "cannot write %s: %s. Free disk space (the full model needs 8.9 GB) or choose "
                    "another folder",
                    path, strerror(errno));
}

/* mkdir -p */
static int make_dirs(const char *dir, vox_error_t *err) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return vox_fail(err, VOX_EUSAGE,
                        "--write-synthetic needs a folder path. Pass one, e.g. --write-synthetic /tmp/vox-synth");
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        struct stat sb;
        const char *why = NULL;
        if (stat(buf, &sb) != 0) {
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) why = strerror(errno);
        } else if (!S_ISDIR(sb.st_mode)) {
            why = "a file of that name is in the way";
        }
        if (why)
            return vox_fail(err, VOX_EUSAGE, "cannot create folder %s: %s. Choose another folder for --write-synthetic",
                            buf, why);
        buf[i] = c;
    }
    return 0;
}

/* Moves DIR/NAME.tmp to DIR/NAME. */
static int commit(const char *dir, const char *name, vox_error_t *err) {
    char tmp[4200], dst[4200];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    if (rename(tmp, dst) != 0) return write_fail(dst, err);
    return 0;
}

/* A file written as DIR/NAME.tmp and moved to DIR/NAME by tmp_commit once complete. */
typedef struct {
    FILE *f;
    const char *dir, *name;
    char path[4200]; /* DIR/NAME.tmp */
} tmp_file;

static int tmp_open(tmp_file *t, const char *dir, const char *name, vox_error_t *err) {
    t->dir = dir;
    t->name = name;
    snprintf(t->path, sizeof t->path, "%s/%s.tmp", dir, name);
    t->f = fopen(t->path, "wb");
    return t->f ? 0 : write_fail(t->path, err);
}

/* Closes the file (a write or close error names it) and moves it into place. */
static int tmp_commit(tmp_file *t, vox_error_t *err) {
    if (ferror(t->f) | fclose(t->f)) return write_fail(t->path, err);
    return commit(t->dir, t->name, err);
}

/* ---- params.json ---- */

static int write_params(const char *dir, const vox_params_t *p, vox_error_t *err) {
    tmp_file t;
    if (tmp_open(&t, dir, "params.json", err)) return VOX_EMODEL;
    FILE *f = t.f;
    fprintf(f,
            "{\n  \"dim\": %d,\n  \"n_layers\": %d,\n  \"head_dim\": %d,\n  \"hidden_dim\": %d,\n  \"n_heads\": %d,\n"
            "  \"n_kv_heads\": %d,\n  \"rope_theta\": %.1f,\n  \"norm_eps\": %g,\n  \"vocab_size\": %d,\n"
            "  \"tied_embeddings\": true,\n  \"sliding_window\": %d,\n  \"ada_rms_norm_t_cond\": true,\n"
            "  \"ada_rms_norm_t_cond_dim\": %d,\n",
            p->dim, p->n_layers, p->head_dim, p->hidden_dim, p->n_heads, p->n_kv_heads, p->rope_theta, p->norm_eps,
            p->vocab_size, p->sliding_window, p->ada_t_cond_dim);
    fprintf(f,
            "  \"multimodal\": {\n    \"whisper_model_args\": {\n      \"encoder_args\": {\n"
            "        \"audio_encoding_args\": {\n          \"sampling_rate\": %d,\n          \"frame_rate\": %.1f,\n"
            "          \"num_mel_bins\": %d,\n          \"hop_length\": %d,\n          \"window_size\": %d,\n"
            "          \"global_log_mel_max\": %.1f\n        },\n"
            "        \"dim\": %d,\n        \"n_layers\": %d,\n        \"head_dim\": %d,\n        \"hidden_dim\": %d,\n"
            "        \"n_heads\": %d,\n        \"n_kv_heads\": %d,\n        \"rope_theta\": %.1f,\n        "
            "\"norm_eps\": %g,\n"
            "        \"sliding_window\": %d\n      },\n"
            "      \"downsample_args\": {\n        \"downsample_factor\": %d\n      }\n    }\n  }\n}\n",
            p->sampling_rate, p->frame_rate, p->n_mels, p->hop_length, p->window_size, p->global_log_mel_max,
            p->enc_dim, p->enc_n_layers, p->enc_head_dim, p->enc_hidden_dim, p->enc_n_heads, p->enc_n_kv_heads,
            p->enc_rope_theta, p->enc_norm_eps, p->enc_sliding_window, p->downsample_factor);
    return tmp_commit(&t, err);
}

/* ---- tekken.json ---- */

static void base64(const unsigned char *in, size_t n, char *out) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

/* 1000 control tokens (<unk> <s> </s> at 0..2, [STREAMING_PAD] at 32), then 256 single bytes,
 * then pseudo-random 2–4 letter pieces (a leading space on about a third), enough for vocab_size. */
static int write_tekken(const char *dir, const vox_params_t *p, uint64_t seed, vox_error_t *err) {
    char b64[16];
    tmp_file t;
    if (tmp_open(&t, dir, "tekken.json", err)) return VOX_EMODEL;
    FILE *f = t.f;
    const int n_special = 1000, n_vocab = p->vocab_size - n_special;
    fprintf(f,
            "{\"config\": {\"pattern\": \"synthetic\", \"num_vocab_tokens\": %d, \"default_vocab_size\": %d, "
            "\"default_num_special_tokens\": %d, \"version\": \"v13\"},\n\"vocab\": [\n",
            n_vocab, p->vocab_size, n_special);
    rng_t r;
    rng_seed(&r, seed, "tekken.json");
    for (int k = 0; k < n_vocab; k++) {
        unsigned char piece[4];
        size_t n = 1;
        if (k < 256) {
            piece[0] = (unsigned char)k;
        } else {
            uint64_t u = rng_next(&r);
            n = 2 + (size_t)(u % 3);
            for (size_t i = 0; i < n; i++) piece[i] = (unsigned char)('a' + (u >> (8 + 8 * i)) % 26);
            if ((u >> 60) % 3 == 0) piece[0] = ' ';
        }
        base64(piece, n, b64);
        int printable = n > 1 || (piece[0] >= 0x20 && piece[0] < 0x7f && piece[0] != '"' && piece[0] != '\\');
        fprintf(f, "{\"rank\": %d, \"token_bytes\": \"%s\", \"token_str\": ", k, b64);
        if (printable)
            fprintf(f, "\"%.*s\"}", (int)n, (const char *)piece);
        else
            fprintf(f, "null}");
        fputs(k + 1 < n_vocab ? ",\n" : "\n", f);
    }
    fputs("],\n\"special_tokens\": [\n", f);
    for (int i = 0; i < n_special; i++) {
        const char *name = i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : i == 32 ? "[STREAMING_PAD]" : NULL;
        if (name)
            fprintf(f, "{\"rank\": %d, \"token_str\": \"%s\", \"is_control\": true}", i, name);
        else
            fprintf(f, "{\"rank\": %d, \"token_str\": \"<SPECIAL_%d>\", \"is_control\": true}", i, i);
        fputs(i + 1 < n_special ? ",\n" : "\n", f);
    }
    fputs("]}\n", f);
    return tmp_commit(&t, err);
}

/* ---- consolidated.safetensors ---- */

static float scale_of(const vox_tensor_spec_t *s, int *is_const) {
    *is_const = s->kind == VOX_TK_NORM;
    switch (s->kind) {
    case VOX_TK_NORM: return strcmp(s->name, "norm.weight") == 0 ? 4.0f : 1.0f; /* sharper logits */
    case VOX_TK_EMBED: return 0.1f;                                             /* tokens follow the audio */
    case VOX_TK_BIAS: return 0.1f;
    default: return (float)(1.0 / sqrt((double)(s->shape[1] * (s->ndim == 3 ? s->shape[2] : 1))));
    }
}

static uint64_t numel(const vox_tensor_spec_t *s) {
    uint64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= (uint64_t)s->shape[i];
    return n;
}

/* Header JSON, padded with spaces to a multiple of 8 so the data section is aligned. */
static char *make_header(const vox_tensor_spec_t *spec, int n, size_t *len) {
    size_t cap = 256 + (size_t)n * 256, o = 0;
    char *h = malloc(cap);
    if (!h) return NULL;
    o += (size_t)snprintf(h + o, cap - o,
                          "{\"__metadata__\":{\"format\":\"pt\",\"writer\":\"voxtral --write-synthetic\"}");
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        uint64_t bytes = numel(&spec[i]) * 2;
        o += (size_t)snprintf(h + o, cap - o, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[", spec[i].name);
        for (int d = 0; d < spec[i].ndim; d++)
            o += (size_t)snprintf(h + o, cap - o, "%s%lld", d ? "," : "", (long long)spec[i].shape[d]);
        o += (size_t)snprintf(h + o, cap - o, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                              (unsigned long long)(off + bytes));
        off += bytes;
    }
    o += (size_t)snprintf(h + o, cap - o, "}");
    while (o % 8) h[o++] = ' ';
    *len = o;
    return h;
}

static int write_weights(const char *dir, const vox_params_t *p, uint64_t seed, const pad_plan_t *pad, int progress,
                         vox_error_t *err) {
    vox_tensor_spec_t *spec;
    int n = vox_weights_spec(p, NULL, NULL, &spec, err);
    if (n < 0) return n;
    uint64_t total = 0, done = 0;
    for (int i = 0; i < n; i++) total += numel(&spec[i]) * 2;
    size_t hlen = 0;
    char *hdr = make_header(spec, n, &hlen);
    uint16_t *buf = malloc(CHUNK * sizeof *buf);
    tmp_file t = {NULL};
    int rc = !(hdr && buf) ? vox_fail(err, VOX_ENOMEM, "out of memory writing the synthetic model")
                           : tmp_open(&t, dir, "consolidated.safetensors", err);
    FILE *f = t.f;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    if (!rc && (fwrite(len8, 1, 8, f) != 8 || fwrite(hdr, 1, hlen, f) != hlen)) rc = write_fail(t.path, err);
    int last_pct = -1;
    for (int i = 0; i < n && !rc; i++) {
        rng_t r;
        rng_seed(&r, seed, spec[i].name);
        int is_const;
        float scale = scale_of(&spec[i], &is_const);
        for (uint64_t left = numel(&spec[i]); left > 0 && !rc;) {
            size_t m = left < CHUNK ? (size_t)left : CHUNK;
            for (size_t j = 0; j < m; j++) buf[j] = vox_f32_to_bf16(is_const ? scale : scale * rng_normal(&r));
            pad_apply(pad, &spec[i], numel(&spec[i]) - left, buf, m);
            if (fwrite(buf, 2, m, f) != m) rc = write_fail(t.path, err);
            left -= m;
            done += m * 2;
            int pct = (int)(done * 100 / total);
            if (progress && total > ((uint64_t)100 << 20) && pct / 5 != last_pct / 5) { /* big models only */
                fprintf(stderr, "voxtral: writing %s/consolidated.safetensors: %3d%% (%.2f of %.2f GB)\n", dir, pct,
                        done / 1e9, total / 1e9);
                last_pct = pct;
            }
        }
    }
    if (f && (fclose(f) != 0) && !rc) rc = write_fail(t.path, err);
    if (!rc) rc = commit(dir, "consolidated.safetensors", err);
    free(buf);
    free(hdr);
    free(spec);
    return rc;
}

/* DIR/synthetic-pad.json: the plan, so a run's measured rate can be read beside it. */
static int write_pad_plan(const char *dir, const pad_plan_t *pl, vox_error_t *err) {
    tmp_file t;
    if (tmp_open(&t, dir, "synthetic-pad.json", err)) return VOX_EMODEL;
    fprintf(t.f,
            "{\"pad_rate\": %g, \"pad_id\": %d, \"column\": 0, \"constant\": %g, \"pad_extra\": %g, "
            "\"final_norm_at_column\": %g, \"assumed_xhat\": %g, \"assumed_xhat_sd\": %g, "
            "\"logit_spread\": %.4f, \"advantage_per_xhat\": %.4f}\n",
            pl->rate, PAD_ID, pl->c, pl->d, pl->g, pl->mu, pl->mu_sd, pl->s, pl->k);
    return tmp_commit(&t, err);
}

int vox_synth_params(const char *size, vox_params_t *p, vox_error_t *err) {
    if (!strcmp(size, "full"))
        real_params(p);
    else if (!strcmp(size, "tiny"))
        tiny_params(p);
    else
        return vox_fail(err, VOX_EUSAGE, "--synthetic-size is '%s'. Use full or tiny", size);
    return 0;
}

int vox_synth_write(const char *dir, const char *size, uint64_t seed, double pad_rate, int progress, vox_error_t *err) {
    vox_params_t p;
    int rc = vox_synth_params(size, &p, err);
    if (rc) return rc;
    pad_plan_t pad;
    rc = pad_plan(&p, !strcmp(size, "full"), pad_rate, &pad, err);
    if (rc) return rc;
    if ((rc = make_dirs(dir, err))) return rc;
    char path[4200];
    snprintf(path, sizeof path, "%s/params.json", dir);
    if (unlink(path) != 0 && errno != ENOENT)
        return write_fail(path, err); /* the folder is not a model until the end */
    snprintf(path, sizeof path, "%s/synthetic-pad.json", dir);
    if (unlink(path) != 0 && errno != ENOENT) return write_fail(path, err);
    if ((rc = write_weights(dir, &p, seed, &pad, progress, err)) || (rc = write_tekken(dir, &p, seed, err)) ||
        (pad.on && (rc = write_pad_plan(dir, &pad, err))) || (rc = write_params(dir, &p, err)))
        return rc;
    if (progress)
        fprintf(stderr, "voxtral: wrote a %s synthetic model to %s (seed %llu)\n", size, dir, (unsigned long long)seed);
    return 0;
}
