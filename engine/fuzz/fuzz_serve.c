/* fuzz_serve.c — a deterministic mutation fuzzer for serve mode (src/serve.c), the whole loop:
 * framing parser, open options, per-stream bookkeeping, odd byte counts, decoding.
 *
 * Seeds: frame sequences built here on the fixture model — one to three streams opened with and
 * without options, audio from the fixture's WAV (a short cut) in ragged frames that split samples,
 * finish / close frames, EOF with streams still open. Each iteration mutates one seed (1-4 stacked
 * mutations, frame-aware in 6 of 10: a frame's type byte, stream id or length field changed, frames
 * dropped, duplicated or swapped, option JSON spliced; otherwise bit flips, interesting bytes,
 * truncation, insertions) and runs vox_serve_run on it over a pipe fed in random-sized pieces,
 * with the fixture model loaded once (CPU backend, one thread). The contract checked:
 *   - vox_serve_run returns 0 or VOX_EUSAGE (framing) with a one-line message;
 *   - every stdout line parses as a JSON object with a known "type" and a "stream" (id or null);
 *   - token / progress / done / closed events name a stream that is open; after a stream's done,
 *     closed or error nothing more comes for it until it is opened again;
 *   - on a 0 return every opened stream has ended (done, closed or error);
 *   - vox_serve_frame_parse on the raw mutant never reports a frame beyond the bytes it was given.
 * Crashes and sanitizer reports (ASan + UBSan build) print the input that caused them.
 *
 *   fuzz_serve --fixture DIR [--iterations N] [--seed S] [--work DIR] [--verbose]
 *   fuzz_serve --fixture DIR --replay FILE */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audio.h"
#include "backend.h"
#include "json.h"
#include "model.h"
#include "serve.h"
#include "fuzz_util.h"

#define TIMEOUT_S   20
#define N_SEEDS     6
#define CUT_SAMPLES 9600 /* 0.6 s of the fixture's speech per stream */

const char *fz_prog = "fuzz_serve";

static struct {
    vox_model_t *m;
    const char *work;
    int16_t *pcm;
    size_t n_pcm;
    buf_t seeds[N_SEEDS];
    char problem[2048];
    char note[4096];
    int served; /* inputs that vox_serve_run took to the end (returned 0) */
} G;

static int bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(G.problem, sizeof G.problem, fmt, ap);
    va_end(ap);
    return 1;
}

static void frame(buf_t *b, char type, uint32_t id, const void *payload, size_t n) {
    unsigned char h[VOX_SERVE_HEADER] = {(unsigned char)type};
    for (int i = 0; i < 4; i++) {
        h[1 + i] = (unsigned char)(id >> (8 * i));
        h[5 + i] = (unsigned char)(n >> (8 * i));
    }
    fz_put(b, h, sizeof h);
    fz_put(b, payload, n);
}
static void audio(buf_t *b, uint32_t id, size_t from, size_t bytes, rng_t *r) {
    const unsigned char *p = (const unsigned char *)(G.pcm + from);
    for (size_t off = 0; off < bytes;) {
        size_t k = 1 + fz_below(r, 5000);
        if (k > bytes - off) k = bytes - off;
        frame(b, 'A', id, p + off, k);
        off += k;
    }
}

/* Seeds: well-formed sessions of one to three streams. */
static void make_seeds(void) {
    static const char *OPTS[] = {"",
                                 "{}",
                                 "{\"delay_ms\":480}",
                                 "{\"delay_ms\":960,\"ignore_eos\":true}",
                                 "{\"ignore_eos\":false}",
                                 " { \"delay_ms\" : 80 } "};
    for (int s = 0; s < N_SEEDS; s++) {
        rng_t r = {(uint64_t)s * 7919u + 1};
        buf_t *b = &G.seeds[s];
        int streams = 1 + s % 3;
        for (int k = 0; k < streams; k++)
            frame(b, 'O', (uint32_t)(k + 1) * (s == 4 ? 1000003u : 1u), OPTS[(s + k) % 6], strlen(OPTS[(s + k) % 6]));
        size_t bytes = 2 * (CUT_SAMPLES - 640 * (size_t)s);
        for (size_t off = 0; off < bytes; off += 3001)
            for (int k = 0; k < streams; k++) {
                size_t n = bytes - off < 3001 ? bytes - off : 3001;
                audio(b, (uint32_t)(k + 1) * (s == 4 ? 1000003u : 1u), off / 2, n, &r);
            }
        for (int k = 0; k < streams; k++) {
            if (s == 5 && k == 0) continue; /* left open: finished by EOF */
            frame(b, k == 1 && s == 2 ? 'C' : 'F', (uint32_t)(k + 1) * (s == 4 ? 1000003u : 1u), NULL, 0);
        }
    }
}

