/* batch_streams.c — several streams of one model decoded together with vox_streams_step (the
 * batched decoder step), joining and leaving at different times; the test harness of
 * engine/tests/batch.test.ts.
 *
 *   build/batch_streams -d MODEL_DIR [--backend cpu|cuda|auto] [--rows N] STREAM...
 *   STREAM = wav=PATH,len=SAMPLES,delay=MS,start=TICK,chunk=SAMPLES[,off=SAMPLES][,close=TOKENS]
 *
 * A clock ticks; at each tick every stream whose start tick has come (it is opened then, with
 * vox_stream_opts.defer) is fed its next chunk of samples [off, off+len) of its WAV (flushed after
 * the last), then one vox_streams_step decides one ready position of every open stream. A stream
 * with close=K is freed without flushing once it has K tokens (a client that goes away); a stream
 * whose feed, flush or token fails is freed with its error. The run ends when every stream is
 * done (flushed, nothing pending), closed or failed. Prints one JSON line per stream,
 *   {"stream":i,"status":"done|closed|error","tokens":[...],"error":"...","kv_mb":X}
 * then {"forwards":F,"widest":W,"enc_passes":P,"enc_widest":E,"enc_quota_held":H,"prefills":R,
 *       "prefill_widest":Q,"ticks":T}
 * (vox_batch_stats). Exit 0, or 2 for a bad command line / model. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "backend.h"
#include "batch.h"
#include "model.h"
#include "stream.h"

typedef struct {
    const char *wav;
    long off, len, delay, start, chunk, close;
    float *x;
    size_t n, fed;
    vox_stream_t *s;
    int state; /* 0 waiting, 1 open, 2 flushed, 3 done, 4 closed, 5 error */
    int32_t *tokens;
    size_t n_tokens;
    double kv_mb;
    vox_error_t err;
} job_t;

static const char *STATE[] = {"waiting", "open", "flushed", "done", "closed", "error"};

static int parse_stream(char *spec, job_t *j) {
    memset(j, 0, sizeof *j);
    j->chunk = 1280;
    j->len = -1;
    j->delay = 480;
    for (char *tok = strtok(spec, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq) return -1;
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        if (!strcmp(k, "wav"))
            j->wav = v;
        else if (!strcmp(k, "off"))
            j->off = atol(v);
        else if (!strcmp(k, "len"))
            j->len = atol(v);
        else if (!strcmp(k, "delay"))
            j->delay = atol(v);
        else if (!strcmp(k, "start"))
            j->start = atol(v);
        else if (!strcmp(k, "chunk"))
            j->chunk = atol(v);
        else if (!strcmp(k, "close"))
            j->close = atol(v);
        else
            return -1;
    }
    return j->wav && j->chunk > 0 ? 0 : -1;
}

/* Copy the stream's tokens and memory before it goes. */
static void finish(job_t *j, int state) {
    vox_stream_result r;
    vox_stream_result_get(j->s, &r);
    j->tokens = malloc((r.n_tokens + 1) * sizeof *j->tokens);
    if (j->tokens && r.n_tokens) memcpy(j->tokens, r.tokens, r.n_tokens * sizeof *j->tokens);
    j->n_tokens = j->tokens ? r.n_tokens : 0;
    j->kv_mb = (double)r.kv_bytes / (1024.0 * 1024.0);
    vox_stream_free(j->s);
    j->s = NULL;
    j->state = state;
}

