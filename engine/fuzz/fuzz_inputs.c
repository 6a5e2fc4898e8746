/* fuzz_inputs.c — a deterministic mutation fuzzer for the engine's input parsers.
 *
 * Seeds: the fixture's params.json, tekken.json and consolidated.safetensors, plus WAV files built
 * here (s16 / s24 / f32 mono and stereo / f64 / u8 / WAVE_FORMAT_EXTENSIBLE / odd LIST chunk /
 * "until EOF" data size, 8 to 48 kHz) and raw s16le for the stdin reader. Each iteration makes one
 * mutant per target (1-4 stacked mutations: bit flips, interesting bytes and 16/32/64-bit values,
 * truncation, extension, range copies and deletions; JSON token splices, number swaps and array
 * edits; WAV chunk-size and fmt-field corruption and runs of extreme samples; safetensors
 * header-length corruption), writes it under the work folder and calls the real loader:
 *   params     vox_params_load                 tokenizer  vox_tokenizer_load (fixture vocab_size)
 *   weights    vox_weights_load (valid params)  wav-file   vox_audio_load_file
 *   wav-stream vox_audio_stream_open/read/close over a pipe fed in random-sized pieces
 * The contract checked: the call returns 0, or a negative vox_err of the loader's family (or
 * VOX_ENOMEM) with a non-empty one-line message; a success yields usable data (every token's
 * bytes and every tensor readable, audio samples finite, stream reads <= cap). Crashes and
 * sanitizer reports (the build uses ASan + UBSan) print the input that caused them.
 * Mutants depend only on (seed, target, iteration), so a run is reproducible. Inputs that once
 * broke the contract (regressions, below) are checked first and count as failures too.
 *
 *   fuzz_inputs --fixture DIR [--iterations N] [--seed S] [--work DIR (build/fuzz/work)]
 *               [--only TARGET] [--verbose: every input's outcome]
 *   fuzz_inputs --fixture DIR --replay TARGET FILE      (run one saved input)
 * Built with -DVOX_LIBFUZZER it is a libFuzzer target instead (see the end of the file). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audio.h"
#include "params.h"
#include "tokenizer.h"
#include "weights.h"
#include "fuzz_util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
/* UBSan stops with abort() (not a silent _exit), so on_abort can say which input it was. */
const char *__ubsan_default_options(void) { return "print_stacktrace=1:abort_on_error=1"; }
#endif

#define TIMEOUT_S 20 /* one input taking longer than this is a hang */

const char *fz_prog = "fuzz";

enum { T_PARAMS, T_TOKENIZER, T_WEIGHTS, T_WAV_FILE, T_WAV_STREAM, N_TARGETS };
static const char *TARGET_NAMES[N_TARGETS] = {"params", "tokenizer", "weights", "wav-file", "wav-stream"};
static const char *TARGET_FILES[N_TARGETS] = {"params.json", "tekken.json", "consolidated.safetensors", "input.wav",
                                              "input.bin"};

static struct {
    char work[2048];
    const char *fixture;
    vox_params_t params; /* the fixture's, for the weights and tokenizer targets */
    buf_t seeds[N_TARGETS][12];
    int n_seeds[N_TARGETS];
    char note[16384]; /* which input is running: printed if the process dies */
} G;

/* ---- small helpers ---- */

static void put_le(buf_t *b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        fz_put(b, &c, 1);
    }
}
static void set_le(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static void read_file(const char *path, buf_t *b) {
    if (fz_read_file(path, b))
        fz_die("cannot read %s: %s. Pass --fixture with a folder holding params.json, tekken.json and "
               "consolidated.safetensors (e.g. checks/fixtures/tiny-small-windows)",
               path, strerror(errno));
}

/* ---- seeds ---- */

/* A short 440 Hz tone as a WAV. tag 1 = PCM, 3 = float; ext = WAVE_FORMAT_EXTENSIBLE; list =
 * an odd-sized LIST chunk before data; until_eof = data size 0xFFFFFFFF (what pipes write). */
static void make_wav(buf_t *b, int tag, int bits, int ch, int rate, int frames, int ext, int list, int until_eof) {
    static const unsigned char guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};
    int bps = bits / 8, fmt_n = ext ? 40 : 16;
    uint32_t data_n = (uint32_t)(frames * ch * bps);
    b->n = 0;
    fz_put(b, "RIFF", 4);
    put_le(b, 4 + 8 + fmt_n + (list ? 8 + 6 : 0) + 8 + data_n, 4);
    fz_put(b, "WAVE", 4);
    fz_put(b, "fmt ", 4);
    put_le(b, fmt_n, 4);
    put_le(b, ext ? 0xFFFE : tag, 2);
    put_le(b, ch, 2);
    put_le(b, rate, 4);
    put_le(b, rate * ch * bps, 4);
    put_le(b, ch * bps, 2);
    put_le(b, bits, 2);
    if (ext) {
        put_le(b, 22, 2);
        put_le(b, bits, 2);
        put_le(b, ch == 2 ? 3 : 4, 4);
        put_le(b, tag, 2);
        fz_put(b, guid_tail, 14);
    }
    if (list) {
        fz_put(b, "LIST", 4);
        put_le(b, 5, 4);
        fz_put(b, "INFO\0\0", 6);
    } /* 5 bytes + 1 pad byte */
    fz_put(b, "data", 4);
    put_le(b, until_eof ? 0xFFFFFFFFu : data_n, 4);
    for (int f = 0; f < frames; f++)
        for (int c = 0; c < ch; c++) {
            double x = 0.5 * sin(2 * 3.14159265358979 * 440 * f / rate + c);
            if (tag == 3 && bits == 32) {
                float v = (float)x;
                uint32_t u;
                memcpy(&u, &v, 4);
                put_le(b, u, 4);
            } else if (tag == 3) {
                uint64_t u;
                memcpy(&u, &x, 8);
                put_le(b, u, 8);
            } else if (bits == 8)
                put_le(b, (uint64_t)(int)(128 + 127 * x), 1);
            else
                put_le(b, (uint64_t)(int64_t)(x * (double)((1ll << (bits - 1)) - 1)), bps);
        }
}

