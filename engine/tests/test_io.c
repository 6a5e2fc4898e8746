/* test_io.c — unit tests of the engine's input side: JSON, params.json, safetensors validation,
 * tekken.json (base64), WAV / raw PCM reading, resampling, the mel of silence, .npy writing, the
 * synthetic writer.
 * Every failure case asserts the exact error code and a substring of the message.
 * Usage: test_io [TMPDIR]  (default: a fresh folder under /tmp, removed when every test passes).
 * Exit 0 when all pass. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio.h"
#include "events.h"
#include "json.h"
#include "mel.h"
#include "npy.h"
#include "params.h"
#include "synth.h"
#include "tokenizer.h"
#include "weights.h"

static int n_pass, n_fail;
static char tmp[512];

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (cond)                                                                                                      \
            n_pass++;                                                                                                  \
        else {                                                                                                         \
            n_fail++;                                                                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                            \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

/* rc must be `code`, and err's message must contain `sub`. */
static void expect_err(int line, const char *what, int rc, vox_error_t *e, int code, const char *sub) {
    if (rc == code && e->code == code && strstr(e->msg, sub)) {
        n_pass++;
        return;
    }
    n_fail++;
    fprintf(stderr, "FAIL line %d (%s): rc=%d code=%d msg='%s'; expected code %d and '%s'\n", line, what, rc, e->code,
            e->msg, code, sub);
}
#define EXPECT_ERR(what, rc, e, code, sub) expect_err(__LINE__, what, rc, e, code, sub)

static char *path_in(const char *name) {
    static char buf[8][1024];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 1024, "%s/%s", tmp, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f)) {
        perror(path);
        exit(2);
    }
}

static char *read_text(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    if (fread(b, 1, (size_t)sz, f) != (size_t)sz) exit(2);
    fclose(f);
    b[sz] = 0;
    if (n) *n = (size_t)sz;
    return b;
}

/* ================= vox.c ================= */

static void test_vox(void) {
    vox_error_t e = {0};
    int rc = vox_fail(&e, VOX_EMODEL, "first %d", 1);
    vox_fail(&e, VOX_EAUDIO, "second");
    CHECK(rc == VOX_EMODEL && e.code == VOX_EMODEL && !strcmp(e.msg, "first 1"), "first failure wins: %s", e.msg);
    vox_error_t e2 = {0};
    vox_fail(&e2, VOX_EAUDIO, "line one\nline two");
    CHECK(!strchr(e2.msg, '\n'), "message stays on one line");
    CHECK(vox_exit_code(VOX_EMODEL) == 3 && vox_exit_code(VOX_EAUDIO) == 4 && vox_exit_code(VOX_EUSAGE) == 2 &&
              vox_exit_code(VOX_EDEVICE) == 5 && vox_exit_code(VOX_ENOMEM) == 6 && vox_exit_code(0) == 0 &&
              vox_exit_code(VOX_EINTERNAL) == 1,
          "exit codes");
    CHECK(vox_f16_to_f32(0x3c00) == 1.0f && vox_f16_to_f32(0xc000) == -2.0f &&
              vox_f16_to_f32(0x0001) == ldexpf(1, -24) && vox_f16_to_f32(0x03ff) == ldexpf(1023, -24) &&
              isinf(vox_f16_to_f32(0x7c00)) && isnan(vox_f16_to_f32(0x7e00)) && vox_f16_to_f32(0x7bff) == 65504.0f,
          "f16 decoding");
    CHECK(vox_bf16_to_f32(vox_f32_to_bf16(1.0f + ldexpf(1, -8))) == 1.0f, "bf16 rounds to even");
    double t0 = vox_now_ms();
    CHECK(vox_now_ms() >= t0, "monotonic clock");
}

/* ================= json.c ================= */

static vox_json *parse(const char *s, vox_error_t *e) { return vox_json_parse(s, strlen(s), "test.json", e); }

static void json_bad(int line, const char *text, const char *sub) {
    vox_error_t e = {0};
    vox_json *j = parse(text, &e);
    expect_err(line, text, j ? 0 : e.code, &e, VOX_EMODEL, sub);
    vox_json_free(j);
}

static void test_json(void) {
    vox_error_t e = {0};
    vox_json *j =
        parse(" {\"a\": {\"b\": [1, -2.5e3, true, false, null]}, \"s\": \"x\\u00e9\\ud83d\\ude00\\n\\u0000y\", "
              "\"e\": {}, \"f\": []} ",
              &e);
    CHECK(j && j->type == VOX_JSON_OBJECT && j->count == 4, "object parsed: %s", e.msg);
    if (j) {
        const vox_json *b = vox_json_path(j, "a.b");
        CHECK(b && b->type == VOX_JSON_ARRAY && b->count == 5, "a.b array");
        CHECK(b && b->child->number == 1 && b->child->next->number == -2500 &&
                  b->child->next->next->type == VOX_JSON_BOOL && b->child->next->next->number == 1,
              "numbers and bools");
        const vox_json *s = vox_json_get(j, "s");
        CHECK(s && s->string_len == 10 && !memcmp(s->string, "x\xc3\xa9\xf0\x9f\x98\x80\n\0y", 10),
              "escapes incl. surrogates");
        CHECK(vox_json_get(j, "missing") == NULL && vox_json_path(j, "a.b.c") == NULL, "absent keys are NULL");
        CHECK(vox_json_get(j, "e")->count == 0 && vox_json_get(j, "f")->count == 0, "empty containers");
    }
    vox_json_free(j);
    json_bad(__LINE__, "{\"a\": 1,}", "at byte 8 (expected a string key)");
    json_bad(__LINE__, "[1 2]", "at byte 3 (expected ',' or ']')");
    json_bad(__LINE__, "{\"a\" 1}", "expected ':'");
    json_bad(__LINE__, "\"abc", "unterminated string");
    json_bad(__LINE__, "\"\\ud800x\"", "high surrogate");
    json_bad(__LINE__, "\"\\udc00\"", "lone low surrogate");
    json_bad(__LINE__, "\"\\q\"", "unknown escape");
    json_bad(__LINE__, "\"a\tb\"", "control character");
    json_bad(__LINE__, "01", "unexpected data after");
    json_bad(__LINE__, "[1.]", "expected a value");
    json_bad(__LINE__, "nul", "expected a value");
    json_bad(__LINE__, "{} x", "at byte 3 (unexpected data after the JSON value)");
    json_bad(__LINE__, "", "unexpected end of input");
    json_bad(__LINE__, "test.json: ", "test.json: invalid JSON");
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = 0;
    json_bad(__LINE__, deep, "deeper than 64");
    deep[64] = ']'; /* 64 levels: fine */
    memset(deep + 64, ']', 64);
    deep[128] = 0;
    j = parse(deep, &e);
    CHECK(j != NULL, "64 levels parse: %s", e.msg);
    vox_json_free(j);
}

