/* cpu_attention.c — the CPU backend's KV rings and causal sliding-window attention (GQA).
 * Position p lives in slot p % capacity; k and v rows are [n_kv_heads*head_dim] f32. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_impl.h"
#include "cpu_kernels.h"

vox_kv_t *vox_cpu_kv_new(vox_backend_t *be, int capacity, int n_kv_heads, int head_dim) {
    vox_kv_t *kv = calloc(1, sizeof *kv);
    size_t n = (size_t)capacity * n_kv_heads * head_dim;
    /* calloc: pages of slots never written are never touched, so RSS follows what is used. */
    if (kv) { kv->k = calloc(n, sizeof(float)); kv->v = calloc(n, sizeof(float)); }
    if (!kv || !kv->k || !kv->v) {
        if (kv) { free(kv->k); free(kv->v); free(kv); }
        vox_fail(&be->err, VOX_ENOMEM, "out of host memory for a KV cache of %d positions. Use a machine with more RAM", capacity);
        return NULL;
    }
    kv->cap = capacity;
    kv->n_kv_heads = n_kv_heads;
    kv->head_dim = head_dim;
    kv->width = n_kv_heads * head_dim;
    return kv;
}
void vox_cpu_kv_free(vox_backend_t *be, vox_kv_t *kv) {
    (void)be;
    if (!kv) return;
    free(kv->k);
    free(kv->v);
    free(kv);
}

int vox_cpu_kv_write(vox_backend_t *be, vox_kv_t *kv, const float *k, const float *v, int n) {
    cpu_t *c = vox_cpu(be);
    for (int i = 0; i < n; i++) {
        size_t slot = (size_t)((c->pos0 + i) % kv->cap);
        memcpy(kv->k + slot * kv->width, k + (size_t)i * kv->width, (size_t)kv->width * sizeof(float));
        memcpy(kv->v + slot * kv->width, v + (size_t)i * kv->width, (size_t)kv->width * sizeof(float));
    }
    return 0;
}

/* Work item = (query head h, block of up to ATT_ROWS query rows), or for a single position
 * (decode) the query heads of one kv head. The keys the block can see, positions lo..Pn, sit in
 * the ring as at most two contiguous runs of slots; for each run
 *   S[rows, run] = scale · Q_h[rows, hd] · K_run[run, hd]ᵀ            (cblas_sgemm)
 * then per row a max-subtracted softmax over exactly its window (others set to 0), and
 *   O_h[rows, hd] (+)= S[rows, run] · V_run[run, hd]                   (cblas_sgemm). */
#define ATT_ROWS 64

typedef struct {
    cpu_t *c;
    float *out;
    const float *q;
    const vox_kv_t *kv;
    int n, n_heads, window;
} att_job;

/* Positions lo..hi as runs of ring slots: returns the count (1 or 2), first slots and lengths. */
static int ring_runs(const vox_kv_t *kv, int64_t lo, int64_t hi, int slot[2], int len[2]) {
    int64_t span = hi - lo + 1, s0 = lo % kv->cap, first = kv->cap - s0 < span ? kv->cap - s0 : span;
    slot[0] = (int)s0;
    len[0] = (int)first;
    slot[1] = 0;
    len[1] = (int)(span - first);
    return len[1] > 0 ? 2 : 1;
}

/* M query rows Q[M, hd] (row stride ldq) against kv head g; row m is at position
 * P0 + m / per_pos. Writes O[M, hd] (row stride ldq). S is [M, span] scratch. */