static void load_seeds(const char *fixture) {
    char path[4096];
    G.fixture = fixture;
    for (int t = 0; t < 3; t++) {
        snprintf(path, sizeof path, "%s/%s", fixture, TARGET_FILES[t]);
        read_file(path, &G.seeds[t][G.n_seeds[t]++]);
    }
    static const int W[][8] = {
        /* tag, bits, channels, rate, frames, extensible, LIST, until EOF */
        {1, 16, 1, 16000, 1600, 0, 0, 0}, {1, 24, 1, 44100, 1000, 0, 1, 0}, {3, 32, 2, 48000, 1200, 0, 0, 0},
        {1, 16, 2, 22050, 800, 1, 0, 0},  {3, 32, 1, 16000, 900, 1, 1, 0},  {1, 8, 1, 8000, 700, 0, 0, 0},
        {3, 64, 1, 16000, 600, 0, 0, 1},  {3, 32, 1, 44100, 1100, 0, 0, 0}, {3, 64, 1, 22050, 500, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof W / sizeof W[0]; i++) {
        make_wav(&G.seeds[T_WAV_FILE][i], W[i][0], W[i][1], W[i][2], W[i][3], W[i][4], W[i][5], W[i][6], W[i][7]);
        buf_t *s = &G.seeds[T_WAV_STREAM][i];
        fz_put(s, G.seeds[T_WAV_FILE][i].p, G.seeds[T_WAV_FILE][i].n);
    }
    G.n_seeds[T_WAV_FILE] = G.n_seeds[T_WAV_STREAM] = (int)(sizeof W / sizeof W[0]);
    buf_t *raw = &G.seeds[T_WAV_STREAM][G.n_seeds[T_WAV_STREAM]++]; /* raw s16le for --stdin */
    rng_t r = {7};
    for (int i = 0; i < 2000; i++) put_le(raw, (uint64_t)(int64_t)((int)fz_below(&r, 20000) - 10000), 2);
    vox_error_t err = {0};
    if (vox_params_load(fixture, &G.params, &err)) fz_die("the fixture's params.json does not load: %s", err.msg);
}

/* ---- mutations ---- */

static const uint64_t INTERESTING[] = {0,
                                       1,
                                       2,
                                       3,
                                       4,
                                       7,
                                       8,
                                       16,
                                       0x7f,
                                       0x80,
                                       0xff,
                                       0x100,
                                       0x7fff,
                                       0x8000,
                                       0xffff,
                                       0x10000,
                                       0x7fffffff,
                                       0x80000000u,
                                       0xfffffffeu,
                                       0xffffffffu,
                                       0x100000000ull,
                                       0x7fffffffffffffffull,
                                       0x8000000000000000ull,
                                       0xffffffffffffffffull};
#define N_INTERESTING (sizeof INTERESTING / sizeof INTERESTING[0])

static void mutate_bytes(buf_t *b, rng_t *r) {
    static const unsigned char BYTES[] = {0, 0xff, 0x7f, 0x80, 0x01, 0xfe, '"', '\\', '\n'};
    size_t at = fz_below(r, b->n);
    switch (fz_below(r, 8)) {
    case 0:
        if (b->n) b->p[at] ^= (unsigned char)(1u << fz_below(r, 8));
        break;
    case 1:
        if (b->n) b->p[at] = BYTES[fz_below(r, sizeof BYTES)];
        break;
    case 2:
        if (b->n) b->p[at] = (unsigned char)fz_next(r);
        break;
    case 3: b->n = fz_below(r, b->n + 1); break; /* truncate */
    case 4: {
        size_t k = 1 + fz_below(r, 64);
        fz_reserve(b, b->n + k); /* extend */
        for (size_t i = 0; i < k; i++) b->p[b->n++] = (unsigned char)fz_next(r);
        break;
    }
    case 5: {
        size_t k = fz_below(r, b->n - at + 1);
        if (k > 256) k = 256;
        fz_splice(b, at, k, NULL, 0);
        break;
    } /* delete */
    case 6: {
        if (!b->n) break; /* copy a range elsewhere */
        size_t from = fz_below(r, b->n), k = 1 + fz_below(r, 64);
        if (k > b->n - from) k = b->n - from;
        unsigned char tmp[64];
        memcpy(tmp, b->p + from, k);
        fz_splice(b, fz_below(r, b->n + 1), 0, tmp, k);
        break;
    }
    default: {
        int w = 1 << (1 + fz_below(r, 3)); /* 2/4/8-byte value */
        if (b->n >= (size_t)w)
            set_le(b->p + fz_below(r, b->n - (size_t)w + 1), INTERESTING[fz_below(r, N_INTERESTING)], w);
    }
    }
}

static const char *JSON_TOKENS[] = {
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "-0",
    "0.5",
    "1e999",
    "-1e999",
    "1e-400",
    "2147483648",
    "4294967296",
    "9007199254740993",
    "1e308",
    "65537",
    "\"\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\"",
    "\"\\ud800\\udc00\"",
    "\"\\n\"",
    "\\",
    "\\u12",
    "\"__metadata__\"",
    "\"BF16\"",
    "\"F64\"",
    "{\"a\":",
    "[[[[[[[[",
    "\xef\xbb\xbf",
    "\xff\xfe",
};
static const char *JSON_NUMBERS[] = {"0",
                                     "-1",
                                     "1",
                                     "2",
                                     "3",
                                     "-0",
                                     "0.5",
                                     "1e999",
                                     "-1e999",
                                     "1e-400",
                                     "2147483647",
                                     "2147483648",
                                     "4294967295",
                                     "4294967296",
                                     "9007199254740993",
                                     "1099511627777",
                                     "1e308",
                                     "65537",
                                     "1025",
                                     "16001",
                                     "1.0000000001",
                                     "NaN",
                                     "1e19"};
#define COUNT(a) (sizeof a / sizeof a[0])

static int is_num_char(unsigned char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* A random position near a JSON structural character (where tokens begin and end). */
static size_t json_boundary(const buf_t *b, rng_t *r) {
    size_t at = fz_below(r, b->n + 1);
    while (at < b->n && !strchr("{}[],:\"", b->p[at])) at++;
    return at;
}

/* The first flat array "[...]" (no nested brackets) at or after `at`: 1 and its span [*s, *e), or 0. */
static int flat_array_from(const buf_t *b, size_t at, size_t *s, size_t *e) {
    for (; at < b->n; at++) {
        if (b->p[at] != '[') continue;
        size_t k = at + 1;
        while (k < b->n && b->p[k] != '[' && b->p[k] != ']') k++;
        if (k < b->n && b->p[k] == ']') {
            *s = at;
            *e = k + 1;
            return 1;
        }
    }
    return 0;
}
static int flat_array(const buf_t *b, rng_t *r, size_t *s, size_t *e) {
    return flat_array_from(b, fz_below(r, b->n + 1), s, e) || flat_array_from(b, 0, s, e);
}

/* Array-level edits that keep the JSON valid: the safetensors checks past parsing (overlapping
 * data_offsets, shape mismatches, too many dimensions) need these. */
static void mutate_json_array(buf_t *b, rng_t *r) {
    size_t s, e, s2, e2;
    if (!flat_array(b, r, &s, &e)) return;
    switch (fz_below(r, 3)) {
    case 0: { /* copy another array over this one: a random one, or the next entry's same field
                         * (two arrays on in a safetensors header: shape, data_offsets, shape, ...) */
        if (fz_below(r, 2) ? !flat_array(b, r, &s2, &e2)
                           : !flat_array_from(b, e, &s2, &e2) || !flat_array_from(b, e2, &s2, &e2))
            return;
        buf_t t = {0};
        fz_put(&t, b->p + s2, e2 - s2);
        fz_splice(b, s, e - s, t.p, t.n);
        free(t.p);
        break;
    }
    case 1: { /* reverse the elements ([32, 64] -> [64, 32]) */
        buf_t t = {0};
        fz_put(&t, "[", 1);
        size_t end = e - 1;
        for (size_t k = e - 1; k-- > s;)
            if (b->p[k] == ',' || k == s) {
                if (t.n > 1) fz_put(&t, ",", 1);
                fz_put(&t, b->p + k + 1, end - k - 1);
                end = k;
            }
        fz_put(&t, "]", 1);
        fz_splice(b, s, e - s, t.p, t.n);
        free(t.p);
        break;
    }
    default: { /* append elements (an extra dimension of 1, or five) */
        const char *add = fz_below(r, 2) ? ",1" : ",1,1,1,1,1";
        fz_splice(b, e - 1, 0, add, strlen(add));
    }
    }
}

static void mutate_json(buf_t *b, rng_t *r) {
    switch (fz_below(r, 6)) {
    case 5: mutate_json_array(b, r); break;
    case 0:
    case 1: { /* swap a number for an interesting one */
        size_t at = fz_below(r, b->n + 1);
        while (at < b->n && !(b->p[at] >= '0' && b->p[at] <= '9')) at++;
        if (at >= b->n) break;
        size_t s = at, e = at;
        while (s > 0 && is_num_char(b->p[s - 1])) s--;
        while (e < b->n && is_num_char(b->p[e])) e++;
        const char *v = JSON_NUMBERS[fz_below(r, COUNT(JSON_NUMBERS))];
        fz_splice(b, s, e - s, v, strlen(v));
        break;
    }
    case 2: { /* insert a token */
        const char *t = JSON_TOKENS[fz_below(r, COUNT(JSON_TOKENS))];
        fz_splice(b, json_boundary(b, r), 0, t, strlen(t));
        break;
    }
    case 3: { /* replace the text between two boundaries with a token (drops a key or a value) */
        size_t s = json_boundary(b, r);
        if (s >= b->n) break;
        size_t e = s + 1;
        while (e < b->n && !strchr("{}[],:", b->p[e]) && e - s < 200) e++;
        const char *t = JSON_TOKENS[fz_below(r, COUNT(JSON_TOKENS))];
        fz_splice(b, s, e - s, t, fz_below(r, 2) ? strlen(t) : 0);
        break;
    }
    default: { /* nesting deeper than the parser's limit (64) */
        char deep[80];
        memset(deep, fz_below(r, 2) ? '[' : '{', sizeof deep);
        fz_splice(b, json_boundary(b, r), 0, deep, 60 + fz_below(r, 20));
    }
    }
}

/* WAV samples: a run of extreme values (full scale, near FLT_MAX, infinity, NaN, denormal) with
 * the sign flipping every few samples, at 16/32/64-bit widths, from byte `at` of the data. */
static void extreme_samples(buf_t *b, size_t at, rng_t *r) {
    static const uint64_t V[] = {0x7fff,
                                 0x8000,
                                 0x7fffff,
                                 0x7fffffff,
                                 0x80000000u,
                                 0x7f7fffff /* FLT_MAX */,
                                 0x7ee1d8f8 /* 1.5e38 */,
                                 0x7f800000 /* inf */,
                                 0x7fc00000 /* NaN */,
                                 0x00000001 /* denormal */,
                                 0x7fefffffffffffffull};
    int w = 2 << fz_below(r, 3), block = 1 + (int)fz_below(r, 8);
    uint64_t v = V[fz_below(r, COUNT(V))], sign = (uint64_t)1 << (8 * w - 1);
    size_t count = 1 + fz_below(r, 512);
    for (size_t i = 0; i < count && at + (size_t)w <= b->n; i++, at += (size_t)w)
        set_le(b->p + at, (i / (size_t)block) % 2 ? v | sign : v, w);
}

/* WAV: corrupt the RIFF size, a chunk size, a fmt field or the samples, found by walking the chunks. */
static void mutate_wav_fields(buf_t *b, rng_t *r) {
    if (b->n < 12) return;
    size_t offs[32], data_at = 0;
    int widths[32], n = 0;
    offs[n] = 4;
    widths[n++] = 4; /* RIFF size */
    for (size_t at = 12; at + 8 <= b->n && n < 24;) {
        uint32_t size = (uint32_t)get_le(b->p + at + 4, 4);
        offs[n] = at + 4;
        widths[n++] = 4; /* chunk size */
        if (!memcmp(b->p + at, "fmt ", 4) && at + 8 + 16 <= b->n) {
            static const int F[][2] = {{0, 2}, {2, 2}, {4, 4}, {12, 2}, {14, 2}, {16, 2}, {24, 2}};
            for (size_t i = 0; i < COUNT(F) && at + 8 + (size_t)F[i][0] + (size_t)F[i][1] <= b->n; i++) {
                offs[n] = at + 8 + (size_t)F[i][0];
                widths[n++] = F[i][1];
            }
        }
        if (!memcmp(b->p + at, "data", 4)) {
            data_at = at + 8;
            break;
        }
        at += 8 + (size_t)size + (size & 1);
    }
    if (data_at && data_at < b->n && fz_below(r, 4) == 0) {
        extreme_samples(b, data_at + fz_below(r, b->n - data_at) / 4 * 4, r);
        return;
    }
    int i = (int)fz_below(r, (size_t)n);
    uint64_t old = get_le(b->p + offs[i], widths[i]), v;
    switch (fz_below(r, 3)) {
    case 0: v = INTERESTING[fz_below(r, N_INTERESTING)]; break;
    case 1: v = old + (uint64_t)((int)fz_below(r, 17) - 8); break; /* off by a few */
    default: v = b->n - fz_below(r, 64); break;                    /* near the file size */
    }
    set_le(b->p + offs[i], v, widths[i]);
}

/* safetensors: mutate the JSON header (then usually fix the length field) or the length itself. */
static void mutate_safetensors(buf_t *b, rng_t *r) {
    if (b->n < 8) {
        mutate_bytes(b, r);
        return;
    }
    uint64_t hlen = get_le(b->p, 8);
    if (hlen > b->n - 8) {
        mutate_bytes(b, r);
        return;
    }
    size_t k = fz_below(r, 10);
    if (k == 0) {
        uint64_t v =
            fz_below(r, 2) ? INTERESTING[fz_below(r, N_INTERESTING)] : hlen + (uint64_t)((int)fz_below(r, 17) - 8);
        set_le(b->p, fz_below(r, 4) ? v : b->n - 8 + fz_below(r, 3), 8);
    } else if (k <= 2) { /* one header byte, same length */
        unsigned char *p = b->p + 8 + fz_below(r, (size_t)hlen);
        if (hlen) *p = fz_below(r, 2) ? (unsigned char)(*p ^ (1u << fz_below(r, 8))) : (unsigned char)fz_next(r);
    } else if (k == 3) {
        b->n = 8 + fz_below(r, b->n - 7); /* cut the data section or the header */
    } else {
        buf_t h = {0};
        fz_put(&h, b->p + 8, (size_t)hlen);
        mutate_json(&h, r);
        if (fz_below(r, 10)) set_le(b->p, h.n, 8);
        fz_splice(b, 8, (size_t)hlen, h.p, h.n);
        free(h.p);
    }
}

/* 1-4 stacked mutations, 6 in 10 of them format-aware. */
static void mutate(int target, buf_t *b, rng_t *r) {
    int k = 1 + (int)fz_below(r, 4);
    for (int i = 0; i < k; i++) {
        int structured = fz_below(r, 10) < 6;
        if (target == T_WEIGHTS)
            mutate_safetensors(b, r); /* bytes of the header; data bytes are never parsed */
        else if (!structured)
            mutate_bytes(b, r);
        else if (target == T_PARAMS || target == T_TOKENIZER)
            mutate_json(b, r);
        else
            mutate_wav_fields(b, r);
    }
}

/* ---- running one input ---- */

static char problem[2048];  /* why the last input failed its check */
static int last_rc;         /* the last loader result, for the accepted/rejected counts */
static char last_msg[1024]; /* and its message (--verbose) */
static volatile float sink; /* reads of loaded data go here, so they are not optimised away */

static int bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    return 1;
}

/* The error contract: 0 with no message, or family/ENOMEM with a one-line message. */
static int check_rc(const char *call, int rc, const vox_error_t *err, int family) {
    last_rc = rc;
    snprintf(last_msg, sizeof last_msg, "%s", rc ? err->msg : "ok");
    if (rc == 0) return err->code ? bad("%s returned 0 but recorded error %d: %s", call, err->code, err->msg) : 0;
    if (rc != family && rc != VOX_ENOMEM)
        return bad("%s returned %d, expected 0, %d or %d (ENOMEM)", call, rc, family, VOX_ENOMEM);
    if (err->code != rc) return bad("%s returned %d but the recorded code is %d", call, rc, err->code);
    if (!memchr(err->msg, 0, sizeof err->msg)) return bad("%s: message not NUL-terminated", call);
    if (!err->msg[0]) return bad("%s returned %d with an empty message", call, rc);
    if (strpbrk(err->msg, "\n\r")) return bad("%s: message is not one line: %s", call, err->msg);
    return 0;
}

static int check_samples(const float *x, size_t n, const char *call) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return bad("%s returned a non-finite sample %g at index %zu", call, (double)x[i], i);
    return 0;
}