/* ---- mutations ---- */

static size_t frame_starts(const buf_t *b, size_t *at, size_t max) {
    size_t n = 0;
    vox_serve_frame f;
    vox_error_t e = {0, ""};
    for (size_t off = 0; off < b->n && n < max;) {
        long k = vox_serve_frame_parse(b->p + off, b->n - off, &f, &e);
        if (k <= 0) break;
        at[n++] = off;
        off += (size_t)k;
    }
    return n;
}

static void mutate_frames(buf_t *b, rng_t *r) {
    static size_t at[4096];
    size_t n = frame_starts(b, at, 4096);
    if (n == 0) return;
    size_t i = fz_below(r, n), j = fz_below(r, n);
    size_t end_i = i + 1 < n ? at[i + 1] : b->n;
    static const char TYPES[] = "OAFCZ\0a";
    static const char *JSON[] = {
        "{", "}",  "\"delay_ms\":",    "100",          "2400", "-80", "1e9", "true", "null", "\"x\"",
        ",", "[]", "\"ignore_eos\":1", "{\"bogus\":1}"};
    switch (fz_below(r, 7)) {
    case 0: b->p[at[i]] = (unsigned char)TYPES[fz_below(r, sizeof TYPES - 1)]; break;
    case 1: {
        uint32_t id = (uint32_t)fz_below(r, 4);
        if (fz_below(r, 4) == 0) id = 0xffffffffu;
        memcpy(b->p + at[i] + 1, &id, 4);
        break;
    }
    case 2: {
        uint32_t len = (uint32_t)(fz_below(r, 3) == 0 ? (1u << 20) + fz_below(r, 3) : fz_below(r, 6000));
        memcpy(b->p + at[i] + 5, &len, 4);
        break;
    }
    case 3: fz_splice(b, at[i], end_i - at[i], NULL, 0); break; /* drop a frame */
    case 4: {
        buf_t t = {0};
        fz_put(&t, b->p + at[i], end_i - at[i]);
        fz_splice(b, at[j], 0, t.p, t.n);
        free(t.p);
        break;
    }
    case 5: { /* move frame i before frame j */
        buf_t t = {0};
        fz_put(&t, b->p + at[i], end_i - at[i]);
        fz_splice(b, at[i], end_i - at[i], NULL, 0);
        fz_splice(b, at[j] <= at[i] ? at[j] : at[j] - t.n, 0, t.p, t.n);
        free(t.p);
        break;
    }
    default: { /* new open frame with spliced option JSON */
        buf_t p = {0};
        int k = 1 + (int)fz_below(r, 4);
        for (int q = 0; q < k; q++) {
            const char *t = JSON[fz_below(r, 14)];
            fz_put(&p, t, strlen(t));
        }
        buf_t f = {0};
        frame(&f, 'O', (uint32_t)fz_below(r, 4), p.p, p.n);
        fz_splice(b, at[i], 0, f.p, f.n);
        free(p.p);
        free(f.p);
    }
    }
}

static void mutate_bytes(buf_t *b, rng_t *r) {
    static const unsigned char INTERESTING[] = {0, 1, 0x7f, 0x80, 0xff, 'O', 'A', 'F', 'C'};
    size_t at = fz_below(r, b->n + 1);
    switch (fz_below(r, 4)) {
    case 0:
        if (b->n) b->p[fz_below(r, b->n)] ^= (unsigned char)(1u << fz_below(r, 8));
        break;
    case 1:
        if (b->n) b->p[fz_below(r, b->n)] = INTERESTING[fz_below(r, sizeof INTERESTING)];
        break;
    case 2: b->n = at; break;
    default: {
        unsigned char x[16];
        for (int i = 0; i < 16; i++) x[i] = (unsigned char)fz_next(r);
        fz_splice(b, at, 0, x, 1 + fz_below(r, 16));
    }
    }
}

static void make_mutant(uint64_t seed, uint64_t iter, buf_t *out) {
    rng_t r = {seed * 0x100000001b3ull ^ (iter + 1) * 0x9e3779b97f4a7c15ull};
    out->n = 0;
    const buf_t *s = &G.seeds[fz_below(&r, N_SEEDS)];
    fz_put(out, s->p, s->n);
    int k = 1 + (int)fz_below(&r, 4);
    for (int i = 0; i < k; i++) {
        if (fz_below(&r, 10) < 6)
            mutate_frames(out, &r);
        else
            mutate_bytes(out, &r);
    }
}