static void att_block(const att_job *j, float *S, const float *Q, float *O, int ldq, int M, int per_pos,
                      int64_t P0, int g) {
    const vox_kv_t *kv = j->kv;
    int hd = kv->head_dim;
    int64_t Pn = P0 + (M - 1) / per_pos, lo = P0 - j->window + 1 < 0 ? 0 : P0 - j->window + 1;
    int span = (int)(Pn - lo + 1), slot[2], len[2], runs = ring_runs(kv, lo, Pn, slot, len);
    size_t koff = (size_t)g * hd;
    for (int r = 0, col = 0; r < runs; col += len[r], r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, len[r], hd, 1.0f / sqrtf((float)hd), Q, ldq,
                    kv->k + (size_t)slot[r] * kv->width + koff, kv->width, 0.0f, S + col, span);
    for (int m = 0; m < M; m++) {
        int64_t P = P0 + m / per_pos, first = P - j->window + 1 < lo ? lo : P - j->window + 1;
        int a = (int)(first - lo), b = (int)(P - lo);   /* this row's window: S[m, a..b] */
        float *sr = S + (size_t)m * span, mx = -INFINITY;
        for (int k = a; k <= b; k++) if (sr[k] > mx) mx = sr[k];
        float inv = (float)(1.0 / vox_cpu_exp_sum(j->c->avx2, sr + a, b - a + 1, mx));
        for (int k = a; k <= b; k++) sr[k] *= inv;
        for (int k = 0; k < a; k++) sr[k] = 0.0f;
        for (int k = b + 1; k < span; k++) sr[k] = 0.0f;
    }
    for (int r = 0, col = 0; r < runs; col += len[r], r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, hd, len[r], 1.0f, S + col, span,
                    kv->v + (size_t)slot[r] * kv->width + koff, kv->width, r ? 1.0f : 0.0f, O, ldq);
}

static void att_worker(void *arg, int t, int nt) {
    att_job *j = arg;
    int hd = j->kv->head_dim, group = j->n_heads / j->kv->n_kv_heads, ldq = j->n_heads * hd;
    if (j->n == 1) {
        /* One position (the decode step): the group's query heads are contiguous rows [group, hd],
         * so each kv head's K/V is read once for all of them. */
        for (int g = t; g < j->kv->n_kv_heads; g += nt)
            att_block(j, j->c->scores[t], j->q + (size_t)g * group * hd, j->out + (size_t)g * group * hd, hd,
                      group, group, j->c->pos0, g);
        return;
    }
    int n_blocks = (j->n + ATT_ROWS - 1) / ATT_ROWS;
    for (int item = t; item < n_blocks * j->n_heads; item += nt) {
        int h = item % j->n_heads, i0 = (item / j->n_heads) * ATT_ROWS;
        int rows = j->n - i0 < ATT_ROWS ? j->n - i0 : ATT_ROWS;
        size_t off = (size_t)i0 * ldq + (size_t)h * hd;
        att_block(j, j->c->scores[t], j->q + off, j->out + off, ldq, rows, 1, j->c->pos0 + i0, h / group);
    }
}

int vox_cpu_attention(vox_backend_t *be, float *out, const float *q, const vox_kv_t *kv, int n,
                         int n_heads, int window) {
    cpu_t *c = vox_cpu(be);
    if (n <= 0) return 0;
    if (window + n - 1 > kv->cap || n_heads % kv->n_kv_heads != 0)
        return vox_fail(&be->err, VOX_EINTERNAL, "attention: %d rows, %d heads, window %d over a ring of %d slots and %d kv heads. This is a bug; please report it", n, n_heads, window, kv->cap, kv->n_kv_heads);
    size_t group = (size_t)(n_heads / kv->n_kv_heads);
    size_t rows = (size_t)(n < ATT_ROWS ? n : ATT_ROWS), need = rows * ((size_t)window + rows - 1);
    if (n == 1) need = group * (size_t)window;
    if (need > c->scores_n) {
        for (int t = 0; t < c->n_threads; t++) {
            free(c->scores[t]);
            c->scores[t] = malloc(need * sizeof(float));
            if (!c->scores[t]) { c->scores_n = 0; return vox_fail(&be->err, VOX_ENOMEM, "out of host memory for attention scores. Use a machine with more RAM"); }
        }
        c->scores_n = need;
    }
    att_job j = {c, out, q, kv, n, n_heads, window};
    double t0 = be->debug ? vox_now_ms() : 0.0;
    vox_pool_run(c->pool, att_worker, &j);
    if (be->debug) c->ms_attention += vox_now_ms() - t0;
    return 0;
}
