/* batch.h — several streams of one model decoded together: one decoder forward per step for
 * every stream with a ready position, so the weights are read once per step for all of them.
 *
 * Streams opened with vox_stream_opts.defer = 1 run their conv stem as audio arrives
 * (vox_stream_feed / vox_stream_flush) and hold its rows; vox_streams_step first runs the encoder
 * layers of the streams' held rows in passes of up to `rows` rows together (one read of the
 * encoder weights for many streams; a prefilled stream runs up to a pass's share of them per step,
 * the rest in the next steps), then the prefills of the streams whose prompt embeddings have
 * arrived (several in one forward where their rows fit), then
 * decides one ready position of each, up to VOX_MAX_ROWS streams per forward, each row at its own position
 * over its own KV rings and with its own delay's ada scale. Streams join and leave between steps
 * (pass whichever are open). The tokens of every stream are exactly its solo tokens (on the CPU
 * a row's arithmetic does not depend on the other rows). */
#ifndef VOX_BATCH_H
#define VOX_BATCH_H
#include "stream.h"

typedef struct vox_batch vox_batch_t;

/* rows: the most streams per forward, 0 (or more than it takes) = the backend's ops->batch_rows;
 * 1: streams stepped one after another (the single-step path). */
int vox_batch_new(const vox_model_t *m, int rows, vox_batch_t **out, vox_error_t *err);
void vox_batch_free(vox_batch_t *b);
/* Decide one ready position (vox_stream_ready) of each of s[0..n). status[i] (may be NULL) gets 0
 * or the failure of recording stream i's token, with its message in errs[i] (may be NULL); such a
 * stream should be freed, the others are unaffected. *decided (may be NULL) = positions decided.
 * Returns 0, or the failure of a forward (a backend error), in err. */
int vox_streams_step(vox_batch_t *b, vox_stream_t *const *s, int n, int *status, vox_error_t *errs, int *decided,
                     vox_error_t *err);
/* What a batch has run so far (for tests and --debug). */
typedef struct {
    size_t forwards;       /* decoder forwards of several streams */
    int widest;            /* the most streams in one */
    size_t enc_passes;     /* encoder passes over held rows of several streams */
    int enc_widest;        /* the most streams in one */
    size_t enc_alone;      /* pushes whose encoder layers ran alone */
    size_t enc_quota_held; /* times a prefilled stream's held rows were cut at its step quota */
    double enc_ms;      /* wall ms in the encoder (passes and alone, with each stream's adapter and next conv stem) */
    double enc_run_ms;  /* of which in the passes' layers (vox_encoder_run_rows: launches, no wait) */
    double dec_ms;      /* wall ms in the decoder forwards (tokens downloaded) */
    size_t prefills;    /* prefill forwards (of one stream or several) */
    int prefill_widest; /* the most streams in one */
    double prefill_ms;  /* wall ms in them (launches, no wait) */
} vox_batch_stats;
void vox_batch_stats_get(const vox_batch_t *b, vox_batch_stats *st);
#endif
