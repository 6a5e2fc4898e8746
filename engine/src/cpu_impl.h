/* cpu_impl.h — private to the CPU backend (backend_cpu.c, cpu_attention.c): its weight, KV
 * cache and state types. */
#ifndef VOX_CPU_IMPL_H
#define VOX_CPU_IMPL_H
#include "backend.h"
#include "cpu_pool.h"

#define MAX_THREADS 256

struct vox_bweight {
    vox_dtype dt;   /* VOX_DT_BF16 (data in the mapping) or VOX_DT_F32 */
    int rows, cols; /* [rows, cols]; 1-D tensors are [n, 1] */
    const void *data;
    void *owned; /* non-NULL when data was converted/copied at upload */
};

/* The ring holds `cap` positions but allocates its slots in blocks of KV_BLOCK as positions
 * arrive (slot p % cap, so before the first wrap slot p is position p): a short stream costs
 * what it holds, a long one the whole ring. */
#define KV_BLOCK 256
struct vox_kv {
    int cap, n_kv_heads, head_dim, width; /* ring slots; width = n_kv_heads*head_dim */
    int alloc;                            /* slots allocated so far (<= cap) */
    float *k, *v;                         /* [alloc, width] each */
};

typedef struct {
    vox_pool_t *pool;
    int n_threads, avx2;
    int64_t pos0;
    /* set_rows: each row's position (-1: padding), its stream's rings and ada scales by layer */
    int64_t rows_pos[VOX_MAX_ROWS];
    vox_kv_t *const *rows_rings[VOX_MAX_ROWS];
    const float *const *rows_ada[VOX_MAX_ROWS];
    int n_rows, rows_layers;
    float *tile[MAX_THREADS]; /* per-thread f32 weight tile scratch */
    size_t tile_n;
    float *scores[MAX_THREADS]; /* per-thread attention scores scratch */
    size_t scores_n;
    char name[160];
    double ms_gemv, ms_tiles, ms_attention; /* --debug: time per op family, printed at destroy */
} cpu_t;

static inline cpu_t *vox_cpu(vox_backend_t *be) { return (cpu_t *)be->impl; }

/* cpu_attention.c */
vox_kv_t *vox_cpu_kv_new(vox_backend_t *be, int capacity, int room, int n_kv_heads, int head_dim);
void vox_cpu_kv_free(vox_backend_t *be, vox_kv_t *kv);
int vox_cpu_kv_write(vox_backend_t *be, vox_kv_t *kv, const float *k, const float *v, int n);
int vox_cpu_attention(vox_backend_t *be, float *out, const float *q, const vox_kv_t *kv, int n, int n_heads,
                      int window);
/* The ring of the first real row of the row table in this layer (its widths are every row's), or NULL. */
const vox_kv_t *vox_cpu_rows_ring(vox_backend_t *be, int layer);
int vox_cpu_kv_write_rows(vox_backend_t *be, int layer, const float *k, const float *v, int n);
int vox_cpu_attention_rows(vox_backend_t *be, int layer, float *out, const float *q, int n, int n_heads, int window);
size_t vox_cpu_kv_bytes(vox_backend_t *be, const vox_kv_t *kv);
#endif
