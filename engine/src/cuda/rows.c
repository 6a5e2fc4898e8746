/* rows.c — the CUDA backend's row-table ops (backend.h: set_rows, rope_rows, kv_write_rows,
 * attention_rows, rmsnorm_rows) and kv_bytes. set_rows writes the table (kernels/rows_args.cuh:
 * every row's position, and per layer its ring and ada scale) into a pinned slot and uploads it to
 * the one device table in stream order; the kernels read it there, so a graph captured over these
 * ops replays with the rows of the set_rows before its launch (serve's encoder passes). Built, and
 * checked by dev/opcheck.c against a CPU reference in double; verified on the H200 (gpu-check:
 * tokens identical to single steps, memcheck/racecheck clean). */
#include <math.h>
#include <string.h>

#include "cuda_impl.h"
#include "../../kernels/rows_args.cuh"

/* A/B switch (engine/README.md): -DVOX_CUDA_ROW_RUNS=0 gives every row its own attention tiles. */
#ifndef VOX_CUDA_ROW_RUNS
#define VOX_CUDA_ROW_RUNS 1
#endif

/* Bytes of a table of n rows over `layers` layers; where its rings and tiles begin. */
static size_t rings_at(int n) { return (size_t)n * sizeof(long long); }
static size_t tiles_at(int n, int layers) { return rings_at(n) + (size_t)layers * n * sizeof(vox_row_ring); }
static size_t tab_bytes(int n, int layers) { return tiles_at(n, layers) + (size_t)n * sizeof(vox_row_tile); }

void vox_cuda_rows_free(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    vox_cuda_mfree(be, c->rows_tab);
    if (c->rows_stage) c->api.cuMemFreeHost(c->rows_stage);
    for (int i = 0; i < VOX_ROWS_SLOTS; i++)
        if (c->rows_staged[i]) c->api.cuEventDestroy_v2(c->rows_staged[i]);
    c->rows_tab = c->rows_stage = NULL;
    memset(c->rows_staged, 0, sizeof c->rows_staged);
    c->rows_layers_cap = 0;
}

/* The table for `layers` layers: made at the first set_rows for at least 64 layers (the real
 * model's encoder has 32, its decoder 26), so it never moves under a captured graph; a model with
 * more layers makes it again while no graph exists. */
static int tab_reserve(vox_backend_t *be, int layers) {
    vox_cuda_t *c = vox_cuda(be);
    if (layers <= c->rows_layers_cap) return 0;
    if (c->graphs > 0 && c->rows_tab)
        return vox_fail(
            &be->err, VOX_EINTERNAL,
            "set_rows over %d layers after graphs captured the table of %d. This is a bug; please report it", layers,
            c->rows_layers_cap);
    CU_CHECK(be, c->api.cuStreamSynchronize(c->stream)); /* queued work may still read the old table */
    vox_cuda_rows_free(be);
    int cap = layers > 64 ? layers : 64;
    size_t bytes = tab_bytes(VOX_MAX_ROWS, cap);
    if (!(c->rows_tab = vox_cuda_malloc(be, bytes))) return be->err.code;
    CUresult r = c->api.cuMemAllocHost_v2(&c->rows_stage, bytes * VOX_ROWS_SLOTS);
    for (int i = 0; r == CUDA_SUCCESS && i < VOX_ROWS_SLOTS; i++)
        r = c->api.cuEventCreate(&c->rows_staged[i], CU_EVENT_DISABLE_TIMING);
    if (r != CUDA_SUCCESS) {
        vox_cuda_rows_free(be);
        return vox_cuda_fail_cu(be, r, "cuMemAllocHost (the row table's pinned slots)", __FILE__, __LINE__);
    }
    c->rows_layers_cap = cap;
    return 0;
}