int main(int argc, char **argv) {
    const char *dir = NULL, *backend = "cpu";
    int rows = 0, n = 0;
    job_t *jobs = calloc((size_t)argc, sizeof *jobs);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-d") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            backend = argv[++i];
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = atoi(argv[++i]);
        else if (parse_stream(argv[i], &jobs[n++]) != 0) {
            fprintf(stderr,
                    "batch_streams: error: bad stream '%s'. See the usage at the top of tests/batch_streams.c\n",
                    argv[i]);
            return 2;
        }
    }
    if (!dir || n == 0) {
        fprintf(stderr, "batch_streams: error: no model or no stream. Pass -d MODEL_DIR and at least one STREAM\n");
        return 2;
    }
    vox_error_t err = {0, ""};
    vox_backend_opts bo = {backend, 0, 0, 0};
    vox_backend_t *be = NULL;
    vox_model_t *m = NULL;
    vox_batch_t *b = NULL;
    int rc = vox_backend_create(&bo, &be, &err);
    if (!rc) rc = vox_model_load(dir, be, &m, &err);
    if (!rc) rc = vox_batch_new(m, rows, &b, &err);
    for (int i = 0; !rc && i < n; i++) {
        job_t *j = &jobs[i];
        float *x;
        size_t nx;
        rc = vox_audio_load_file(j->wav, &x, &nx, &err);
        if (rc) break;
        size_t off = (size_t)j->off < nx ? (size_t)j->off : nx;
        size_t len = j->len < 0 || off + (size_t)j->len > nx ? nx - off : (size_t)j->len;
        j->x = malloc((len + 1) * sizeof(float));
        memcpy(j->x, x + off, len * sizeof(float));
        j->n = len;
        free(x);
    }
    if (rc) {
        fprintf(stderr, "batch_streams: error: %s\n", err.msg);
        return 2;
    }
    vox_stream_t **open = calloc((size_t)n, sizeof *open);
    int *who = calloc((size_t)n, sizeof *who), *status = calloc((size_t)n, sizeof *status);
    vox_error_t *errs = calloc((size_t)n, sizeof *errs);
    long tick = 0;
    for (;; tick++) {
        int live = 0;
        for (int i = 0; i < n; i++) {
            job_t *j = &jobs[i];
            if (j->state == 0 && tick >= j->start) {
                vox_stream_opts so = {.delay_ms = (int)j->delay, .speculate = 1, .defer = 1};
                int r = vox_stream_new(m, &so, NULL, NULL, &j->s, &j->err);
                j->state = r ? 5 : 1;
            }
            if (j->state == 1) {
                size_t k = j->n - j->fed < (size_t)j->chunk ? j->n - j->fed : (size_t)j->chunk;
                int r = k ? vox_stream_feed(j->s, j->x + j->fed, k, &j->err) : 0;
                j->fed += k;
                if (!r && j->fed == j->n) {
                    r = vox_stream_flush(j->s, &j->err);
                    j->state = 2;
                }
                if (r) finish(j, 5);
            }
            if (j->state == 1 || j->state == 2) live++;
            if (j->state == 0) live++;
        }
        if (!live) break;
        int k = 0;
        for (int i = 0; i < n; i++)
            if (jobs[i].state == 1 || jobs[i].state == 2) {
                who[k] = i;
                open[k++] = jobs[i].s;
            }
        if (vox_streams_step(b, open, k, status, errs, NULL, &err)) {
            fprintf(stderr, "batch_streams: error: %s\n", err.msg);
            return 1;
        }
        for (int q = 0; q < k; q++) {
            job_t *j = &jobs[who[q]];
            vox_stream_result r;
            vox_stream_result_get(j->s, &r);
            if (status[q]) {
                j->err = errs[q];
                finish(j, 5);
            } else if (j->close > 0 && r.n_tokens >= (size_t)j->close)
                finish(j, 4);
            else if (j->state == 2 && vox_stream_pending(j->s) == 0)
                finish(j, 3);
        }
    }
    for (int i = 0; i < n; i++) {
        job_t *j = &jobs[i];
        printf("{\"stream\":%d,\"status\":\"%s\",\"tokens\":[", i, STATE[j->state]);
        for (size_t t = 0; t < j->n_tokens; t++) printf("%s%d", t ? "," : "", j->tokens[t]);
        printf("],\"error\":\"");
        for (const char *c = j->err.msg; *c; c++)
            if (*c != '"' && *c != '\\') putchar(*c);
        printf("\",\"kv_mb\":%.4f}\n", j->kv_mb);
        free(j->tokens);
        free(j->x);
    }
    vox_batch_stats st;
    vox_batch_stats_get(b, &st);
    printf("{\"forwards\":%zu,\"widest\":%d,\"enc_passes\":%zu,\"enc_widest\":%d,\"enc_quota_held\":%zu,"
           "\"prefills\":%zu,\"prefill_widest\":%d,\"ticks\":%ld}\n",
           st.forwards, st.widest, st.enc_passes, st.enc_widest, st.enc_quota_held, st.prefills, st.prefill_widest,
           tick);
    free(open);
    free(who);
    free(status);
    free(errs);
    free(jobs);
    vox_batch_free(b);
    vox_model_free(m);
    vox_backend_destroy(be);
    return 0;
}