/* ================= synthetic model + params.json ================= */

static void write_params_variant(const char *dir, const char *from, const char *to) {
    char src[1024];
    snprintf(src, sizeof src, "%s/params.json", path_in("tiny"));
    size_t n;
    char *t = read_text(src, &n);
    mkdir(dir, 0777);
    char out[8192] = "";
    char *hit = strstr(t, from);
    if (!hit) {
        fprintf(stderr, "variant: '%s' not in params.json\n", from);
        exit(2);
    }
    snprintf(out, sizeof out, "%.*s%s%s", (int)(hit - t), t, to, hit + strlen(from));
    char dst[1024];
    snprintf(dst, sizeof dst, "%s/params.json", dir);
    write_file(dst, out, strlen(out));
    free(t);
}

static void params_bad(int line, const char *from, const char *to, const char *sub) {
    char *dir = path_in("pvar");
    write_params_variant(dir, from, to);
    vox_params_t p;
    vox_error_t e = {0};
    expect_err(line, to, vox_params_load(dir, &p, &e), &e, VOX_EMODEL, sub);
}

static void test_params(void) {
    vox_error_t e = {0};
    vox_params_t p;
    int rc = vox_params_load(path_in("tiny"), &p, &e);
    CHECK(rc == 0 && p.dim == 64 && p.n_layers == 2 && p.n_kv_heads == 2 && p.enc_n_kv_heads == 4 &&
              p.vocab_size == 1300 && p.ada_t_cond_dim == 32 && p.enc_sliding_window == 750 &&
              p.sliding_window == 8192 && p.n_mels == 128 && p.hop_length == 160 && p.frame_rate == 12.5 &&
              p.global_log_mel_max == 1.5 && p.downsample_factor == 4 && p.rope_theta == 1e6 && p.norm_eps == 1e-5,
          "tiny params: %s", e.msg);
    params_bad(__LINE__, "\"n_layers\": 2", "\"n_layers\": 0", "params.json: n_layers is 0; expected >= 1");
    params_bad(__LINE__, "\"head_dim\": 32", "\"head_dim\": 33", "head_dim is 33; expected an even number");
    params_bad(__LINE__, "\"n_kv_heads\": 2", "\"n_kv_heads\": 3", "n_heads (4) is not a multiple of n_kv_heads (3)");
    params_bad(__LINE__, "\"dim\": 64", "\"dim\": 1000000000", "dim is 1000000000; expected <= 65536");
    params_bad(__LINE__, "\"vocab_size\": 1300", "\"vocab_size\": 1e12",
               "vocab_size is 1000000000000; expected <= 4194304");
    params_bad(__LINE__, "\"dim\": 64", "\"dim\": \"64\"", "dim is a string; expected an integer");
    params_bad(__LINE__, "\"dim\": 64", "\"dim\": 64.5", "dim is a fraction");
    params_bad(__LINE__, "\"vocab_size\": 1300,", "", "missing key 'vocab_size'");
    params_bad(__LINE__, "\"tied_embeddings\": true", "\"tied_embeddings\": false", "tied_embeddings is false");
    params_bad(__LINE__, "\"sliding_window\": 8192", "\"sliding_window\": 0", "sliding_window is 0; expected >= 1");
    params_bad(__LINE__, "\"norm_eps\": 1e-05", "\"norm_eps\": -1", "norm_eps is -1");
    params_bad(__LINE__, "\"sampling_rate\": 16000", "\"sampling_rate\": 8000", "supports 16000 only");
    params_bad(__LINE__, "\"downsample_factor\": 4", "\"downsample_factor\": null", "downsample_factor is null");
    params_bad(__LINE__, "{", "[", "invalid JSON at byte");
    /* defaults: ada_rms_norm_t_cond_dim (32) and encoder n_kv_heads (= n_heads) may be absent */
    write_params_variant(path_in("pvar"), "\"ada_rms_norm_t_cond_dim\": 32,", "");
    memset(&e, 0, sizeof e);
    CHECK(vox_params_load(path_in("pvar"), &p, &e) == 0 && p.ada_t_cond_dim == 32, "default t_cond dim: %s", e.msg);
    memset(&e, 0, sizeof e);
    rc = vox_params_load(path_in("no-such-folder"), &p, &e);
    EXPECT_ERR("missing folder", rc, &e, VOX_EMODEL, "no-such-folder does not exist. Download params.json");
    mkdir(path_in("empty"), 0777);
    memset(&e, 0, sizeof e);
    rc = vox_params_load(path_in("empty"), &p, &e);
    EXPECT_ERR("empty folder", rc, &e, VOX_EMODEL, "has no params.json. Download");
    write_file(path_in("a-file"), "x", 1);
    memset(&e, 0, sizeof e);
    rc = vox_params_load(path_in("a-file"), &p, &e);
    EXPECT_ERR("file as folder", rc, &e, VOX_EMODEL, "is not a folder");
}

/* ================= safetensors ================= */

/* A safetensors file from a header text (padded with spaces to a multiple of 8, as writers do)
 * and a data section of `data_len` bytes (value i & 0xff). */
static void write_st(const char *path, const char *header_text, size_t data_len, uint64_t hlen_override) {
    char header[2048];
    snprintf(header, sizeof header, "%-*s", (int)((strlen(header_text) + 7) / 8 * 8), header_text);
    size_t hl = strlen(header);
    uint64_t h = hlen_override ? hlen_override : hl;
    size_t n = 8 + hl + data_len;
    unsigned char *b = malloc(n);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(h >> (8 * i));
    memcpy(b + 8, header, hl);
    for (size_t i = 0; i < data_len; i++) b[8 + hl + i] = (unsigned char)i;
    write_file(path, b, n);
    free(b);
}

static void st_bad(int line, const char *header, size_t data_len, uint64_t hlen, const char *sub) {
    char *path = path_in("bad.safetensors");
    write_st(path, header, data_len, hlen);
    vox_safetensors_t st;
    vox_error_t e = {0};
    expect_err(line, header, vox_safetensors_open(path, &st, &e), &e, VOX_EMODEL, sub);
}