int vox_cuda_set_rows(vox_backend_t *be, const int64_t *pos, vox_kv_t *const *const *rings,
                      const float *const *const *ada, int layers, int n) {
    vox_cuda_t *c = vox_cuda(be);
    int rc;
    if (c->capturing)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "set_rows inside a graph capture (the table is uploaded). This is a bug; please report it");
    if (n < 1 || n > VOX_MAX_ROWS || layers < 1)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "set_rows: %d rows (at most %d) over %d layers. This is a bug; please report it", n,
                        VOX_MAX_ROWS, layers);
    if ((rc = tab_reserve(be, layers))) return rc;
    int slot = c->rows_next;
    c->rows_next = (slot + 1) % VOX_ROWS_SLOTS;
    CU_CHECK(be, c->api.cuEventSynchronize(c->rows_staged[slot])); /* its last upload has left */
    char *host = (char *)c->rows_stage + (size_t)slot * tab_bytes(VOX_MAX_ROWS, c->rows_layers_cap);
    long long *tp = (long long *)host;
    vox_row_ring *tr = (vox_row_ring *)(host + rings_at(n));
    vox_row_tile *tt = (vox_row_tile *)(host + tiles_at(n, layers));
    int kvh = 0, hd = 0, full = 0, cap = 0, real = 0, tiles = 0;
    for (int i = 0; i < n; i++) {
        tp[i] = pos[i] < 0 ? -1 : pos[i];
        for (int l = 0; l < layers; l++) {
            vox_row_ring *e = &tr[(size_t)l * n + i];
            memset(e, 0, sizeof *e);
            e->cap = 1;
            if (pos[i] < 0) continue;
            const vox_kv_t *kv = rings[i][l];
            if (!real++) {
                kvh = kv->n_kv_heads;
                hd = kv->head_dim;
                full = kv->full;
                cap = kv->capacity;
            }
            if (kv->n_kv_heads != kvh || kv->head_dim != hd)
                return vox_fail(&be->err, VOX_EINTERNAL,
                                "set_rows: row %d layer %d ring is %d x %d wide, the first %d x %d. This is a bug; "
                                "please report it",
                                i, l, kv->n_kv_heads, kv->head_dim, kvh, hd);
            if (kv->full < full) full = kv->full;
            if (kv->capacity < cap) cap = kv->capacity;
            e->k = kv->k;
            e->v = kv->v;
            e->cap = kv->capacity;
            e->scale = ada && ada[i] ? ada[i][l] : NULL;
        }
        /* row i extends the last tile when it is the next position of the same stream */
        vox_row_tile *last = tiles ? &tt[tiles - 1] : NULL;
        if (last && pos[i] >= 0 && last->n < VOX_ROW_TILE && rings[i] == rings[last->row] &&
            pos[i] == pos[last->row] + last->n)
            last->n++;
        else
            tt[tiles++] = (vox_row_tile){i, 1};
    }
    for (int t = tiles; t < n; t++) tt[t] = (vox_row_tile){0, 0};
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    CU_CHECK(be,
             c->api.cuMemcpyHtoDAsync_v2((CUdeviceptr)(uintptr_t)c->rows_tab, host, tab_bytes(n, layers), c->stream));
    CU_CHECK(be, c->api.cuEventRecord(c->rows_staged[slot], c->stream));
    c->n_rows = n;
    c->rows_layers = layers;
    c->rows_kvh = kvh;
    c->rows_hd = hd;
    c->rows_full = real ? full : 1 << 30;
    c->rows_cap = real ? cap : 1 << 30;
    return 0;
}

/* The device table's positions and, for `layer` (-1: none), its rings; checks n and layer. */
static int tab_of(vox_backend_t *be, const char *op, int n, int layer, const long long **pos,
                  const vox_row_ring **ring) {
    vox_cuda_t *c = vox_cuda(be);
    if (n < 1 || n != c->n_rows || layer >= c->rows_layers)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "%s: %d rows, layer %d, but set_rows gave %d rows of %d layers. This is a bug; please report "
                        "it",
                        op, n, layer, c->n_rows, c->rows_layers);
    *pos = (const long long *)c->rows_tab;
    if (ring) *ring = (const vox_row_ring *)((const char *)c->rows_tab + rings_at(n)) + (size_t)layer * n;
    return 0;
}

int vox_cuda_rope_rows(vox_backend_t *be, float *x, int n, int n_heads, int head_dim, float theta) {
    vox_cuda_t *c = vox_cuda(be);
    const long long *pos;
    int rc;
    if ((rc = tab_of(be, "rope_rows", n, -1, &pos, NULL))) return rc;
    if (head_dim % 2) return vox_fail(&be->err, VOX_EINTERNAL, "rope_rows: odd head_dim %d", head_dim);
    void *args[] = {&x, &pos, &n, &n_heads, &head_dim, &theta};
    return vox_cuda_launch(be, c->k.k_rope_rows, vox_cuda_grid(c, (size_t)n * n_heads * head_dim / 2), 1, 1, 256, args);
}

int vox_cuda_kv_write_rows(vox_backend_t *be, int layer, const float *k, const float *v, int n) {
    vox_cuda_t *c = vox_cuda(be);
    const long long *pos;
    const vox_row_ring *ring;
    int rc;
    if ((rc = tab_of(be, "kv_write_rows", n, layer, &pos, &ring))) return rc;
    int kvd = c->rows_kvh * c->rows_hd;
    void *args[] = {&pos, &ring, &n, &k, &v, &kvd};
    return vox_cuda_launch(be, c->k.k_kv_write_rows, vox_cuda_grid(c, (size_t)n * kvd), 1, 1, 256, args);
}

