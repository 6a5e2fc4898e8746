/* cpu_attention.c — the CPU backend's KV rings and causal sliding-window attention (GQA).
 * Position p lives in slot p % capacity; k and v rows are [n_kv_heads*head_dim] f32. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_impl.h"
#include "cpu_kernels.h"

vox_kv_t *vox_cpu_kv_new(vox_backend_t *be, int capacity, int room, int n_kv_heads, int head_dim) {
    (void)room; /* the CPU ring grows by itself, in blocks, as positions are written */
    vox_kv_t *kv = calloc(1, sizeof *kv);
    if (!kv) {
        vox_fail(&be->err, VOX_ENOMEM, "out of host memory for a KV cache of %d positions. Use a machine with more RAM",
                 capacity);
        return NULL;
    }
    kv->cap = capacity;
    kv->n_kv_heads = n_kv_heads;
    kv->head_dim = head_dim;
    kv->width = n_kv_heads * head_dim;
    return kv; /* slots come with the positions (kv_reserve) */
}
void vox_cpu_kv_free(vox_backend_t *be, vox_kv_t *kv) {
    (void)be;
    if (!kv) return;
    free(kv->k);
    free(kv->v);
    free(kv);
}

size_t vox_cpu_kv_bytes(vox_backend_t *be, const vox_kv_t *kv) {
    (void)be;
    return (size_t)kv->alloc * (size_t)kv->width * sizeof(float) * 2;
}

/* Make slot `slot` exist: grow the allocation to the next multiple of KV_BLOCK slots (<= cap). */
static int kv_reserve(vox_backend_t *be, vox_kv_t *kv, int slot) {
    if (slot < kv->alloc) return 0;
    int want = (slot / KV_BLOCK + 1) * KV_BLOCK;
    if (want > kv->cap) want = kv->cap;
    size_t n = (size_t)want * kv->width;
    float *k = realloc(kv->k, n * sizeof(float));
    if (k) kv->k = k;
    float *v = k ? realloc(kv->v, n * sizeof(float)) : NULL;
    if (!k || !v)
        return vox_fail(&be->err, VOX_ENOMEM,
                        "out of host memory growing a KV cache to %d positions. Use a machine with more RAM", want);
    kv->v = v;
    kv->alloc = want;
    return 0;
}

static int kv_put(vox_backend_t *be, vox_kv_t *kv, int64_t pos, const float *k, const float *v) {
    int slot = (int)(pos % kv->cap);
    int rc = kv_reserve(be, kv, slot);
    if (rc) return rc;
    memcpy(kv->k + (size_t)slot * kv->width, k, (size_t)kv->width * sizeof(float));
    memcpy(kv->v + (size_t)slot * kv->width, v, (size_t)kv->width * sizeof(float));
    return 0;
}

int vox_cpu_kv_write(vox_backend_t *be, vox_kv_t *kv, const float *k, const float *v, int n) {
    cpu_t *c = vox_cpu(be);
    for (int i = 0; i < n; i++) {
        int rc = kv_put(be, kv, c->pos0 + i, k + (size_t)i * kv->width, v + (size_t)i * kv->width);
        if (rc) return rc;
    }
    return 0;
}

const vox_kv_t *vox_cpu_rows_ring(vox_backend_t *be, int layer) {
    cpu_t *c = vox_cpu(be);
    if (layer < 0 || layer >= c->rows_layers) return NULL;
    for (int i = 0; i < c->n_rows; i++)
        if (c->rows_pos[i] >= 0) return c->rows_rings[i][layer];
    return NULL;
}

int vox_cpu_kv_write_rows(vox_backend_t *be, int layer, const float *k, const float *v, int n) {
    cpu_t *c = vox_cpu(be);
    if (n != c->n_rows || layer < 0 || layer >= c->rows_layers)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "kv_write_rows: %d rows, layer %d, but set_rows gave %d rows of %d layers. This is a bug; "
                        "please report it",
                        n, layer, c->n_rows, c->rows_layers);
    for (int i = 0; i < n; i++) {
        if (c->rows_pos[i] < 0) continue; /* padding */
        vox_kv_t *kv = c->rows_rings[i][layer];
        int rc = kv_put(be, kv, c->rows_pos[i], k + (size_t)i * kv->width, v + (size_t)i * kv->width);
        if (rc) return rc;
    }
    return 0;
}

