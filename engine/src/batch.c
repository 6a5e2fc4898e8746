/* batch.c — see batch.h. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"

struct vox_batch {
    const vox_model_t *m;
    int rows;         /* streams per forward */
    vox_dec_bufs b;   /* scratch of `rows` rows */
    vox_dec_bufs pre; /* prefill scratch of VOX_MAX_ROWS rows (no LM head), made at the first shared prefill */
    vox_enc_bufs enc; /* encoder scratch of `rows` rows, made at the first encoder pass */
    int *taken;       /* [cap] encoder rows each stream ran in this step (the quota) */
    int cap;
    vox_batch_stats st;
};

int vox_batch_new(const vox_model_t *m, int rows, vox_batch_t **out, vox_error_t *err) {
    *out = NULL;
    vox_backend_t *be = m->be;
    if (rows <= 0 || rows > be->ops->batch_rows) rows = be->ops->batch_rows;
    vox_batch_t *b = calloc(1, sizeof *b);
    if (!b) return vox_fail(err, VOX_ENOMEM, "out of host memory for the stream batch. Use a machine with more RAM");
    b->m = m;
    b->rows = rows;
    int rc = rows > 1 ? vox_dec_bufs_init(&b->b, m, rows, rows) : 0;
    if (rc) {
        free(b);
        return vox_model_error(be, rc, err);
    }
    *out = b;
    return 0;
}

void vox_batch_free(vox_batch_t *b) {
    if (!b) return;
    if (b->rows > 1) vox_dec_bufs_free(&b->b, b->m);
    if (b->pre.rows) vox_dec_bufs_free(&b->pre, b->m);
    if (b->enc.rows) vox_enc_bufs_free(&b->enc, b->m);
    free(b->taken);
    free(b);
}

void vox_batch_stats_get(const vox_batch_t *b, vox_batch_stats *st) { *st = b->st; }

/* Stream i's failure after its encoder rows ran: its status, or the call's error without one. */
static int stream_failed(int i, int rc, const vox_error_t *e, int *status, vox_error_t *errs, vox_error_t *err) {
    if (!status) {
        *err = *e;
        return rc;
    }
    status[i] = rc;
    if (errs) errs[i] = *e;
    return 0;
}

/* A/B switch (engine/README.md): -DVOX_BATCH_ENCODER=0 runs every stream's held rows alone. */
#ifndef VOX_BATCH_ENCODER
#define VOX_BATCH_ENCODER 1
#endif
/* A/B switch (engine/README.md): -DVOX_ENC_QUOTA=0 runs all held rows of every stream in each step. */
#ifndef VOX_ENC_QUOTA
#define VOX_ENC_QUOTA 1
#endif

/* The encoder rows a prefilled stream may run in one step when `holding` streams hold rows: a pass's
 * share, in whole tokens, at least one token. A step decides one position per stream, so rows beyond
 * that only hold back the step's decoder forward: a flush holds its right padding at once (17 tokens,
 * 68 rows, at the default delay), and at 128 streams flushing together all their 34 passes ran before
 * the first padding position was decided; with the quota 2 passes run per step, each stream's next
 * token among them. A pass still fills when few streams hold rows (one stream: a whole pass). */
static int step_quota(const vox_batch_t *b, int holding) {
    int g = b->m->p.downsample_factor, q = b->rows / (holding > 0 ? holding : 1) / g * g;
    return q > g ? q : g;
}

/* Run the encoder rows the streams hold until none holds any it may run in this step. A push of more
 * rows than a pass takes (a stream's first, with its left padding, or a client ahead of real time)
 * runs alone, as offline: one read of the weights for all its rows. The others share passes of up to
 * b->rows rows, one read of the encoder weights for all of them: each pass takes the held rows of the
 * streams in turn, the last one's only as many as fit (its next rows go first in the next pass), a
 * prefilled stream's only up to its quota for the step (step_quota; the rest waits for the next step).
 * A stream whose rows have run goes on with them (adapter, prefill) and, once its push has run, with
 * its next pushes, which may hold rows for the next pass. b->rows == 1 (or -DVOX_BATCH_ENCODER=0):
 * every push alone. */