static void test_safetensors(void) {
    vox_error_t e = {0};
    vox_safetensors_t st;
    /* 8-byte header text; F32 [2] at 0..8, F16 [2] at 8..12, BF16 [2] at 12..16 */
    const char *good =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
        "\"c\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[12,16]},\"__metadata__\":{\"x\":\"y\"}}";
    char hdr[1024];
    snprintf(hdr, sizeof hdr, "%-*s", (int)((strlen(good) + 7) / 8 * 8), good); /* pad to 8 with spaces */
    char *path = path_in("good.safetensors");
    size_t hl = strlen(hdr);
    unsigned char file[2048];
    for (int i = 0; i < 8; i++) file[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(file + 8, hdr, hl);
    float f32[2] = {1.5f, -3.0f};
    uint16_t f16[2] = {0x3c00, 0xc400}, bf[2] = {vox_f32_to_bf16(0.25f), vox_f32_to_bf16(-7.0f)};
    memcpy(file + 8 + hl, f32, 8);
    memcpy(file + 8 + hl + 8, f16, 4);
    memcpy(file + 8 + hl + 12, bf, 4);
    write_file(path, file, 8 + hl + 16);
    int rc = vox_safetensors_open(path, &st, &e);
    CHECK(rc == 0 && st.n_tensors == 3, "good file opens: %s", e.msg);
    if (!rc) {
        const vox_tensor_t *a = vox_safetensors_find(&st, "a"), *b = vox_safetensors_find(&st, "b"),
                           *c = vox_safetensors_find(&st, "c");
        CHECK(a && b && c && !vox_safetensors_find(&st, "__metadata__"), "find");
        float out[2];
        vox_tensor_to_f32(b, out);
        CHECK(vox_tensor_get_f32(a, 1) == -3.0f && out[0] == 1.0f && out[1] == -4.0f &&
                  vox_tensor_get_f32(c, 0) == 0.25f && vox_tensor_get_f32(c, 1) == -7.0f && c->ndim == 2 &&
                  c->shape[1] == 2,
              "values of F32/F16/BF16");
        vox_safetensors_close(&st);
    }
    st_bad(__LINE__, "{}", 0, 1000, "header length 1000 goes beyond the end of the file");
    st_bad(__LINE__, "{}", 0, (uint64_t)200 << 20, "larger than the 100 MiB limit");
    st_bad(__LINE__,
           "{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]},"
           "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[4,12]}}",
           16, 0, "tensors 'a' and 'b' overlap");
    st_bad(__LINE__, "{\"a\":{\"dtype\":\"BF16\",\"shape\":[500],\"data_offsets\":[0,1000]}}", 16, 0,
           "is truncated or damaged: tensor 'a' needs data bytes [0, 1000) but the data section has only 16 bytes");
    st_bad(__LINE__, "{\"a\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 16, 0,
           "tensor 'a' has dtype I8; the engine needs BF16, F16 or F32");
    st_bad(__LINE__, "{\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 16, 0,
           "tensor 'a' holds 8 bytes but its dtype BF16 and shape need 6");
    st_bad(__LINE__, "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,4]}}", 16, 0,
           "invalid data_offsets");
    st_bad(__LINE__, "{\"a\":{\"dtype\":\"BF16\",\"shape\":[-2],\"data_offsets\":[0,4]}}", 16, 0,
           "invalid shape entry");
    st_bad(__LINE__, "{\"a\":{\"shape\":[2],\"data_offsets\":[0,4]}}", 16, 0, "lacks a dtype, shape or data_offsets");
    st_bad(__LINE__, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", 16, 0, "not aligned");
    st_bad(__LINE__, "{\"a\": nope}", 16, 0, "consolidated.safetensors header: invalid JSON at byte 6");
    st_bad(__LINE__, "[]", 16, 0, "the header is not a JSON object");
    write_file(path_in("short.safetensors"), "abc", 3);
    memset(&e, 0, sizeof e);
    rc = vox_safetensors_open(path_in("short.safetensors"), &st, &e);
    EXPECT_ERR("3-byte file", rc, &e, VOX_EMODEL, "too short to hold the 8-byte header length");

    /* the real tensor list: 711 tensors */
    vox_params_t real = {.dim = 3072,
                         .n_layers = 26,
                         .head_dim = 128,
                         .hidden_dim = 9216,
                         .n_heads = 32,
                         .n_kv_heads = 8,
                         .vocab_size = 131072,
                         .ada_t_cond_dim = 32,
                         .enc_dim = 1280,
                         .enc_n_layers = 32,
                         .enc_head_dim = 64,
                         .enc_hidden_dim = 5120,
                         .enc_n_heads = 32,
                         .enc_n_kv_heads = 32,
                         .n_mels = 128,
                         .downsample_factor = 4};
    vox_tensor_spec_t *spec;
    int n = vox_weights_spec(&real, NULL, NULL, &spec, &e);
    uint64_t params = 0;
    for (int i = 0; i < n; i++) {
        uint64_t k = 1;
        for (int d = 0; d < spec[i].ndim; d++) k *= (uint64_t)spec[i].shape[d];
        params += k;
    }
    CHECK(n == 711, "real model has 711 tensors, got %d", n);
    CHECK(params > 4.3e9 && params < 4.5e9, "real model ~4.4 B parameters, got %llu", (unsigned long long)params);
    free(spec);

    /* the tiny model loads; then truncated, missing tensor, shape mismatch */
    vox_params_t p;
    vox_weights_t w;
    memset(&e, 0, sizeof e);
    vox_params_load(path_in("tiny"), &p, &e);
    rc = vox_weights_load(path_in("tiny"), &p, &w, &e);
    CHECK(rc == 0 && w.st.n_tensors == 57 && w.dec[1].ada_up && w.enc[1].b2 && w.norm &&
              vox_tensor_get_f32(w.norm, 0) == 4.0f && w.proj0->shape[1] == 256,
          "tiny weights load: %s", e.msg);
    if (!rc) vox_weights_free(&w);

    char *td = path_in("trunc");
    mkdir(td, 0777);
    size_t sz;
    char src[1024], dst[1024];
    snprintf(src, sizeof src, "%s/consolidated.safetensors", path_in("tiny"));
    snprintf(dst, sizeof dst, "%s/consolidated.safetensors", td);
    char *blob = read_text(src, &sz);
    write_file(dst, blob, sz - 100);
    free(blob);
    memset(&e, 0, sizeof e);
    rc = vox_weights_load(td, &p, &w, &e);
    EXPECT_ERR("truncated", rc, &e, VOX_EMODEL,
               "consolidated.safetensors is truncated or damaged: tensor 'norm.weight'");
    memset(&e, 0, sizeof e);
    rc = vox_weights_load(path_in("empty"), &p, &w, &e);
    EXPECT_ERR("no safetensors", rc, &e, VOX_EMODEL, "has no consolidated.safetensors");

    vox_params_t p3 = p;
    p3.n_layers = 3;
    memset(&e, 0, sizeof e);
    rc = vox_weights_load(path_in("tiny"), &p3, &w, &e);
    EXPECT_ERR(
        "missing tensor", rc, &e, VOX_EMODEL,
        "has no tensor 'layers.2.attention_norm.weight' (expected shape [64]); the file does not match params.json");
    vox_params_t ph = p;
    ph.hidden_dim = 192;
    memset(&e, 0, sizeof e);
    rc = vox_weights_load(path_in("tiny"), &ph, &w, &e);
    EXPECT_ERR("shape mismatch", rc, &e, VOX_EMODEL,
               "tensor 'layers.0.feed_forward.w1.weight' has shape [160, 64] but params.json implies [192, 64]");
}

/* ================= tekken.json ================= */

static void tekken_case(int line, const char *vocab, const char *specials, int vocab_size, int want_code,
                        const char *sub) {
    char *dir = path_in("tek");
    mkdir(dir, 0777);
    char text[4096], path[1024];
    snprintf(text, sizeof text,
             "{\"config\": {\"default_num_special_tokens\": 4}, \"vocab\": [%s], \"special_tokens\": [%s]}", vocab,
             specials);
    snprintf(path, sizeof path, "%s/tekken.json", dir);
    write_file(path, text, strlen(text));
    vox_tokenizer_t t;
    vox_error_t e = {0};
    int rc = vox_tokenizer_load(dir, vocab_size, &t, &e);
    if (want_code) {
        expect_err(line, vocab, rc, &e, want_code, sub);
        return;
    }
    CHECK(rc == 0, "tekken loads: %s", e.msg);
    if (rc) return;
    size_t n;
    const unsigned char *b;
    b = vox_tokenizer_bytes(&t, 4, &n);
    CHECK(n == 2 && !memcmp(b, "hi", 2), "base64 'aGk=' -> hi");
    b = vox_tokenizer_bytes(&t, 5, &n);
    CHECK(n == 2 && !memcmp(b, "\xc3\xa9", 2), "unpadded base64 'w6k' -> é");
    b = vox_tokenizer_bytes(&t, 6, &n);
    CHECK(n == 4 && !memcmp(b, "\xf0\x9f\x98\x80", 4), "4-byte token");
    b = vox_tokenizer_bytes(&t, 7, &n);
    CHECK(n == 0, "empty token");
    b = vox_tokenizer_bytes(&t, 1, &n);
    CHECK(n == 0 && vox_tokenizer_is_control(&t, 1) && !vox_tokenizer_is_control(&t, 4), "control ids have no text");
    CHECK(t.bos == 1 && t.eos == 2 && t.streaming_pad == 3 && t.n_special == 4, "special ids");
    b = vox_tokenizer_bytes(&t, 8, &n);
    CHECK(n == 0, "ids >= vocab_size have no text");
    vox_tokenizer_free(&t);
}

static void test_tokenizer(void) {
    const char *sp = "{\"rank\":0,\"token_str\":\"<unk>\"},{\"rank\":1,\"token_str\":\"<s>\"},"
                     "{\"rank\":2,\"token_str\":\"</s>\"},{\"rank\":3,\"token_str\":\"[STREAMING_PAD]\"}";
    const char *vocab = "{\"token_bytes\":\"aGk=\"},{\"token_bytes\":\"w6k\"},{\"token_bytes\":\"8J+YgA==\"},"
                        "{\"token_bytes\":\"\"},{\"token_bytes\":\"eA==\"}";
    tekken_case(__LINE__, vocab, sp, 8, 0, "");
    tekken_case(__LINE__, "{\"token_bytes\":\"a*==\"},{\"token_bytes\":\"eA==\"}", sp, 6, VOX_EMODEL,
                "tekken.json: vocab[0].token_bytes is not valid base64");
    tekken_case(__LINE__, "{\"token_bytes\":\"aGk=\"},{\"token_bytes\":\"eA\"},{\"token_bytes\":\"e\"}", sp, 7,
                VOX_EMODEL, "vocab[2].token_bytes is not valid base64");
    tekken_case(__LINE__, vocab, "{\"rank\":1,\"token_str\":\"<s>\"},{\"rank\":2,\"token_str\":\"</s>\"}", 8,
                VOX_EMODEL, "special_tokens has no [STREAMING_PAD]");
    tekken_case(__LINE__, vocab, sp, 20, VOX_EMODEL,
                "tekken.json has 5 vocab entries but params.json vocab_size 20 needs 16");
    tekken_case(__LINE__, "{\"bytes\":\"aGk=\"}", sp, 5, VOX_EMODEL, "vocab[0] has no token_bytes string");
    vox_tokenizer_t t;
    vox_error_t e = {0};
    write_file(path_in("tek/tekken.json"), "{\"config\": ", 11);
    EXPECT_ERR("tekken not JSON", vox_tokenizer_load(path_in("tek"), 8, &t, &e), &e, VOX_EMODEL,
               "tekken.json: invalid JSON at byte 11");
    memset(&e, 0, sizeof e);
    EXPECT_ERR("no tekken", vox_tokenizer_load(path_in("empty"), 8, &t, &e), &e, VOX_EMODEL, "has no tekken.json");
    memset(&e, 0, sizeof e);
    int rc = vox_tokenizer_load(path_in("tiny"), 1300, &t, &e);
    size_t n;
    const unsigned char *b = rc ? NULL : vox_tokenizer_bytes(&t, 1000 + 'A', &n);
    CHECK(rc == 0 && t.bos == 1 && t.eos == 2 && t.streaming_pad == 32 && t.n_special == 1000 && b && n == 1 &&
              b[0] == 'A',
          "synthetic tekken.json: %s", e.msg);
    if (!rc) vox_tokenizer_free(&t);
}

/* ================= WAV / raw audio ================= */

typedef struct {
    int tag, bits, channels, rate;
    int extensible;    /* write WAVE_FORMAT_EXTENSIBLE with `tag` as the sub-format */
    int odd_chunk;     /* put an odd-sized LIST chunk before fmt and data */
    int64_t data_size; /* override the data chunk size (-1: the real size) */
    size_t cut;        /* drop this many bytes from the end of the file */
} wav_spec;

static void put16(unsigned char **p, unsigned v) {
    (*p)[0] = (unsigned char)v;
    (*p)[1] = (unsigned char)(v >> 8);
    *p += 2;
}
static void put32(unsigned char **p, uint32_t v) {
    for (int i = 0; i < 4; i++) (*p)[i] = (unsigned char)(v >> (8 * i));
    *p += 4;
}

/* Encode frames x[frame * channels + c] in [-1, 1) with spec; returns the byte count. */
static size_t make_wav(unsigned char *out, const wav_spec *s, const float *x, size_t frames) {
    unsigned char *p = out;
    int bps = s->bits / 8;
    size_t data = frames * (size_t)(s->channels * bps);
    memcpy(p, "RIFF", 4);
    p += 4;
    put32(&p, 0); /* patched below */
    memcpy(p, "WAVE", 4);
    p += 4;
    if (s->odd_chunk) {
        memcpy(p, "LIST", 4);
        p += 4;
        put32(&p, 5);
        memcpy(p, "abcde\0", 6);
        p += 6;
    }
    memcpy(p, "fmt ", 4);
    p += 4;
    put32(&p, s->extensible ? 40 : 16);
    put16(&p, s->extensible ? 0xFFFE : (unsigned)s->tag);
    put16(&p, (unsigned)s->channels);
    put32(&p, (uint32_t)s->rate);
    put32(&p, (uint32_t)(s->rate * s->channels * bps));
    put16(&p, (unsigned)(s->channels * bps));
    put16(&p, (unsigned)s->bits);
    if (s->extensible) {
        static const unsigned char tail[14] = {0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71};
        put16(&p, 22);
        put16(&p, (unsigned)s->bits);
        put32(&p, 0);
        put16(&p, (unsigned)s->tag);
        memcpy(p, tail, 14);
        p += 14;
    }
    memcpy(p, "data", 4);
    p += 4;
    put32(&p, s->data_size >= 0 ? (uint32_t)s->data_size : (uint32_t)data);
    for (size_t i = 0; i < frames * (size_t)s->channels; i++) {
        double v = x[i];
        if (s->tag == 3 && s->bits == 32) {
            float f = (float)v;
            uint32_t u;
            memcpy(&u, &f, 4);
            put32(&p, u);
            continue;
        }
        if (s->tag == 3 && s->bits == 64) {
            uint64_t u;
            memcpy(&u, &v, 8);
            put32(&p, (uint32_t)u);
            put32(&p, (uint32_t)(u >> 32));
            continue;
        }
        if (s->bits == 8) {
            *p++ = (unsigned char)lrint(v * 128 + 128);
            continue;
        }
        int64_t q = (int64_t)llrint(v * (double)((int64_t)1 << (s->bits - 1)));
        for (int b = 0; b < bps; b++) *p++ = (unsigned char)((uint64_t)q >> (8 * b));
    }
    size_t n = (size_t)(p - out);
    unsigned char *r = out + 4;
    put32(&r, (uint32_t)(n - 8));
    return n - s->cut;
}

static int load_wav(const wav_spec *s, const float *x, size_t frames, float **out, size_t *n, vox_error_t *e) {
    unsigned char *buf = malloc(frames * (size_t)s->channels * 8 + 256);
    size_t len = make_wav(buf, s, x, frames);
    char *path = path_in("t.wav");
    write_file(path, buf, len);
    free(buf);
    return vox_audio_load_file(path, out, n, e);
}

/* Amplitude of frequency f in x (n samples at rate sr), by correlation with sin and cos. */
static double tone_amp(const float *x, size_t n, double f, double sr) {
    double s = 0, c = 0, w = 2 * 3.14159265358979323846 * f / sr;
    for (size_t i = 0; i < n; i++) {
        s += x[i] * sin(w * (double)i);
        c += x[i] * cos(w * (double)i);
    }
    return 2 * sqrt(s * s + c * c) / (double)n;
}

static void test_wav_formats(void) {
    enum { N = 1600 };
    float x[N * 2], *out;
    size_t n;
    for (int i = 0; i < N; i++) {
        x[2 * i] = 0.5f * sinf((float)i * 0.05f);
        x[2 * i + 1] = 0.25f * sinf((float)i * 0.05f);
    }
    float mono[N];
    for (int i = 0; i < N; i++) mono[i] = x[2 * i];
    struct {
        wav_spec s;
        double tol;
        const char *name;
    } cases[] = {
        {{1, 16, 1, 16000, 0, 0, -1, 0}, 1.0 / 32768, "s16"},
        {{1, 24, 1, 16000, 0, 0, -1, 0}, 1.0 / 8388608 * 2, "s24"},
        {{1, 32, 1, 16000, 0, 0, -1, 0}, 1e-7, "s32"},
        {{3, 32, 1, 16000, 0, 0, -1, 0}, 0, "f32"},
        {{3, 64, 1, 16000, 0, 0, -1, 0}, 1e-7, "f64"},
        {{1, 8, 1, 16000, 0, 0, -1, 0}, 1.0 / 128, "u8"},
        {{1, 24, 1, 16000, 1, 1, -1, 0}, 1.0 / 8388608 * 2, "extensible s24 + odd LIST chunk"},
        {{3, 32, 1, 16000, 1, 0, -1, 0}, 0, "extensible f32"},
        {{1, 16, 1, 16000, 0, 0, 0xFFFFFFFF, 0}, 1.0 / 32768, "data size 0xFFFFFFFF (until EOF)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vox_error_t e = {0};
        int rc = load_wav(&cases[k].s, mono, N, &out, &n, &e);
        double maxerr = 0;
        for (size_t i = 0; !rc && i < n && i < N; i++) maxerr = fmax(maxerr, fabs(out[i] - mono[i]));
        CHECK(rc == 0 && n == N && maxerr <= cases[k].tol + 1e-9, "%s: rc=%d n=%zu maxerr=%g %s", cases[k].name, rc, n,
              maxerr, e.msg);
        if (!rc) free(out);
    }
    /* stereo s16 and 6 channels: averaged */
    vox_error_t e = {0};
    wav_spec st = {1, 16, 2, 16000, 0, 0, -1, 0};
    int rc = load_wav(&st, x, N, &out, &n, &e);
    double maxerr = 0;
    for (size_t i = 0; !rc && i < n; i++) maxerr = fmax(maxerr, fabs(out[i] - 0.75 * mono[i]));
    CHECK(rc == 0 && n == N && maxerr < 2.0 / 32768, "stereo downmix: %s maxerr %g", e.msg, maxerr);
    if (!rc) free(out);
    float six[N * 6];
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 6; c++) six[i * 6 + c] = c == 5 ? 0.6f : 0.0f;
    wav_spec s6 = {3, 32, 6, 16000, 1, 0, -1, 0};
    rc = load_wav(&s6, six, N, &out, &n, &e);
    CHECK(rc == 0 && n == N && fabsf(out[7] - 0.1f) < 1e-6f, "6-channel downmix: %s", e.msg);
    if (!rc) free(out);
}

static void test_resample(void) {
    /* 44.1 kHz: a 1 kHz sine keeps its frequency and amplitude; a 10 kHz tone (above 8 kHz) is removed */
    const int sr = 44100, frames = 44100;
    float *x = malloc(sizeof(float) * (size_t)frames), *out;
    size_t n;
    for (int i = 0; i < frames; i++) x[i] = 0.5f * sinf(2 * 3.14159265f * 1000.0f * (float)i / sr);
    vox_error_t e = {0};
    wav_spec s = {3, 32, 1, sr, 0, 0, -1, 0};
    int rc = load_wav(&s, x, (size_t)frames, &out, &n, &e);
    CHECK(rc == 0 && n == 16000, "44.1k -> 16k length: %zu %s", n, e.msg);
    if (!rc) {
        double a1 = tone_amp(out + 1000, 14000, 1000, 16000), a2 = tone_amp(out + 1000, 14000, 1100, 16000);
        CHECK(fabs(a1 - 0.5) < 0.005 && a2 < 0.01, "1 kHz keeps amplitude 0.5: %g (1.1 kHz: %g)", a1, a2);
        free(out);
    }
    for (int i = 0; i < frames; i++) x[i] = 0.5f * sinf(2 * 3.14159265f * 10000.0f * (float)i / sr);
    rc = load_wav(&s, x, (size_t)frames, &out, &n, &e);
    if (!rc) {
        double rms = 0;
        for (size_t i = 1000; i < 15000; i++) rms += out[i] * out[i];
        rms = sqrt(rms / 14000);
        CHECK(rms < 1e-3, "10 kHz tone is filtered out (no aliasing at 6 kHz): rms %g", rms);
        free(out);
    }
    /* 44101 Hz: 16000 phases, more than the table's 1024 rows, so rows are blended */
    for (int i = 0; i < frames; i++) x[i] = 0.5f * sinf(2 * 3.14159265f * 1000.0f * (float)i / 44101);
    wav_spec sodd = {3, 32, 1, 44101, 0, 0, -1, 0};
    rc = load_wav(&sodd, x, (size_t)frames, &out, &n, &e);
    CHECK(rc == 0 && n == (size_t)ceil(44100.0 * 16000 / 44101), "44101 -> 16k length %zu", n);
    if (!rc) {
        double a = tone_amp(out + 1000, 14000, 1000, 16000);
        CHECK(fabs(a - 0.5) < 0.005, "1 kHz at 44101 Hz keeps amplitude: %g", a);
        free(out);
    }
    /* 8 kHz -> 16 kHz, s16 */
    for (int i = 0; i < 8000; i++) x[i] = 0.5f * sinf(2 * 3.14159265f * 440.0f * (float)i / 8000);
    wav_spec s8 = {1, 16, 1, 8000, 0, 0, -1, 0};
    rc = load_wav(&s8, x, 8000, &out, &n, &e);
    CHECK(rc == 0 && n == 16000, "8k -> 16k length %zu", n);
    if (!rc) {
        double a = tone_amp(out + 1000, 14000, 440, 16000);
        CHECK(fabs(a - 0.5) < 0.005, "440 Hz keeps amplitude: %g", a);
        free(out);
    }
    /* chunking invariance of the streaming resampler */
    for (int i = 0; i < frames; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    float *a = NULL, *b = NULL;
    size_t acap = 0, an = 0, bcap = 0, bn = 0;
    vox_resampler_t *r1 = vox_resampler_new(44100, 16000), *r2 = vox_resampler_new(44100, 16000);
    vox_resampler_push(r1, x, (size_t)frames, &a, &acap, &an);
    vox_resampler_flush(r1, &a, &acap, &an);
    size_t sizes[] = {1, 37, 160, 1280, 4096, 3}, pos = 0;
    for (int k = 0; pos < (size_t)frames; k++) {
        size_t m = sizes[k % 6];
        if (m > (size_t)frames - pos) m = (size_t)frames - pos;
        vox_resampler_push(r2, x + pos, m, &b, &bcap, &bn);
        pos += m;
    }
    vox_resampler_flush(r2, &b, &bcap, &bn);
    CHECK(an == 16000 && bn == an && !memcmp(a, b, an * sizeof *a), "ragged pushes give identical output (%zu, %zu)",
          an, bn);
    vox_resampler_free(r1);
    vox_resampler_free(r2);
    free(a);
    free(b);
    free(x);
}

static void test_wav_errors(void) {
    float x[3200] = {0}, *out = NULL;
    size_t n;
    struct {
        wav_spec s;
        size_t frames;
        const char *sub;
    } cases[] = {
        {{6, 8, 1, 16000, 0, 0, -1, 0}, 100, "WAV codec A-law (format tag 0x0006) is not supported"},
        {{0x55, 16, 1, 16000, 0, 0, -1, 0}, 100, "WAV codec MP3 (format tag 0x0055) is not supported"},
        {{2, 16, 1, 16000, 1, 0, -1, 0}, 100, "WAV codec MS ADPCM"},
        {{1, 12, 1, 16000, 0, 0, -1, 0}, 100, "12-bit integer WAV samples are not supported"},
        {{1, 16, 0, 16000, 0, 0, -1, 0}, 100, "bad WAV header (channel count is 0"},
        {{1, 16, 1, 16000, 0, 0, -1, 0}, 0, "the audio has no samples"},
        {{1, 16, 1, 16000, 0, 0, 1000, 0},
         50,
         "truncated WAV: the data chunk says 1000 bytes but the file ends after 100"},
        {{1, 16, 1, 16000, 0, 0, -1, 100},
         1000,
         "truncated WAV: the data chunk says 2000 bytes but the file ends after 1900"},
        {{1, 16, 2, 16000, 0, 0, 0xFFFFFFFF, 1}, 100, "ends mid-frame (3 stray bytes"},
        {{1, 16, 2, 16000, 0, 0, 7, 0}, 100, "data chunk size is not a multiple of the frame size"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vox_error_t e = {0};
        int rc = load_wav(&cases[k].s, x, cases[k].frames, &out, &n, &e);
        EXPECT_ERR(cases[k].sub, rc, &e, VOX_EAUDIO, cases[k].sub);
        CHECK(out == NULL && n == 0, "no samples returned on error");
    }
    struct {
        const char *bytes;
        size_t len;
        const char *sub;
    } raw[] = {
        {"RIFF\x04\0\0\0WAVE", 12, "bad WAV header (no fmt chunk)"},
        {"RIFF\x10\0\0\0WAVEdata\0\0\0\0", 20, "bad WAV header (data chunk before the fmt chunk)"},
        {"RIFF\x10\0\0\0WAVEfmt \x40\0\0\0\x01\0", 22, "bad WAV header (the file ends inside the fmt chunk)"},
        {"RIFF\x10\0\0\0AVI LIST", 16, "is a RIFF file that is not WAVE"},
        {"OggS\0\x02\0\0\0\0\0\0\0\0", 14, "is an Ogg file, not a PCM WAV. Convert it with: ffmpeg"},
        {"ID3\x04\0\0\0\0\0\0\0\0\0\0", 14, "is an MP3 file"},
        {"hello, this is text\n", 20, "is not a WAV file (no RIFF/WAVE header)"},
        {"", 0, "is empty (0 bytes)"},
    };
    for (size_t k = 0; k < sizeof raw / sizeof raw[0]; k++) {
        vox_error_t e = {0};
        write_file(path_in("r.wav"), raw[k].bytes, raw[k].len);
        EXPECT_ERR(raw[k].sub, vox_audio_load_file(path_in("r.wav"), &out, &n, &e), &e, VOX_EAUDIO, raw[k].sub);
    }
    vox_error_t e = {0};
    EXPECT_ERR("directory", vox_audio_load_file(tmp, &out, &n, &e), &e, VOX_EAUDIO, "is a folder, not an audio file");
    memset(&e, 0, sizeof e);
    EXPECT_ERR("missing", vox_audio_load_file(path_in("nope.wav"), &out, &n, &e), &e, VOX_EAUDIO,
               "cannot open audio file");
}

/* ---- streams over a pipe ---- */

static int pipe_with(const void *data, size_t n, int close_write, int *wfd) {
    int fds[2];
    if (pipe(fds)) {
        perror("pipe");
        exit(2);
    }
    if (n && write(fds[1], data, n) != (ssize_t)n) {
        perror("write");
        exit(2);
    }
    if (close_write)
        close(fds[1]);
    else
        *wfd = fds[1];
    return fds[0];
}

static void test_streams(void) {
    vox_error_t e = {0};
    vox_audio_stream_t *s;
    float out[8192];
    /* raw s16le, incremental: samples come back before the writer closes */
    int16_t pcm[1001];
    for (int i = 0; i < 1001; i++) pcm[i] = (int16_t)(i * 30 - 15000);
    int wfd;
    int fd = pipe_with(pcm, 600, 0, &wfd);
    int rc = vox_audio_stream_open(fd, &s, &e);
    CHECK(rc == 0 && !strcmp(vox_audio_stream_format(s), "raw-s16le"), "raw detected: %s", e.msg);
    long got = rc ? -1 : vox_audio_stream_read(s, out, 8192, &e);
    CHECK(got == 300 && out[1] == (float)pcm[1] / 32768.0f, "raw samples before EOF: %ld", got);
    if (write(wfd, (char *)pcm + 600, 1401) != 1401) exit(2); /* 700 samples + 1 odd byte */
    close(wfd);
    long total = 0;
    while ((got = vox_audio_stream_read(s, out, 8192, &e)) > 0) total += got;
    CHECK(total == 700, "rest of raw stream: %ld", total);
    EXPECT_ERR("raw odd bytes", (int)got, &e, VOX_EAUDIO,
               "stdin: raw s16le input ended after an odd number of bytes (2001)");
    vox_audio_stream_close(s);
    close(fd);

    /* WAV on a pipe with data size 0 (unknown length) at 48 kHz stereo: resampled as it arrives */
    enum { F = 4800 };
    static float st[F * 2];
    for (int i = 0; i < F; i++) st[2 * i] = st[2 * i + 1] = 0.3f * sinf((float)i * 0.1f);
    static unsigned char wav[F * 8 + 128];
    wav_spec ws = {1, 16, 2, 48000, 0, 0, 0, 0};
    size_t len = make_wav(wav, &ws, st, F);
    memset(&e, 0, sizeof e);
    fd = pipe_with(wav, len / 2, 0, &wfd);
    rc = vox_audio_stream_open(fd, &s, &e);
    CHECK(rc == 0 && !strcmp(vox_audio_stream_format(s), "wav"), "wav detected on a pipe: %s", e.msg);
    got = rc ? -1 : vox_audio_stream_read(s, out, 8192, &e);
    CHECK(got > 0, "wav samples before EOF: %ld %s", got, e.msg);
    total = got > 0 ? got : 0;
    if (write(wfd, wav + len / 2, len - len / 2) != (ssize_t)(len - len / 2)) exit(2);
    close(wfd);
    while ((got = vox_audio_stream_read(s, out, 8192, &e)) > 0) total += got;
    CHECK(got == 0 && total == F / 3, "48 kHz stream -> %d samples at 16 kHz: %ld %s", F / 3, total, e.msg);
    vox_audio_stream_close(s);
    close(fd);

    /* empty stdin */
    memset(&e, 0, sizeof e);
    fd = pipe_with(NULL, 0, 1, NULL);
    rc = vox_audio_stream_open(fd, &s, &e);
    got = rc ? rc : vox_audio_stream_read(s, out, 8192, &e);
    EXPECT_ERR("empty stdin", (int)got, &e, VOX_EAUDIO, "stdin: the audio has no samples");
    if (!rc) vox_audio_stream_close(s);
    close(fd);
}

/* ================= npy ================= */

static void test_npy(void) {
    float d[6] = {1, 2, 3, 4, 5, 6};
    size_t shape[2] = {2, 3};
    vox_error_t e = {0};
    int rc = vox_npy_write_f32(path_in("a.npy"), d, 2, shape, &e);
    size_t n;
    char *b = read_text(path_in("a.npy"), &n);
    unsigned hl = (unsigned char)b[8] | (unsigned char)b[9] << 8;
    CHECK(rc == 0 && !memcmp(b, "\x93NUMPY\x01\x00", 8) && (10 + hl) % 64 == 0 && b[10 + hl - 1] == '\n' &&
              strstr(b + 10, "'shape': (2, 3)") && strstr(b + 10, "'descr': '<f4'") && n == 10 + hl + 24 &&
              !memcmp(b + 10 + hl, d, 24),
          "2-d npy");
    free(b);
    vox_npy_write_f32(path_in("b.npy"), d, 1, shape, &e);
    b = read_text(path_in("b.npy"), &n);
    CHECK(strstr(b + 10, "'shape': (2,)") != NULL, "1-d npy shape");
    free(b);
    rc = vox_npy_write_f32(path_in("no/such/dir/c.npy"), d, 1, shape, &e);
    EXPECT_ERR("npy unwritable", rc, &e, VOX_EUSAGE, "cannot write");
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* ---- events: token text across UTF-8 splits, escaping, stream ids ---- */
static char *capture(void (*fn)(FILE *), size_t *n) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, n);
    fn(f);
    fclose(f);
    return buf;
}

static void events_split(FILE *f) {
    vox_utf8_carry c = {{0}, 0};
    vox_events_token(f, -1, &c, 1, (const unsigned char *)" caf\xc3", 5, 0, 44, 0);      /* é split: c3 | a9 */
    vox_events_token(f, -1, &c, 2, (const unsigned char *)"", 0, 1, 45, 1);              /* a control token between */
    vox_events_token(f, -1, &c, 3, (const unsigned char *)"\xa9!\xf0\x9f", 4, 0, 46, 2); /* 😀 split 2 | 1 | 1 */
    vox_events_token(f, -1, &c, 4, (const unsigned char *)"\x98", 1, 0, 47, 3);
    vox_events_token(f, 7, &c, 5, (const unsigned char *)"\x80\"\n\xff", 4, 0, 48, 4);
}

static void events_misc(FILE *f) {
    vox_error_t e = {0, ""};
    vox_fail(&e, VOX_EAUDIO, "x.wav: \"bad\"");
    vox_events_error(f, -1, &e);
    vox_events_progress(f, 3, 1500.0, 80.0);
}

static void test_events(void) {
    size_t n;
    char *out = capture(events_split, &n);
    const char *want = "{\"type\":\"token\",\"id\":1,\"text\":\" "
                       "caf\",\"control\":false,\"pos\":44,\"step\":0,\"start_ms\":0,\"end_ms\":80}\n"
                       "{\"type\":\"token\",\"id\":2,\"text\":\"\",\"control\":true,\"pos\":45,\"step\":1,\"start_ms\":"
                       "80,\"end_ms\":160}\n"
                       "{\"type\":\"token\",\"id\":3,\"text\":\"\xc3\xa9!\",\"control\":false,\"pos\":46,\"step\":2,"
                       "\"start_ms\":160,\"end_ms\":240}\n"
                       "{\"type\":\"token\",\"id\":4,\"text\":\"\",\"control\":false,\"pos\":47,\"step\":3,\"start_"
                       "ms\":240,\"end_ms\":320}\n"
                       "{\"type\":\"token\",\"stream\":7,\"id\":5,\"text\":\"\xf0\x9f\x98\x80\\\"\\n\\ufffd\","
                       "\"control\":false,\"pos\":48,"
                       "\"step\":4,\"start_ms\":320,\"end_ms\":400}\n";
    CHECK(out && !strcmp(out, want), "token events carry split UTF-8 to the next token:\n%s", out ? out : "(null)");
    free(out);
    out = capture(events_misc, &n);
    want = "{\"type\":\"error\",\"code\":\"audio\",\"exit_code\":4,\"message\":\"x.wav: \\\"bad\\\"\"}\n"
           "{\"type\":\"progress\",\"stream\":3,\"consumed_ms\":1500.0,\"decoded_ms\":80.0}\n";
    CHECK(out && !strcmp(out, want), "error and progress events:\n%s", out ? out : "(null)");
    free(out);
    CHECK(!strcmp(vox_events_code_name(VOX_EDEVICE), "backend") &&
              !strcmp(vox_events_code_name(VOX_ENOMEM), "memory") &&
              !strcmp(vox_events_code_name(VOX_EINTERNAL), "internal"),
          "error code names");
}

/* Frames of zeros skip the FFT (mel.c): every bin of a frame whose window holds only zeros is the log
 * floor exactly, and a frame whose window holds one nonzero sample is not (the FFT ran). */
static void test_mel_silence(void) {
    vox_params_t p;
    memset(&p, 0, sizeof p);
    p.n_mels = 128;
    p.sampling_rate = 16000;
    p.hop_length = 160;
    p.window_size = 400;
    p.global_log_mel_max = 1.5;
    vox_mel_t *m = vox_mel_new(&p);
    CHECK(m != NULL, "vox_mel_new");
    if (!m) return;
    static float x[16000], out[128 * 100];
    x[8000] = 0.1f; /* frames 48..52 see it (window 400, hop 160, centred) */
    for (int i = 0; i < 16000; i += 1280) vox_mel_push(m, x + i, i + 1280 <= 16000 ? 1280 : 16000 - i);
    size_t k = vox_mel_take(m, out, 100);
    float floor_v = (float)((fmax(log10(1e-10), 1.5 - 8.0) + 4.0) / 4.0);
    int silent_ok = 1, loud_differs = 0;
    for (size_t t = 0; t < k; t++)
        for (int f = 0; f < 128; f++) {
            float v = out[t * 128 + f];
            if (t >= 48 && t <= 52)
                loud_differs |= v != floor_v;
            else if (t < 46 || t > 54)
                silent_ok &= v == floor_v;
        }
    CHECK(k >= 90, "%zu frames from 1 s", k);
    CHECK(silent_ok, "every bin of a silent frame is the floor %.6f", floor_v);
    CHECK(loud_differs, "the frames around one nonzero sample are not all the floor");
    vox_mel_free(m);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1)
        snprintf(tmp, sizeof tmp, "%s", argv[1]);
    else
        snprintf(tmp, sizeof tmp, "/tmp/vox-test-io-%ld", (long)getpid());
    mkdir(tmp, 0777);
    vox_error_t e = {0};
    if (vox_synth_write(path_in("tiny"), "tiny", 7, -1, 0, &e)) {
        fprintf(stderr, "synthetic model: %s\n", e.msg);
        return 1;
    }
    memset(&e, 0, sizeof e);
    EXPECT_ERR("bad size", vox_synth_write(path_in("x"), "huge", 1, -1, 0, &e), &e, VOX_EUSAGE, "Use full or tiny");
    test_vox();
    test_json();
    test_params();
    test_safetensors();
    test_tokenizer();
    test_wav_formats();
    test_resample();
    test_mel_silence();
    test_wav_errors();
    test_streams();
    test_npy();
    test_events();
    printf("test_io: %d passed, %d failed\n", n_pass, n_fail);
    if (!n_fail && argc <= 1) nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return n_fail ? 1 : 0;
}
