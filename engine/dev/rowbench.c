/* rowbench.c — the cost of multi-row decoder forwards against single steps (engine/README.md,
 * "Speculation and batched streams: CPU measurements").
 *
 *   build/rowbench -d MODEL_DIR [--reps N] [--threads N] [--backend cpu|cuda] [--pos P] [--streams B]
 *                  [--rows R]                                 (make -C engine rowbench)
 *
 * Sixteen decoders (delay 480 ms) are prefilled from random audio embeddings; after one warm-up
 * step, each repetition times, interleaved: a single step (vox_decoder_step), k-row speculation
 * forwards (vox_decoder_forward, k = 2, 4, 8, 16) and B-stream steps (vox_decoder_step_rows,
 * B = 2, 4, 8, 16), all at the first decoded positions. Prints one JSON line per measurement: median,
 * min and max wall ms over the repetitions, and the median per decided position, and the same for the
 * process's CPU time (all threads). --pos P times every
 * measurement at decoder position P instead (P >= sliding_window: every attention reads a full window;
 * the ring slots hold whatever was there, which costs the same; CUDA only, whose rings are allocated
 * whole). --streams B instead times ticks of B streams: each of `reps` ticks steps every stream once
 * at position P (default a full window; + the tick), as vox_streams_step does, in forwards of at most
 * R rows (default the backend's batch_rows); prints p50 / p95 / max tick ms and the device memory per
 * stream. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "decoder.h"
#include "model.h"

#define NB VOX_MAX_SPEC
/* CPU time of the whole process (all threads), ms: the work of a forward even when other
 * programs share the cores (wall time then includes waiting for them). */
static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double median(double *v, int n);
#define MAX_STREAMS 512
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* --streams B: ticks of B streams at full (or chosen) KV windows. */
static int bench_streams(vox_backend_t *be, vox_model_t *m, int B, int R, int reps, long at) {
    const vox_backend_ops *o = be->ops;
    vox_error_t err = {0, ""};
    int dim = m->p.dim, L = 1 + VOX_LEFT_PAD_TOKENS + 6;
    long P = at >= 0 ? at : m->p.sliding_window + L;
    size_t mem0 = o->mem_used ? o->mem_used(be) : 0;
    vox_decoder_t *dec = calloc((size_t)B, sizeof *dec);
    vox_decoder_t **d = calloc((size_t)B, sizeof *d);
    const float **ep = calloc((size_t)B, sizeof *ep);
    int64_t *pos = calloc((size_t)B, sizeof *pos);
    double *ms = calloc((size_t)reps, sizeof *ms);
    int32_t out[VOX_MAX_ROWS];
    vox_dec_bufs scratch;
    int rc = !dec || !d || !ep || !pos || !ms || vox_dec_bufs_init(&scratch, m, R, R);
    float *h = malloc((size_t)L * dim * sizeof(float)), *emb = o->alloc(be, (size_t)L * dim);
    uint64_t r = 88172645463325252ull;
    for (size_t i = 0; h && i < (size_t)L * dim; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        h[i] = (float)((r >> 11) * (1.0 / 9007199254740992.0)) * 0.2f - 0.1f;
    }
    rc = rc || !h || !emb || o->upload(be, emb, h, (size_t)L * dim * sizeof(float));
    int n = 0;
    for (; !rc && n < B; n++) {
        d[n] = &dec[n];
        rc = vox_decoder_init(d[n], m, 6, 1, &err) || vox_decoder_prefill(d[n], emb);
        ep[n] = emb + (size_t)(L - 1) * dim;
    }
    size_t mem1 = o->mem_used ? o->mem_used(be) : 0; /* at the start; the KV rings grow with the position */
    for (int t = -2; !rc && t < reps; t++) {         /* two warm-up ticks */
        double t0 = vox_now_ms();
        for (int i = 0; i < B; i++) pos[i] = P + (t < 0 ? 0 : t);
        for (int i = 0; !rc && i < B; i += R)
            rc = vox_decoder_step_rows(&scratch, d + i, ep + i, pos + i, B - i < R ? B - i : R, out);
        if (t >= 0) ms[t] = vox_now_ms() - t0;
    }
    size_t mem2 = o->mem_used ? o->mem_used(be) : 0; /* at position P */
    if (rc) {
        fprintf(stderr, "rowbench: error: %s\n", be->err.msg[0] ? be->err.msg : err.msg[0] ? err.msg : "out of memory");
    } else {
        qsort(ms, (size_t)reps, sizeof *ms, cmp);
        double p50 = ms[reps / 2], p95 = ms[(int)(0.95 * (reps - 1))];
        printf("{\"what\":\"streams_tick\",\"streams\":%d,\"rows_per_forward\":%d,\"pos\":%ld,\"ticks\":%d,"
               "\"ms_p50\":%.2f,\"ms_p95\":%.2f,\"ms_max\":%.2f,\"ms_min\":%.2f,\"mem_mb_model\":%.1f,"
               "\"mem_mb_per_stream\":%.2f,\"mem_mb_per_stream_start\":%.2f}\n",
               B, R, P, reps, p50, p95, ms[reps - 1], ms[0], mem0 / 1048576.0, (double)(mem2 - mem0) / B / 1048576.0,
               (double)(mem1 - mem0) / B / 1048576.0);
    }
    for (int i = 0; i < n; i++) vox_decoder_free(d[i]);
    if (!rc || scratch.rows) vox_dec_bufs_free(&scratch, m);
    if (emb) o->free(be, emb);
    free(h);
    free(ms);
    free(pos);
    free(ep);
    free(d);
    free(dec);
    vox_model_free(m);
    vox_backend_destroy(be);
    return rc ? 1 : 0;
}