static int encode_held(vox_batch_t *b, vox_stream_t *const *s, int n, int *status, vox_error_t *errs,
                       vox_error_t *err) {
    vox_backend_t *be = b->m->be;
    int share = b->rows > 1 && VOX_BATCH_ENCODER, quota = 0;
    if (share && VOX_ENC_QUOTA) {
        if (n > b->cap) {
            int *t = realloc(b->taken, (size_t)n * sizeof *t);
            if (!t)
                return vox_fail(err, VOX_ENOMEM,
                                "out of host memory for the stream batch. Use a machine with more RAM");
            b->taken = t;
            b->cap = n;
        }
        int holding = 0;
        for (int i = 0; i < n; i++) {
            vox_encoder_t *e;
            float *o;
            int f;
            b->taken[i] = 0;
            holding += !(status && status[i]) && vox_stream_held(s[i], &e, &f, &o) > 0;
        }
        quota = step_quota(b, holding);
    }
    for (;;) {
        vox_encoder_t *e[VOX_MAX_ROWS];
        float *out[VOX_MAX_ROWS];
        int from[VOX_MAX_ROWS], rows[VOX_MAX_ROWS], idx[VOX_MAX_ROWS], k = 0, used = 0, held = 0;
        for (int i = 0; i < n && used < b->rows; i++) {
            int h = (status && status[i]) ? 0 : vox_stream_held(s[i], &e[k], &from[k], &out[k]);
            if (!h) continue;
            if (!share || h > b->rows) { /* alone (its rows were never split: from is 0) */
                held++;
                double t = vox_now_ms();
                if (vox_encoder_run(e[k], h, out[k])) return vox_model_error(be, be->err.code, err);
                vox_error_t es = {0, ""};
                int rc = vox_stream_encoded(s[i], h, vox_now_ms() - t, &es);
                b->st.enc_alone++;
                b->st.enc_ms += vox_now_ms() - t;
                if (rc) TRY(stream_failed(i, rc, &es, status, errs, err));
                continue;
            }
            if (quota && vox_stream_is_prefilled(s[i])) {
                int left = quota - b->taken[i];
                if (left <= 0) continue; /* its quota is spent: the rest waits for the next step */
                if (h > left) {
                    h = left;
                    b->st.enc_quota_held++;
                }
            }
            held++;
            rows[k] = h < b->rows - used ? h : b->rows - used;
            used += rows[k];
            if (quota) b->taken[i] += rows[k];
            idx[k++] = i;
        }
        if (!held) return 0;
        if (k == 0) continue;
        if (!b->enc.rows) {
            int rc = vox_enc_bufs_init(&b->enc, b->m, b->rows);
            if (rc) return vox_model_error(be, rc, err);
        }
        double t = vox_now_ms();
        if (vox_encoder_run_rows(&b->enc, e, from, rows, out, k)) return vox_model_error(be, be->err.code, err);
        double run = vox_now_ms() - t, ms = run / k;
        b->st.enc_run_ms += run;
        b->st.enc_passes++;
        if (k > b->st.enc_widest) b->st.enc_widest = k;
        for (int j = 0; j < k; j++) {
            vox_error_t es = {0, ""};
            int rc = vox_stream_encoded(s[idx[j]], rows[j], ms, &es);
            if (rc) TRY(stream_failed(idx[j], rc, &es, status, errs, err));
        }
        b->st.enc_ms += vox_now_ms() - t;
    }
}

/* A/B switch (engine/README.md): -DVOX_BATCH_PREFILL=0 prefills every stream alone. */
#ifndef VOX_BATCH_PREFILL
#define VOX_BATCH_PREFILL 1
#endif

/* Prefill the streams whose prompt embeddings are queued: as many together as their rows fit in
 * VOX_MAX_ROWS (streams that open together: one read of the decoder weights for several prompts; a
 * prompt is 33..62 rows, so on the CPU too, whose decode forwards take 16, the prefill's linears are
 * GEMMs either way); a group of one runs the single-stream prefill. b->rows == 1: each alone. */