typedef struct {
    int fd;
    const buf_t *b;
    rng_t r;
} feeder_t;

/* Writes the input into the pipe in random-sized pieces, then closes it (EPIPE: the reader quit). */
static void *feed(void *arg) {
    feeder_t *f = arg;
    for (size_t at = 0; at < f->b->n;) {
        size_t k = 1 + fz_below(&f->r, fz_below(&f->r, 2) ? 16 : 8192);
        if (k > f->b->n - at) k = f->b->n - at;
        ssize_t w = write(f->fd, f->b->p + at, k);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        at += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

static int run_stream(const buf_t *b, uint64_t salt) {
    int fds[2];
    if (pipe(fds) != 0) fz_die("pipe: %s", strerror(errno));
    feeder_t f = {fds[1], b, {salt}};
    pthread_t th;
    if (pthread_create(&th, NULL, feed, &f) != 0) fz_die("pthread_create failed");
    vox_error_t err = {0};
    vox_audio_stream_t *s = NULL;
    int rc = vox_audio_stream_open(fds[0], &s, &err), failed = check_rc("vox_audio_stream_open", rc, &err, VOX_EAUDIO);
    if (!rc && !failed) {
        const char *fmt = vox_audio_stream_format(s);
        if (strcmp(fmt, "wav") && strcmp(fmt, "raw-s16le")) failed = bad("vox_audio_stream_format returned '%s'", fmt);
        float out[4096];
        rng_t r = {salt ^ 0x5555};
        for (long got = 1; got > 0 && !failed;) {
            size_t cap = 1 + fz_below(&r, sizeof out / sizeof out[0]);
            got = vox_audio_stream_read(s, out, cap, &err);
            if (got < 0)
                failed = check_rc("vox_audio_stream_read", (int)got, &err, VOX_EAUDIO);
            else if ((size_t)got > cap)
                failed = bad("vox_audio_stream_read returned %ld samples for a cap of %zu", got, cap);
            else
                failed = check_samples(out, (size_t)got, "vox_audio_stream_read");
        }
    }
    vox_audio_stream_close(s);
    close(fds[0]);
    pthread_join(th, NULL);
    return failed;
}

/* Write the input to the target's file and call the loader; 0 = contract kept, 1 = see `problem`. */
static int run_input(int target, const buf_t *b, uint64_t salt) {
    char dir[2300], path[2400];
    snprintf(dir, sizeof dir, "%s/%s", G.work, TARGET_NAMES[target]);
    snprintf(path, sizeof path, "%s/%s", dir, TARGET_FILES[target]);
    fz_write_file(path, b);
    vox_error_t err = {0};
    int rc;
    switch (target) {
    case T_PARAMS: {
        vox_params_t p;
        rc = vox_params_load(dir, &p, &err);
        return check_rc("vox_params_load", rc, &err, VOX_EMODEL);
    }
    case T_TOKENIZER: {
        vox_tokenizer_t t;
        rc = vox_tokenizer_load(dir, G.params.vocab_size, &t, &err);
        if (check_rc("vox_tokenizer_load", rc, &err, VOX_EMODEL)) return 1;
        if (rc) return 0;
        for (int id = -1; id <= t.n_vocab; id++) { /* every id's bytes readable (ASan checks the reads) */
            size_t len;
            const unsigned char *p = vox_tokenizer_bytes(&t, id, &len);
            for (size_t i = 0; i < len; i++) sink += p[i];
        }
        int ok = t.bos >= 0 && t.bos < t.n_special && t.eos >= 0 && t.eos < t.n_special && t.streaming_pad >= 0 &&
                 t.streaming_pad < t.n_special;
        vox_tokenizer_free(&t);
        return ok ? 0 : bad("vox_tokenizer_load accepted special ids outside 0..n_special-1");
    }
    case T_WEIGHTS: {
        vox_weights_t w;
        rc = vox_weights_load(dir, &G.params, &w, &err);
        if (check_rc("vox_weights_load", rc, &err, VOX_EMODEL)) return 1;
        if (rc) return 0;
        for (int i = 0; i < w.st.n_tensors; i++) { /* first and last element of every tensor readable */
            const vox_tensor_t *t = &w.st.tensors[i];
            size_t n = t->nbytes / vox_dtype_size(t->dtype);
            if (n) sink += vox_tensor_get_f32(t, 0) + vox_tensor_get_f32(t, n - 1);
        }
        vox_weights_free(&w);
        return 0;
    }
    case T_WAV_FILE: {
        float *x = NULL;
        size_t n = 0;
        rc = vox_audio_load_file(path, &x, &n, &err);
        int failed = check_rc("vox_audio_load_file", rc, &err, VOX_EAUDIO);
        if (!failed && !rc)
            failed =
                n == 0 ? bad("vox_audio_load_file returned 0 samples") : check_samples(x, n, "vox_audio_load_file");
        free(x);
        return failed;
    }
    default: return run_stream(b, salt);
    }
}

static void make_dirs(void) {
    char d[2300];
    mkdir(G.work, 0755);
    for (int t = 0; t < N_TARGETS; t++) {
        snprintf(d, sizeof d, "%s/%s", G.work, TARGET_NAMES[t]);
        if (mkdir(d, 0755) != 0 && errno != EEXIST) fz_die("cannot create %s: %s", d, strerror(errno));
    }
    snprintf(d, sizeof d, "%s/failures", G.work);
    mkdir(d, 0755);
}

#ifndef VOX_LIBFUZZER
/* The mutant for (seed, target, iteration): a seed of the target, mutated. */
static void make_mutant(int target, uint64_t seed, uint64_t iter, buf_t *out) {
    rng_t r = {seed * 0x100000001b3ull ^ (uint64_t)target << 56 ^ iter * 0x9e3779b97f4a7c15ull};
    fz_next(&r);
    const buf_t *s = &G.seeds[target][fz_below(&r, (size_t)G.n_seeds[target])];
    out->n = 0;
    fz_put(out, s->p, s->n);
    mutate(target, out, &r);
}

/* ---- regressions: inputs that once broke the contract, checked before every run ---- */

/* Float WAV at 44.1 kHz with finite samples of +-3e38 in blocks of 3: the resampler's sums used to
 * overflow to infinity, so the loaders returned non-finite samples (fixed in audio.c by clipping
 * float samples to [-1, 1]). */
static void regression_big_floats(buf_t *b) {
    const int frames = 4410;
    make_wav(b, 3, 32, 1, 44100, frames, 0, 0, 0);
    unsigned char *data = b->p + b->n - (size_t)frames * 4;
    for (int i = 0; i < frames; i++) {
        float v = (i / 3) % 2 ? -3e38f : 3e38f;
        uint32_t u;
        memcpy(&u, &v, 4);
        set_le(data + 4 * i, u, 4);
    }
}

static int run_regressions(void) {
    buf_t b = {0};
    int failures = 0;
    regression_big_floats(&b);
    for (int t = T_WAV_FILE; t <= T_WAV_STREAM; t++)
        if (run_input(t, &b, 1)) {
            fprintf(stderr, "fuzz: FAIL regression big-floats (%s): %s\n", TARGET_NAMES[t], problem);
            failures++;
        }
    free(b.p);
    return failures;
}

/* ---- crash and hang reports ---- */

static void print_note(void) {
    if (write(2, G.note, strlen(G.note)) < 0) return;
}
static void on_alarm(int sig) {
    (void)sig;
    static const char m[] = "fuzz: FAIL: one input ran longer than the time limit (a hang)\n";
    if (write(2, m, sizeof m - 1) < 0) _exit(1);
    print_note();
    _exit(1);
}

static void on_abort(int sig) {
    print_note();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void set_note(const char *argv0, int target, uint64_t seed, uint64_t iter) {
    snprintf(G.note, sizeof G.note,
             "fuzz: the input running was target %s, iteration %llu of --seed %llu: %s/%s/%s\n"
             "fuzz: reproduce: %s --fixture %s --replay %s %s/%s/%s\n",
             TARGET_NAMES[target], (unsigned long long)iter, (unsigned long long)seed, G.work, TARGET_NAMES[target],
             TARGET_FILES[target], argv0, G.fixture, TARGET_NAMES[target], G.work, TARGET_NAMES[target],
             TARGET_FILES[target]);
}

static int target_id(const char *name) {
    for (int t = 0; t < N_TARGETS; t++)
        if (!strcmp(name, TARGET_NAMES[t])) return t;
    fz_die("unknown target '%s': use params, tokenizer, weights, wav-file or wav-stream", name);
    return -1;
}

int main(int argc, char **argv) {
    uint64_t iterations = 2000, seed = 1;
    const char *fixture = NULL, *replay = NULL;
    int only = -1, replay_target = -1, verbose = 0;
    snprintf(G.work, sizeof G.work, "build/fuzz/work");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--iterations") && v)
            iterations = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--seed") && v)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--fixture") && v)
            fixture = argv[++i];
        else if (!strcmp(a, "--work") && v)
            snprintf(G.work, sizeof G.work, "%s", argv[++i]);
        else if (!strcmp(a, "--verbose"))
            verbose = 1;
        else if (!strcmp(a, "--only") && v)
            only = target_id(argv[++i]);
        else if (!strcmp(a, "--replay") && v && i + 2 < argc) {
            replay_target = target_id(argv[++i]);
            replay = argv[++i];
        } else
            fz_die("usage: %s --fixture DIR [--iterations N] [--seed S] [--work DIR] [--only TARGET] [--verbose] | "
                   "--fixture DIR --replay "
                   "TARGET FILE",
                   argv[0]);
    }
    if (!fixture) fz_die("--fixture DIR is required (a model folder such as checks/fixtures/tiny-small-windows)");
    signal(SIGPIPE, SIG_IGN); /* the feeder sees EPIPE when the stream reader stops early */
    signal(SIGALRM, on_alarm);
    signal(SIGABRT, on_abort);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_set_death_callback(print_note);
#endif
    load_seeds(fixture);
    make_dirs();
    if (replay) {
        buf_t b = {0};
        read_file(replay, &b);
        int failed = run_input(replay_target, &b, 1);
        printf("fuzz: replay %s %s: %s (loader said: %s)\n", TARGET_NAMES[replay_target], replay,
               failed ? problem : "contract kept", last_msg);
        free(b.p);
        return failed;
    }
    double t0 = vox_now_ms();
    uint64_t inputs = 0, failures = (uint64_t)run_regressions(), accepted[N_TARGETS] = {0}, tried[N_TARGETS] = {0};
    buf_t m = {0};
    for (uint64_t it = 0; it < iterations; it++)
        for (int t = 0; t < N_TARGETS; t++) {
            if (only >= 0 && t != only) continue;
            make_mutant(t, seed, it, &m);
            set_note(argv[0], t, seed, it);
            alarm(TIMEOUT_S);
            int failed = run_input(t, &m, seed ^ it);
            alarm(0);
            inputs++;
            tried[t]++;
            accepted[t] += last_rc == 0;
            if (verbose) printf("%s %llu: %s\n", TARGET_NAMES[t], (unsigned long long)it, last_msg);
            if (!failed) continue;
            failures++;
            char keep[2400];
            snprintf(keep, sizeof keep, "%s/failures/%s-seed%llu-iter%llu", G.work, TARGET_NAMES[t],
                     (unsigned long long)seed, (unsigned long long)it);
            fz_write_file(keep, &m);
            fprintf(
                stderr,
                "fuzz: FAIL %s iteration %llu (--seed %llu): %s\nfuzz: input kept at %s; reproduce: %s --fixture %s "
                "--replay %s %s\n",
                TARGET_NAMES[t], (unsigned long long)it, (unsigned long long)seed, problem, keep, argv[0], fixture,
                TARGET_NAMES[t], keep);
        }
    printf("fuzz: accepted / tried:");
    for (int t = 0; t < N_TARGETS; t++)
        printf(" %s %llu/%llu", TARGET_NAMES[t], (unsigned long long)accepted[t], (unsigned long long)tried[t]);
    printf("\n");
    printf("fuzz: %llu inputs, %llu failures (seed %llu, %llu iterations, %.1f s)\n", (unsigned long long)inputs,
           (unsigned long long)failures, (unsigned long long)seed, (unsigned long long)iterations,
           (vox_now_ms() - t0) / 1000);
    free(m.p);
    return failures ? 1 : 0;
}
#else
/* libFuzzer form: input = one byte picking the target + the file's bytes. Each mutation is either
 * libFuzzer's own (LLVMFuzzerMutate on the file's bytes, the target byte kept) or ours (an empty input
 * starts from a seed), half and half. It runs from any folder: the fixture is found from the
 * binary's own path (<engine>/build/fuzz_libfuzzer -> <repo>/checks/fixtures/tiny-small-windows;
 * VOX_FUZZ_FIXTURE=DIR overrides), the work folder is <engine>/build/fuzz/libfuzzer-<pid> and is
 * removed at exit. VOX_FUZZ_TARGET=NAME (params, tokenizer, weights, wav-file, wav-stream) keeps
 * every input on one target. `make -C engine fuzz-libfuzzer` builds it with clang and runs each
 * target for LIBFUZZER_SECONDS; by hand, from anywhere:
 *   engine/build/fuzz_libfuzzer -max_len=1048576 -max_total_time=60 -timeout=20 -print_final_stats=1
 * (-max_len must exceed the largest seed, the 692608-byte consolidated.safetensors.) */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