/* Work item = (query head h, block of up to ATT_ROWS query rows), or, for n <= VOX_MAX_SPEC
 * rows (decode steps, speculation blocks) and for the row table's rows at any n (several streams,
 * shared prefills), one (row, kv head): the row's query
 * heads of that kv head against its own window, exactly as a single position is computed. The keys the block can see, positions lo..Pn, sit in
 * the ring as at most two contiguous runs of slots; for each run
 *   S[rows, run] = scale · Q_h[rows, hd] · K_run[run, hd]ᵀ            (cblas_sgemm)
 * then per row a max-subtracted softmax over exactly its window (others set to 0), and
 *   O_h[rows, hd] (+)= S[rows, run] · V_run[run, hd]                   (cblas_sgemm). */
#define ATT_ROWS 64

typedef struct {
    cpu_t *c;
    float *out;
    const float *q;
    const vox_kv_t *kv; /* every row's ring, or NULL: kvs[i] (NULL for a padding row) */
    vox_kv_t *const *kvs;
    const vox_kv_t *kv0; /* a ring with every row's widths */
    const int64_t *pos;  /* per-row positions (negative: padding), or NULL: c->pos0 + i */
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
static void att_block(const att_job *j, const vox_kv_t *kv, float *S, const float *Q, float *O, int ldq, int M,
                      int per_pos, int64_t P0, int g) {
    int hd = kv->head_dim;
    int64_t Pn = P0 + (M - 1) / per_pos, lo = P0 - j->window + 1 < 0 ? 0 : P0 - j->window + 1;
    int span = (int)(Pn - lo + 1), slot[2], len[2], runs = ring_runs(kv, lo, Pn, slot, len);
    size_t koff = (size_t)g * hd;
    for (int r = 0, col = 0; r < runs; col += len[r], r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, len[r], hd, 1.0f / sqrtf((float)hd), Q, ldq,
                    kv->k + (size_t)slot[r] * kv->width + koff, kv->width, 0.0f, S + col, span);
    for (int m = 0; m < M; m++) {
        int64_t P = P0 + m / per_pos, first = P - j->window + 1 < lo ? lo : P - j->window + 1;
        int a = (int)(first - lo), b = (int)(P - lo); /* this row's window: S[m, a..b] */
        float *sr = S + (size_t)m * span, mx = -INFINITY;
        for (int k = a; k <= b; k++)
            if (sr[k] > mx) mx = sr[k];
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
    const vox_kv_t *kv0 = j->kv0;
    int hd = kv0->head_dim, kvh = kv0->n_kv_heads, group = j->n_heads / kvh, ldq = j->n_heads * hd;
    if (j->n <= VOX_MAX_SPEC || j->kvs) {
        /* Row by row (always for the row table's rows, each over its own ring): the group's query
         * heads of a row are contiguous [group, hd], so each kv head's K/V is read once for all of them. */
        for (int item = t; item < j->n * kvh; item += nt) {
            int i = item / kvh, g = item % kvh;
            size_t off = (size_t)i * ldq + (size_t)g * group * hd;
            if (j->pos && j->pos[i] < 0) { /* padding: zero */
                for (int r = 0; r < group; r++) memset(j->out + off + (size_t)r * hd, 0, (size_t)hd * sizeof(float));
                continue;
            }
            att_block(j, j->kv ? j->kv : j->kvs[i], j->c->scores[t], j->q + off, j->out + off, hd, group, group,
                      j->pos ? j->pos[i] : j->c->pos0 + i, g);
        }
        return;
    }
    int n_blocks = (j->n + ATT_ROWS - 1) / ATT_ROWS;
    for (int item = t; item < n_blocks * j->n_heads; item += nt) {
        int h = item % j->n_heads, i0 = (item / j->n_heads) * ATT_ROWS;
        int rows = j->n - i0 < ATT_ROWS ? j->n - i0 : ATT_ROWS;
        size_t off = (size_t)i0 * ldq + (size_t)h * hd;
        att_block(j, j->kv, j->c->scores[t], j->q + off, j->out + off, ldq, rows, 1, j->c->pos0 + i0, h / group);
    }
}

/* Scores scratch for n rows of a window (per thread). */
static int scores_reserve(vox_backend_t *be, int n, size_t group, int window, int by_row) {
    cpu_t *c = vox_cpu(be);
    size_t rows = (size_t)(n < ATT_ROWS ? n : ATT_ROWS), need = rows * ((size_t)window + rows - 1);
    if (n <= VOX_MAX_SPEC || by_row) need = group * (size_t)window;
    if (need > c->scores_n) {
        for (int t = 0; t < c->n_threads; t++) {
            free(c->scores[t]);
            c->scores[t] = malloc(need * sizeof(float));
            if (!c->scores[t]) {
                c->scores_n = 0;
                return vox_fail(&be->err, VOX_ENOMEM,
                                "out of host memory for attention scores. Use a machine with more RAM");
            }
        }
        c->scores_n = need;
    }
    return 0;
}

static void att_run(vox_backend_t *be, att_job *j) {
    cpu_t *c = vox_cpu(be);
    double t0 = be->debug ? vox_now_ms() : 0.0;
    vox_pool_run(c->pool, att_worker, j);
    if (be->debug) c->ms_attention += vox_now_ms() - t0;
}

int vox_cpu_attention(vox_backend_t *be, float *out, const float *q, const vox_kv_t *kv, int n, int n_heads,
                      int window) {
    cpu_t *c = vox_cpu(be);
    if (n <= 0) return 0;
    if (window + n - 1 > kv->cap || n_heads % kv->n_kv_heads != 0)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "attention: %d rows, %d heads, window %d over a ring of %d slots and %d kv heads. This is a "
                        "bug; please report it",
                        n, n_heads, window, kv->cap, kv->n_kv_heads);
    int rc = scores_reserve(be, n, (size_t)(n_heads / kv->n_kv_heads), window, 0);
    if (rc) return rc;
    att_job j = {c, out, q, kv, NULL, kv, NULL, n, n_heads, window};
    att_run(be, &j);
    return 0;
}

int vox_cpu_attention_rows(vox_backend_t *be, int layer, float *out, const float *q, int n, int n_heads, int window) {
    cpu_t *c = vox_cpu(be);
    if (n != c->n_rows || layer < 0 || layer >= c->rows_layers)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "attention_rows: %d rows, layer %d, but set_rows gave %d rows of %d layers. This is a bug; "
                        "please report it",
                        n, layer, c->n_rows, c->rows_layers);
    vox_kv_t *kv[VOX_MAX_ROWS];
    const vox_kv_t *kv0 = vox_cpu_rows_ring(be, layer);
    for (int i = 0; i < n; i++) {
        kv[i] = c->rows_pos[i] < 0 ? NULL : c->rows_rings[i][layer];
        if (kv[i] && (window > kv[i]->cap || n_heads % kv[i]->n_kv_heads != 0 || kv[i]->head_dim != kv0->head_dim ||
                      kv[i]->n_kv_heads != kv0->n_kv_heads))
            return vox_fail(&be->err, VOX_EINTERNAL,
                            "attention_rows: row %d: %d heads, window %d over a ring of %d slots and %d kv heads. This "
                            "is a bug; please report it",
                            i, n_heads, window, kv[i]->cap, kv[i]->n_kv_heads);
    }
    if (!kv0) /* every row padding: no ring gives the head width */
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "attention_rows: every row is padding. This is a bug; please report it");
    int rc = scores_reserve(be, n, (size_t)(n_heads / kv0->n_kv_heads), window, 1);
    if (rc) return rc;
    att_job j = {c, out, q, NULL, kv, kv0, c->rows_pos, n, n_heads, window};
    att_run(be, &j);
    return 0;
}
