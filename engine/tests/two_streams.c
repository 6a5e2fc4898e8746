/* two_streams.c — two transcriptions at once in one process, each on its own backend (CUDA by
 * default: own stream, cuBLASLt handle, buffers; same device, shared primary context), in two threads.
 * Thread A feeds the audio in chunks of 1280 samples, thread B in chunks of 4099 samples.
 * Prints one JSON line per stream {"stream": i, "tokens": [...]} and exits 0 when both
 * finished and produced identical tokens (streaming == offline makes them equal), 1 otherwise.
 *
 *   build/two_streams MODEL_DIR AUDIO.wav DELAY_MS [cuda|cpu]   (make -C engine cuda two_streams) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "backend.h"
#include "model.h"
#include "stream.h"

typedef struct {
    const char *dir;
    const float *x;
    size_t n;
    const char *backend;
    int delay_ms;
    size_t chunk;
    int32_t *tokens;
    size_t n_tokens;
    vox_error_t err;
    int rc;
} job_t;

static void on_token(void *user, int token, int64_t pos) {
    (void)user;
    (void)token;
    (void)pos;
}

static void *run(void *arg) {
    job_t *j = arg;
    vox_backend_opts bo = {j->backend, 0, 0, 0};
    vox_backend_t *be = NULL;
    vox_model_t *m = NULL;
    vox_stream_t *s = NULL;
    j->rc = vox_backend_create(&bo, &be, &j->err);
    if (!j->rc) j->rc = vox_model_load(j->dir, be, &m, &j->err);
    vox_stream_opts so = {.delay_ms = j->delay_ms}; /* tokens kept: they are compared */
    if (!j->rc) j->rc = vox_stream_new(m, &so, on_token, NULL, &s, &j->err);
    for (size_t off = 0; !j->rc && off < j->n; off += j->chunk)
        j->rc = vox_stream_feed(s, j->x + off, j->n - off < j->chunk ? j->n - off : j->chunk, &j->err);
    if (!j->rc) j->rc = vox_stream_flush(s, &j->err);
    if (!j->rc) {
        vox_stream_result r;
        vox_stream_result_get(s, &r);
        j->tokens = malloc((r.n_tokens + 1) * sizeof *j->tokens);
        memcpy(j->tokens, r.tokens, r.n_tokens * sizeof *j->tokens);
        j->n_tokens = r.n_tokens;
    }
    if (s) vox_stream_free(s);
    if (m) vox_model_free(m);
    if (be) vox_backend_destroy(be);
    return NULL;
}

int main(int argc, char **argv) {
    const char *backend = argc == 5 ? argv[4] : "cuda";
    if ((argc != 4 && argc != 5) || (strcmp(backend, "cuda") != 0 && strcmp(backend, "cpu") != 0)) {
        fprintf(stderr, "usage: two_streams MODEL_DIR AUDIO.wav DELAY_MS [cuda|cpu]\n");
        return 2;
    }
    vox_error_t err = {0, ""};
    float *x;
    size_t n;
    if (vox_audio_load_file(argv[2], &x, &n, &err)) {
        fprintf(stderr, "two_streams: %s\n", err.msg);
        return 2;
    }
    job_t jobs[2] = {{argv[1], x, n, backend, atoi(argv[3]), 1280, NULL, 0, {0, ""}, 0},
                     {argv[1], x, n, backend, atoi(argv[3]), 4099, NULL, 0, {0, ""}, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, run, &jobs[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        if (jobs[i].rc) {
            fprintf(stderr, "two_streams: stream %d: %s\n", i, jobs[i].err.msg);
            ok = 0;
            continue;
        }
        printf("{\"stream\": %d, \"tokens\": [", i);
        for (size_t k = 0; k < jobs[i].n_tokens; k++) printf("%s%d", k ? "," : "", jobs[i].tokens[k]);
        printf("]}\n");
    }
    if (ok && (jobs[0].n_tokens != jobs[1].n_tokens ||
               memcmp(jobs[0].tokens, jobs[1].tokens, jobs[0].n_tokens * sizeof(int32_t)) != 0)) {
        fprintf(stderr, "two_streams: the two streams produced different tokens\n");
        ok = 0;
    }
    free(jobs[0].tokens);
    free(jobs[1].tokens);
    free(x);
    return ok ? 0 : 1;
}