static int locked = -1; /* VOX_FUZZ_TARGET */

static void cleanup(void) {
    char p[2600];
    for (int t = 0; t < N_TARGETS; t++) {
        snprintf(p, sizeof p, "%s/%s/%s", G.work, TARGET_NAMES[t], TARGET_FILES[t]);
        unlink(p);
        snprintf(p, sizeof p, "%s/%s", G.work, TARGET_NAMES[t]);
        rmdir(p);
    }
    snprintf(p, sizeof p, "%s/failures", G.work);
    rmdir(p);
    rmdir(G.work);
}

static void setup(void) {
    static int ready;
    static char fixture[2048];
    if (ready) return;
    char exe[1600] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) fz_die("cannot find this binary's path (/proc/self/exe). Set VOX_FUZZ_FIXTURE=DIR");
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    *slash = 0; /* exe = <engine>/build */
    const char *fx = getenv("VOX_FUZZ_FIXTURE");
    snprintf(fixture, sizeof fixture, "%s", fx ? fx : exe);
    if (!fx) snprintf(fixture, sizeof fixture, "%s/../../checks/fixtures/tiny-small-windows", exe);
    char d[1700];
    snprintf(d, sizeof d, "%s/fuzz", exe);
    mkdir(d, 0755);
    snprintf(G.work, sizeof G.work, "%s/libfuzzer-%ld", d, (long)getpid());
    const char *only = getenv("VOX_FUZZ_TARGET");
    for (int t = 0; only && t < N_TARGETS; t++)
        if (!strcmp(only, TARGET_NAMES[t])) locked = t;
    if (only && locked < 0)
        fz_die("unknown VOX_FUZZ_TARGET '%s'. Use params, tokenizer, weights, wav-file or wav-stream", only);
    signal(SIGPIPE, SIG_IGN);
    load_seeds(fixture);
    make_dirs();
    atexit(cleanup);
    ready = 1;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
    setup();
    rng_t r = {seed};
    int t = locked >= 0 ? locked : size ? data[0] % N_TARGETS : (int)fz_below(&r, N_TARGETS);
    if (size > 1 && (seed & 1)) { /* libFuzzer's own mutations on the file's bytes */
        data[0] = (uint8_t)t;
        return 1 + LLVMFuzzerMutate(data + 1, size - 1, max_size - 1);
    }
    buf_t b = {0};
    const buf_t *s = &G.seeds[t][fz_below(&r, (size_t)G.n_seeds[t])];
    if (size > 1)
        fz_put(&b, data + 1, size - 1);
    else
        fz_put(&b, s->p, s->n);
    mutate(t, &b, &r);
    size_t n = b.n < max_size ? b.n : max_size - 1;
    data[0] = (uint8_t)t;
    if (n) memcpy(data + 1, b.p, n);
    free(b.p);
    return n + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    if (size == 0) return 0;
    buf_t b = {(unsigned char *)data + 1, size - 1, size - 1};
    int t = locked >= 0 ? locked : data[0] % N_TARGETS;
    if (run_input(t, &b, size)) {
        fprintf(stderr, "fuzz: FAIL %s: %s\n", TARGET_NAMES[t], problem);
        abort();
    }
    return 0;
}
#endif