/* ---- running one input ---- */

typedef struct {
    int fd;
    const buf_t *b;
    uint64_t salt;
} feeder;

static void *feed(void *arg) {
    feeder *f = arg;
    rng_t r = {f->salt};
    for (size_t off = 0; off < f->b->n;) {
        size_t k = 1 + fz_below(&r, 9000);
        if (k > f->b->n - off) k = f->b->n - off;
        ssize_t w = write(f->fd, f->b->p + off, k);
        if (w <= 0) break; /* the server stopped reading (framing error): EPIPE */
        off += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

#define MAX_IDS 64
static int check_events(char *out, size_t n, int rc) {
    uint32_t open_ids[MAX_IDS];
    int n_open = 0;
    static const char *TYPES[] = {"ready", "opened", "token", "progress", "done", "closed", "error"};
    for (char *line = out; line < out + n;) {
        char *nl = memchr(line, '\n', (size_t)(out + n - line));
        if (!nl) return bad("output does not end with a newline");
        vox_error_t e = {0, ""};
        vox_json *j = vox_json_parse(line, (size_t)(nl - line), "event", &e);
        if (!j) return bad("event line is not JSON (%s): %.200s", e.msg, line);
        const vox_json *t = vox_json_get(j, "type"), *s = vox_json_get(j, "stream");
        int known = -1;
        for (int k = 0; t && t->type == VOX_JSON_STRING && k < 7; k++)
            if (!strcmp(t->string, TYPES[k])) known = k;
        int fail = known < 0 || !s || (s->type != VOX_JSON_NUMBER && s->type != VOX_JSON_NULL);
        uint32_t id = s && s->type == VOX_JSON_NUMBER ? (uint32_t)s->number : 0;
        int slot = -1;
        for (int k = 0; k < n_open; k++)
            if (s && s->type == VOX_JSON_NUMBER && open_ids[k] == id) slot = k;
        if (!fail && known == 1) {
            if (slot >= 0)
                fail = 1;
            else if (n_open < MAX_IDS)
                open_ids[n_open++] = id;
        } else if (!fail && known >= 2 && known <= 5 && slot < 0) {
            fail = 1;
        } else if (!fail && known >= 4 && slot >= 0) {
            open_ids[slot] = open_ids[--n_open];
        }
        vox_json_free(j);
        if (fail) return bad("event out of contract: %.300s", line);
        line = nl + 1;
    }
    if (rc == 0 && n_open) return bad("vox_serve_run returned 0 with stream %u never ended", open_ids[0]);
    return 0;
}

static int run_input(const buf_t *b, uint64_t salt, int verbose) {
    /* The parser alone on the raw bytes: frames stay inside the buffer. */
    vox_serve_frame f;
    vox_error_t pe = {0, ""};
    for (size_t off = 0; off < b->n;) {
        long k = vox_serve_frame_parse(b->p + off, b->n - off, &f, &pe);
        if (k < 0 && (!pe.msg[0] || k != VOX_EUSAGE))
            return bad("frame parser returned %ld with message '%s'", k, pe.msg);
        if (k <= 0) break;
        if ((size_t)k > b->n - off || f.len > VOX_SERVE_MAX_PAYLOAD || f.payload + f.len > b->p + b->n)
            return bad("frame parser reported a frame past the input");
        off += (size_t)k;
    }
    int fds[2];
    if (pipe(fds)) fz_die("pipe failed");
    feeder fd = {fds[1], b, salt};
    pthread_t th;
    if (pthread_create(&th, NULL, feed, &fd)) fz_die("pthread_create failed");
    char *out = NULL;
    size_t n_out = 0;
    FILE *mem = open_memstream(&out, &n_out);
    if (!mem) fz_die("open_memstream failed");
    vox_serve_opts o = {480, 0, 1, 0.0};
    vox_error_t e = {0, ""};
    int rc = vox_serve_run(G.m, &o, fds[0], mem, &e);
    close(fds[0]);
    pthread_join(th, NULL);
    fclose(mem);
    int failed = 0;
    if (rc != 0 && rc != VOX_EUSAGE)
        failed = bad("vox_serve_run returned %d (only 0 or VOX_EUSAGE): %s", rc, e.msg);
    else if (rc && (!e.msg[0] || strpbrk(e.msg, "\n\r")))
        failed = bad("vox_serve_run returned %d with a bad message '%s'", rc, e.msg);
    else
        failed = check_events(out, n_out, rc);
    G.served += rc == 0;
    if (verbose) printf("rc %d, %zu bytes of events%s%s\n", rc, n_out, rc ? ": " : "", rc ? e.msg : "");
    free(out);
    return failed;
}

static void on_signal(int sig) {
    (void)!write(2, G.note, strlen(G.note));
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv) {
    uint64_t iterations = 200, seed = 1;
    const char *fixture = NULL, *replay = NULL;
    int verbose = 0;
    G.work = "build/fuzz/serve";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--iterations") && more)
            iterations = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--seed") && more)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--fixture") && more)
            fixture = argv[++i];
        else if (!strcmp(a, "--work") && more)
            G.work = argv[++i];
        else if (!strcmp(a, "--replay") && more)
            replay = argv[++i];
        else if (!strcmp(a, "--verbose"))
            verbose = 1;
        else
            fz_die(
                "usage: %s --fixture DIR [--iterations N] [--seed S] [--work DIR] [--verbose] | --fixture DIR --replay "
                "FILE",
                argv[0]);
    }
    if (!fixture) fz_die("--fixture DIR is required (a model folder such as checks/fixtures/tiny-small-windows)");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_signal);
    signal(SIGABRT, on_signal);
    vox_error_t e = {0, ""};
    vox_backend_t *be = NULL;
    vox_backend_opts bo = {"cpu", 1, 0, 0};
    char wav[2048];
    float *x = NULL;
    size_t nx = 0;
    snprintf(wav, sizeof wav, "%s/test_speech.wav", fixture);
    if (vox_backend_create(&bo, &be, &e) || vox_model_load(fixture, be, &G.m, &e) ||
        vox_audio_load_file(wav, &x, &nx, &e))
        fz_die("%s", e.msg);
    if (nx < CUT_SAMPLES) fz_die("%s is shorter than %d samples", wav, CUT_SAMPLES);
    G.pcm = malloc(CUT_SAMPLES * sizeof *G.pcm);
    for (size_t i = 0; i < CUT_SAMPLES; i++) G.pcm[i] = (int16_t)(x[i] * 32767.0f);
    free(x);
    make_seeds();
    mkdir("build/fuzz", 0755);
    mkdir(G.work, 0755);
    int failures = 0;
    if (replay) {
        buf_t b = {0};
        if (fz_read_file(replay, &b)) fz_die("cannot open %s", replay);
        failures = run_input(&b, 1, 1);
        printf("fuzz_serve: replay %s: %s\n", replay, failures ? G.problem : "contract kept");
        free(b.p);
    } else {
        double t0 = vox_now_ms();
        buf_t m = {0};
        for (uint64_t it = 0; it < iterations; it++) {
            make_mutant(seed, it, &m);
            snprintf(G.note, sizeof G.note,
                     "fuzz_serve: died on iteration %llu of --seed %llu; the input is %s/current\n",
                     (unsigned long long)it, (unsigned long long)seed, G.work);
            char path[2300];
            snprintf(path, sizeof path, "%s/current", G.work);
            fz_write_file(path, &m);
            alarm(TIMEOUT_S);
            int failed = run_input(&m, seed ^ it, verbose);
            alarm(0);
            if (!failed) continue;
            failures++;
            snprintf(path, sizeof path, "%s/failure-seed%llu-iter%llu", G.work, (unsigned long long)seed,
                     (unsigned long long)it);
            fz_write_file(path, &m);
            fprintf(stderr,
                    "fuzz_serve: FAIL iteration %llu (--seed %llu): %s\nfuzz_serve: input kept at %s; reproduce: %s "
                    "--fixture %s --replay %s\n",
                    (unsigned long long)it, (unsigned long long)seed, G.problem, path, argv[0], fixture, path);
        }
        char path[2300];
        snprintf(path, sizeof path, "%s/current", G.work);
        remove(path);
        free(m.p);
        printf("fuzz_serve: %llu inputs, %d failures, %d served to the end (seed %llu, %.1f s)\n",
               (unsigned long long)iterations, failures, G.served, (unsigned long long)seed,
               (vox_now_ms() - t0) / 1000);
    }
    for (int s = 0; s < N_SEEDS; s++) free(G.seeds[s].p);
    free(G.pcm);
    vox_model_free(G.m);
    vox_backend_destroy(be);
    return failures ? 1 : 0;
}