int vox_cuda_rope_kv_write_rows(vox_backend_t *be, int layer, float *q, float *k, const float *v, int n, int n_heads,
                                float theta) {
    vox_cuda_t *c = vox_cuda(be);
    const long long *pos;
    const vox_row_ring *ring;
    int rc;
    if ((rc = tab_of(be, "rope_kv_write_rows", n, layer, &pos, &ring))) return rc;
    int kvh = c->rows_kvh, hd = c->rows_hd;
    if (!VOX_CUDA_FUSE_ROPE_KV) { /* A/B builds: the three launches */
        if ((rc = vox_cuda_rope_rows(be, q, n, n_heads, hd, theta))) return rc;
        if ((rc = vox_cuda_rope_rows(be, k, n, kvh, hd, theta))) return rc;
        return vox_cuda_kv_write_rows(be, layer, k, v, n);
    }
    if (hd % 2) return vox_fail(&be->err, VOX_EINTERNAL, "rope_kv_write_rows: odd head_dim %d", hd);
    void *args[] = {&q, &k, &v, &pos, &ring, &n, &n_heads, &kvh, &hd, &theta};
    return vox_cuda_launch(be, c->k.k_rope_kv_write_rows, vox_cuda_grid(c, (size_t)n * (n_heads + kvh) * hd / 2), 1, 1,
                           256, args);
}

/* The rows' attention runs the single-step kernel's tiles (attention.cu, vox_attn_rows_*): per row,
 * tiles of 4 of its G query heads per KV head, so each K/V tile is read once for the G heads, and
 * the keys split (flash-decoding) until rows x tiles x KV heads x splits give 4 blocks per SM.
 * Partials go to their own buffer (rows_part), never to the single step's attn_part, whose address
 * captured decode graphs hold. */
int vox_cuda_attention_rows(vox_backend_t *be, int layer, float *out, const float *q, int n, int n_heads, int window) {
    vox_cuda_t *c = vox_cuda(be);
    const long long *pos;
    const vox_row_ring *ring;
    int rc;
    if ((rc = tab_of(be, "attention_rows", n, layer, &pos, &ring))) return rc;
    int kvh = c->rows_kvh, hd = c->rows_hd;
    if (kvh < 1 || n_heads % kvh || hd % 2 || hd > 128 || c->rows_full < window)
        return vox_fail(&be->err, VOX_EINTERNAL,
                        "attention_rows: %d heads over %d KV heads, head_dim %d (needs a multiple, even, <= 128), "
                        "window %d over rings of %d slots. This is a bug; please report it",
                        n_heads, kvh, hd, window, c->rows_full);
    /* one KV head per query head: runs of a stream's consecutive rows share a tile (their keys read
     * once), where the rings hold the run's keys (window + 3 positions); else a row's heads per tile */
    const vox_row_tile *runs = NULL;
    if (n_heads == kvh && VOX_CUDA_ROW_RUNS && c->rows_cap >= window + VOX_ROW_TILE - 1)
        runs = (const vox_row_tile *)((const char *)c->rows_tab + tiles_at(n, c->rows_layers));
    int tiles = runs ? 1 : (n_heads / kvh + 3) / 4;
    int nsplit = vox_cuda_attn_splits((long long)n * tiles * kvh / (runs ? VOX_ROW_TILE : 1), 4LL * c->sm_count,
                                      (window + 63) / 64);
    if (nsplit > 1) {
        size_t need = (size_t)nsplit * n * n_heads * (hd + 2) * sizeof(float);
        rc = vox_cuda_reserve(be, (void **)&c->rows_part, &c->rows_part_cap, need, "attention_rows");
        if (rc) return rc;
    }
    float scale_log2 = (float)(1.4426950408889634 / sqrt((double)hd)); /* log2(e)/sqrt(hd) */
    void *args[] = {&out, &c->rows_part, &q, &pos, &ring, &runs, &n, &n_heads, &kvh, &hd, &window, &scale_log2};
    rc = vox_cuda_launch(be, hd <= 64 ? c->k.k_attn_rows_d64 : c->k.k_attn_rows_d128, (unsigned)(n * tiles),
                         (unsigned)kvh, (unsigned)nsplit, 128, args);
    return rc || nsplit == 1 ? rc : vox_cuda_attn_combine(be, out, c->rows_part, n * n_heads, hd, nsplit);
}

int vox_cuda_rmsnorm_rows(vox_backend_t *be, int layer, float *y, const float *x, const vox_bweight_t *w, int n,
                          int dim, float eps) {
    vox_cuda_t *c = vox_cuda(be);
    const long long *pos;
    const vox_row_ring *ring;
    int rc;
    if ((rc = tab_of(be, "rmsnorm_rows", n, layer, &pos, &ring))) return rc;
    if (!w->is_f32 || w->rows != dim)
        return vox_fail(&be->err, VOX_EINTERNAL, "rmsnorm_rows: weight of %lld values for dim %d", (long long)w->rows,
                        dim);
    void *args[] = {&y, &x, (void *)&w->d, &ring, &dim, &eps};
    return vox_cuda_launch(be, c->k.k_rmsnorm_rows, (unsigned)n, 1, 1, dim >= 1024 ? 512 : 128, args);
}

size_t vox_cuda_kv_bytes(vox_backend_t *be, const vox_kv_t *kv) {
    (void)be;
    return (size_t)kv->capacity * kv->n_kv_heads * kv->head_dim * 2 * 2; /* bf16 K and V, whole ring */
}
