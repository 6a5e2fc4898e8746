/* events.h — the engine's machine-readable output: `--json` (one object at the end) and `--events`
 * (one JSON object per line while it runs, each line flushed). The schema is
 * checks/schemas/events.schema.json; engine/README.md ("Event stream") documents every field.
 *
 *   {"type":"token","id":N,"text":"…","control":bool,"pos":P,"step":k,"start_ms":80k,"end_ms":80(k+1)}
 *   {"type":"progress","consumed_ms":X,"decoded_ms":Y}
 *   {"type":"done", …every --json field…}
 *   {"type":"error","code":"usage|model|audio|backend|memory|internal","exit_code":N,"message":"…"}
 *
 * Every writer takes a stream id: -1 for the CLI (no "stream" field), >= 0 adds "stream":ID (serve
 * mode), VOX_EVENTS_STREAM_NULL adds "stream":null (serve mode, an event about no stream). Timing rule: the token decided at decoder position pos is step k = pos - (L-1) (k = 0 at the
 * first decoded position) and closes the user-audio interval [80k, 80(k+1)) ms; the 32 tokens of
 * left padding are not user audio. Times are not clamped to the audio (tokens decided in the right
 * padding end past it). */
#ifndef VOX_EVENTS_H
#define VOX_EVENTS_H
#include <stdint.h>
#include <stdio.h>
#include "stream.h"

#define VOX_MS_PER_TOKEN       80    /* one decoder position = 1280 samples at 16 kHz */
#define VOX_EVENTS_PROGRESS_MS 100.0 /* progress events at most every this many ms of wall time */
#define VOX_EVENTS_STREAM_NULL (-2)  /* stream id argument: write "stream":null */

/* End of the user-audio interval closed by step k, in ms (token_times_ms, end_ms). */
static inline int64_t vox_events_end_ms(int64_t step) { return (step + 1) * VOX_MS_PER_TOKEN; }

/* Token texts are byte sequences and a UTF-8 character may be split over two tokens. The carry
 * holds an incomplete trailing sequence back until the next token, so each event's text is valid
 * UTF-8 and the concatenated texts equal the transcript. One per stream, zero-initialised. */
typedef struct {
    unsigned char held[4];
    int n;
} vox_utf8_carry;

void vox_events_token(FILE *f, long stream, vox_utf8_carry *c, int id, const unsigned char *bytes, size_t n,
                      int control, int64_t pos, int64_t step);
/* The opening `{"type":"TYPE"[,"stream":…]` and the closing `}` + newline + flush, for events with
 * fields of their own (serve mode's ready / opened / closed). */
void vox_events_begin(FILE *f, const char *type, long stream);
void vox_events_end(FILE *f);
void vox_events_progress(FILE *f, long stream, double consumed_ms, double decoded_ms);
/* err->code -> "code" and "exit_code"; err->msg -> "message". */
void vox_events_error(FILE *f, long stream, const vox_error_t *err);
const char *vox_events_code_name(int code); /* VOX_EUSAGE -> "usage", … */

/* Everything --json prints (and the done event carries). */
typedef struct {
    const unsigned char *text;
    size_t n_text; /* the transcript (bytes of the non-control tokens) */
    const vox_stream_result *r;
    const char *backend, *device;
    double gpu_mem_mb; /* < 0: null (the CPU backend) */
    int delay_ms, threads, interrupted;
    double load_ms, wall_ms, peak_rss_mb;
    const vox_params_t *params; /* decoder_bytes_per_step comes from it (NULL: omitted) */
} vox_run_summary;

/* The summary's fields, `"text":…,…,"interrupted":b` without the braces. */
void vox_events_summary_fields(FILE *f, const vox_run_summary *s);
void vox_events_done(FILE *f, long stream, const vox_run_summary *s);
#endif
