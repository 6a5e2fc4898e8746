/* cpu_pool.c — fork/join pool: workers sleep on a condition variable until the generation
 * counter moves, run their share, and the last one to finish wakes the caller. */
#define _POSIX_C_SOURCE 200809L
#include "cpu_pool.h"

#include <pthread.h>
#include <stdlib.h>

struct vox_pool {
    int n;              /* threads including the caller */
    pthread_t *threads; /* [n-1] workers */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation; /* bumped once per run */
    int pending;              /* workers still running the current job */
    int quit;
    vox_pool_fn fn;
    void *ctx;
};

typedef struct {
    vox_pool_t *p;
    int t;
} worker_arg;

static void *worker(void *arg) {
    worker_arg *a = arg;
    vox_pool_t *p = a->p;
    int t = a->t;
    free(a);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->generation == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        vox_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, t, p->n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

vox_pool_t *vox_pool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    vox_pool_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    if (!p->threads) {
        vox_pool_free(p);
        return NULL;
    }
    for (int t = 1; t < n_threads; t++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) break;
        a->p = p;
        a->t = t;
        if (pthread_create(&p->threads[t - 1], NULL, worker, a) != 0) {
            free(a);
            break;
        }
        p->n++; /* only counts threads that really started */
    }
    return p;
}

int vox_pool_size(const vox_pool_t *p) { return p->n; }

void vox_pool_run(vox_pool_t *p, vox_pool_fn fn, void *ctx) {
    if (p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void vox_pool_free(vox_pool_t *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; t < p->n; t++) pthread_join(p->threads[t - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}