int main(int argc, char **argv) {
    const char *dir = NULL, *backend = "cpu";
    int reps = 5, threads = 0, streams = 0, width = 0;
    long at = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-d") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            backend = argv[++i];
        else if (!strcmp(argv[i], "--pos") && i + 1 < argc)
            at = atol(argv[++i]);
        else if (!strcmp(argv[i], "--streams") && i + 1 < argc)
            streams = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            width = atoi(argv[++i]);
        else {
            fprintf(stderr,
                    "rowbench: error: unknown option '%s'. Use -d DIR [--reps N] [--threads N] [--backend cpu|cuda] "
                    "[--pos P] [--streams B] [--rows R]\n",
                    argv[i]);
            return 2;
        }
    }
    if (!dir || reps < 1 || reps > 1000 || streams < 0 || streams > MAX_STREAMS || width < 0 || width > VOX_MAX_ROWS) {
        fprintf(stderr, "rowbench: error: pass -d MODEL_DIR (and --reps 1..1000, --streams 1..%d, --rows 1..%d)\n",
                MAX_STREAMS, VOX_MAX_ROWS);
        return 2;
    }
    if (!strcmp(backend, "cpu") && (at >= 0 || streams)) {
        fprintf(stderr,
                "rowbench: error: --pos and --streams need --backend cuda (a CPU KV ring grows only as positions are "
                "written, so a jump ahead reads unallocated slots)\n");
        return 2;
    }
    vox_error_t err = {0, ""};
    vox_backend_opts bo = {backend, threads, 0, 0};
    vox_backend_t *be = NULL;
    vox_model_t *m = NULL;
    if (vox_backend_create(&bo, &be, &err) || vox_model_load(dir, be, &m, &err)) {
        fprintf(stderr, "rowbench: error: %s\n", err.msg);
        return 2;
    }
    const vox_backend_ops *o = be->ops;
    int dim = m->p.dim;
    if (streams) return bench_streams(be, m, streams, width ? width : o->batch_rows, reps, at);
    static vox_decoder_t dec[NB];
    vox_decoder_t *d[NB];
    vox_dec_bufs scratch;
    int rc = vox_dec_bufs_init(&scratch, m, NB, NB);
    int L = 1 + VOX_LEFT_PAD_TOKENS + 6, rows = L - 1 + NB;
    float *h = malloc((size_t)rows * dim * sizeof(float)), *emb = o->alloc(be, (size_t)rows * dim);
    uint64_t r = 88172645463325252ull;
    for (size_t i = 0; i < (size_t)rows * dim; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        h[i] = (float)((r >> 11) * (1.0 / 9007199254740992.0)) * 0.2f - 0.1f;
    }
    rc = rc || !emb || o->upload(be, emb, h, (size_t)rows * dim * sizeof(float));
    double t0 = vox_now_ms();
    for (int i = 0; !rc && i < NB; i++) {
        d[i] = &dec[i];
        rc = vox_decoder_init(d[i], m, 6, VOX_MAX_SPEC, &err) || vox_decoder_prefill(d[i], emb);
    }
    fprintf(stderr, "rowbench: %d prefills in %.0f ms\n", NB, vox_now_ms() - t0);
    const float *e1 = emb + (size_t)(L - 1) * dim, *ep[NB];
    int64_t pos[NB];
    int64_t P = at >= 0 ? at : L - 1;
    for (int i = 0; i < NB; i++) {
        ep[i] = e1;
        pos[i] = P;
    }
    int tok;
    int32_t out[NB];
    if (!rc) rc = vox_decoder_step(d[0], e1, P, &tok); /* warm-up: weights paged in */
    enum { M = 9 };
    const char *what[M] = {"step",    "forward", "forward", "forward", "forward",
                           "streams", "streams", "streams", "streams"};
    int rowsof[M] = {1, 2, 4, 8, 16, 2, 4, 8, 16};
    double *ms = calloc((size_t)M * reps, sizeof(double)), *cpu = calloc((size_t)M * reps, sizeof(double));
    for (int rep = 0; !rc && rep < reps; rep++)
        for (int k = 0; !rc && k < M; k++) {
            double t = vox_now_ms(), c0 = cpu_ms();
            if (k == 0)
                rc = vox_decoder_step(d[0], e1, P, &tok);
            else if (k < 5)
                rc = vox_decoder_forward(d[0], e1, P, rowsof[k], m->tok.streaming_pad, out);
            else
                rc = vox_decoder_step_rows(&scratch, d, ep, pos, rowsof[k], out);
            ms[k * reps + rep] = vox_now_ms() - t;
            cpu[k * reps + rep] = cpu_ms() - c0;
        }
    if (rc) {
        fprintf(stderr, "rowbench: error: %s\n", be->err.msg[0] ? be->err.msg : err.msg);
        return 1;
    }
    for (int k = 0; k < M; k++) {
        double *v = ms + (size_t)k * reps, *c = cpu + (size_t)k * reps;
        double med = median(v, reps), cmed = median(c, reps);
        printf("{\"what\":\"%s\",\"rows\":%d,\"reps\":%d,\"ms_median\":%.1f,\"ms_min\":%.1f,\"ms_max\":%.1f,"
               "\"ms_per_row\":%.1f,\"cpu_ms_median\":%.1f,\"cpu_ms_min\":%.1f,\"cpu_ms_max\":%.1f}\n",
               what[k], rowsof[k], reps, med, v[0], v[reps - 1], med / rowsof[k], cmed, c[0], c[reps - 1]);
    }
    for (int i = 0; i < NB; i++) vox_decoder_free(d[i]);
    vox_dec_bufs_free(&scratch, m);
    o->free(be, emb);
    free(h);
    free(ms);
    free(cpu);
    vox_model_free(m);
    vox_backend_destroy(be);
    return 0;
}

/* Sorts v; the median. */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