static int prefill_ready(vox_batch_t *b, vox_stream_t *const *s, int n, const int *status, vox_error_t *err) {
    vox_backend_t *be = b->m->be;
    int together = b->rows > 1 && VOX_BATCH_PREFILL;
    for (int i = 0;;) {
        vox_decoder_t *d[VOX_MAX_ROWS];
        const float *emb[VOX_MAX_ROWS];
        int idx[VOX_MAX_ROWS], k = 0, rows = 0;
        for (; i < n; i++) {
            vox_decoder_t *di;
            const float *ei;
            if ((status && status[i]) || !vox_stream_prefill_ready(s[i], &di, &ei)) continue;
            if (k > 0 && (!together || rows + di->L - 1 > VOX_MAX_ROWS)) break; /* it starts the next group */
            d[k] = di;
            emb[k] = ei;
            idx[k++] = i;
            rows += di->L - 1;
        }
        if (k == 0) return 0;
        if (k > 1 && !b->pre.rows) {
            int rc = vox_dec_bufs_init(&b->pre, b->m, VOX_MAX_ROWS, 1);
            if (rc) return vox_model_error(be, rc, err);
        }
        double t = vox_now_ms();
        int rc = k == 1 ? vox_decoder_prefill(d[0], emb[0]) : vox_decoder_prefill_rows(&b->pre, d, emb, k);
        if (rc) return vox_model_error(be, rc, err);
        double ms = vox_now_ms() - t;
        b->st.prefills++;
        b->st.prefill_ms += ms;
        if (k > b->st.prefill_widest) b->st.prefill_widest = k;
        for (int j = 0; j < k; j++) vox_stream_prefilled(s[idx[j]], ms / k);
    }
}

int vox_streams_step(vox_batch_t *b, vox_stream_t *const *s, int n, int *status, vox_error_t *errs, int *decided,
                     vox_error_t *err) {
    vox_backend_t *be = b->m->be;
    size_t V = (size_t)b->m->p.vocab_size;
    int count = 0;
    if (status) memset(status, 0, (size_t)n * sizeof *status);
    TRY(encode_held(b, s, n, status, errs, err));
    TRY(prefill_ready(b, s, n, status, err));
    for (int i0 = 0; i0 < n;) {
        /* The next group: up to b->rows streams with a ready position. */
        vox_decoder_t *d[VOX_MAX_ROWS];
        const float *emb[VOX_MAX_ROWS];
        int64_t pos[VOX_MAX_ROWS];
        int idx[VOX_MAX_ROWS], k = 0;
        for (; i0 < n && k < b->rows; i0++)
            if (!(status && status[i0]) && vox_stream_ready(s[i0], &d[k], &emb[k], &pos[k])) idx[k++] = i0;
        if (k == 0) break;
        int32_t out[VOX_MAX_ROWS];
        const float *logits = b->b.logits;
        double t = vox_now_ms();
        int rc;
        if (k == 1) { /* the single-step path (captured graph on CUDA) */
            int tok;
            rc = vox_decoder_step(d[0], emb[0], pos[0], &tok);
            out[0] = tok;
            logits = d[0]->b.logits;
        } else {
            rc = vox_decoder_step_rows(&b->b, d, emb, pos, k, out);
        }
        if (rc) return vox_model_error(be, rc, err);
        double ms = vox_now_ms() - t;
        b->st.forwards++;
        b->st.dec_ms += ms;
        if (k > b->st.widest) b->st.widest = k;
        for (int j = 0; j < k; j++) {
            vox_error_t e = {0, ""};
            int rc2 = vox_stream_decided(s[idx[j]], out[j], logits + (size_t)j * V, ms, &e);
            if (rc2) {
                if (status) status[idx[j]] = rc2;
                if (errs) errs[idx[j]] = e;
            }
        }
        count += k;
    }
    if (decided) *decided = count;
    return 0;
}
