/* stream.h — the incremental pipeline: feed 16 kHz samples, get tokens as soon as they are
 * decided. Offline transcription is feed(all) + flush().
 *
 *   samples -> mel (vox_mel) -> encoder (chunks of <= VOX_STREAM_CHUNK positions) -> adapter
 *   -> queue of audio embeddings -> decoder (prefill once L-1 embeddings exist, then one
 *   step per embedding) -> token callback
 *
 * Schedule (MODEL.md): the stream itself pushes 32 tokens (32*1280 samples) of silence first;
 * flush() pushes zeros to the next multiple of 1280 samples and then (delay_tokens + 1 + 10)
 * tokens more, finishes the mel, and decodes every remaining position. Decoding stops at EOS
 * (unless ignore_eos). Every stage carries its state, so any chunking of the same samples
 * gives the same tokens. */
#ifndef VOX_STREAM_H
#define VOX_STREAM_H
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "decoder.h"
#include "encoder.h"
#include "model.h"

#define VOX_SAMPLES_PER_TOKEN 1280
#define VOX_RIGHT_PAD_TOKENS  10
#define VOX_STREAM_CHUNK      1024 /* max encoder positions per encoder call */
/* ... of a deferred stream (a server's): live audio arrives 80 ms (4 positions) at a time, and the
 * encoder's KV rings and buffers are sized by the chunk (real model: 230 MB instead of 465 MB of
 * rings per stream), so that many streams fit on one GPU. */
#define VOX_DEFER_CHUNK  128
#define VOX_DELAY_MS_MAX 2400 /* delay_ms range: 80 .. this */

typedef struct {
    int delay_ms;   /* 80..VOX_DELAY_MS_MAX, multiple of 80 (checked by the caller) */
    int ignore_eos; /* decode to the last position whatever the model says */
    int dump;       /* keep mel frames, audio embeddings and logits on the host */
    int dump_steps; /* logits rows kept when dumping (< 0: all) */
    /* Speculation (exact): up to `speculate` ready positions decided per decoder forward, rows
     * after the first guessing the token `guess`, kept up to the first row whose output differs
     * from the guess. 0 = the backend's default (ops->spec_k: 8 on the CPU, 1 on CUDA), 1 = off, 2..VOX_MAX_SPEC: the most rows; a stream halves its rows after a
     * forward that kept fewer than it computed and doubles them (up to this) after one that kept
     * all. guess 0 = STREAMING_PAD (other values are for tests: the tiny models never emit PAD). */
    int speculate, guess;
    /* Batched serving: feed/flush run the conv stem but hold its rows, and decode nothing; the
     * encoder layers, the prefill and the positions wait for vox_streams_step (batch.h). */
    int defer;
    int drop_tokens; /* keep no token ids and step times (a plain text stream: memory stays flat) */
} vox_stream_opts;

typedef struct {
    int k, guess;                      /* the most rows per forward (1 = off), guessed token */
    int cur;                           /* rows of the next forward (1..k: halved, doubled) */
    size_t forwards, decided, rows;    /* decoder forwards, positions decided, rows computed */
    size_t accepted[VOX_MAX_SPEC + 1]; /* accepted[a]: forwards that kept a rows */
    size_t pad;                        /* decided tokens that are STREAMING_PAD */
} vox_spec_stats;

/* Called once per decided token (control tokens included), in order, with the decoder position
 * that decided it (L-1 for the first token; events.h turns it into a step and audio times). */
typedef void (*vox_token_fn)(void *user, int token, int64_t pos);

typedef struct {
    double mel, encoder, adapter, prefill, decode; /* ms spent in each stage */
    double first_token;                            /* ms from stream start to the first token */
} vox_stream_timings;

typedef struct {
    const int32_t *tokens;
    size_t n_tokens;      /* generated ids (EOS included when seen); NULL with drop_tokens */
    const float *step_ms; /* [n_tokens] wall ms of each decoder step; NULL with drop_tokens */
    size_t n_samples;     /* user samples fed (16 kHz) */
    int64_t n_audio;      /* audio embeddings (decoder positions) */
    vox_stream_timings t;
    const float *mel;
    size_t n_mel; /* dumps: [n_mel, n_mels] */
    const float *embeds;
    size_t n_embeds; /*        [n_embeds, dim] */
    const float *logits;
    size_t n_logits; /*        [n_logits, vocab] */
    vox_spec_stats spec;
    size_t kv_bytes; /* the decoder's KV rings now */
} vox_stream_result;

typedef struct vox_stream vox_stream_t;

int vox_stream_new(const vox_model_t *m, const vox_stream_opts *o, vox_token_fn cb, void *user, vox_stream_t **out,
                   vox_error_t *err);
int vox_stream_feed(vox_stream_t *s, const float *x, size_t n, vox_error_t *err);
/* vox_stream_feed in its two halves, for a server that runs the first one for many streams on worker
 * threads: push puts the samples into the stream's mel (host work only, no backend call: different
 * streams may push at the same time), pump runs what the pushed audio allows (conv stem, encoder,
 * adapter, decoding; on the caller's one thread). feed = push, then pump. */
int vox_stream_push(vox_stream_t *s, const float *x, size_t n, vox_error_t *err);
int vox_stream_pump(vox_stream_t *s, vox_error_t *err);
/* End of input: right padding, finish the mel, decode the rest. Audio shorter than one token
 * (1280 samples) is VOX_EAUDIO. */
int vox_stream_flush(vox_stream_t *s, vox_error_t *err);
/* The first decoded position, L-1 (step k of a token = pos - this). */
int64_t vox_stream_first_pos(const vox_stream_t *s);
void vox_stream_result_get(const vox_stream_t *s, vox_stream_result *r);
void vox_stream_free(vox_stream_t *s);

/* The JSON fields `,"speculation":{k, guess, forwards, decided, rows, accepted_per_forward,
 * accepted[k], pad_rate},"kv_mb":X` of a result (--json, done events). */
void vox_stream_stats_json(FILE *f, const vox_stream_result *r);

/* For batch.c (streams stepped together): the next ready position of a deferred stream (1, with
 * its decoder, embedding and position) or 0 (not prefilled yet, nothing queued, or EOS seen). */
int vox_stream_ready(vox_stream_t *s, vox_decoder_t **d, const float **emb, int64_t *pos);
/* Record the token decided at that position (logits: backend [vocab] row, for --dump); ms is
 * the step's wall time. */
int vox_stream_decided(vox_stream_t *s, int token, const float *logits, double ms, vox_error_t *err);
/* For batch.c: the encoder rows a deferred stream holds and has not run (its encoder, the first of
 * them in the push, and where their outputs go), or 0; then, after the next `rows` of them ran (ms:
 * the stream's share of that time), their adapter (the whole tokens among the rows run so far are
 * queued), and once all have, the next pushes of the audio it has, up to the next held rows. */
int vox_stream_held(vox_stream_t *s, vox_encoder_t **e, int *from, float **out);
int vox_stream_encoded(vox_stream_t *s, int rows, double ms, vox_error_t *err);
/* Whether the stream is prefilled: each whole token its encoder rows give is a position to decide. */
int vox_stream_is_prefilled(const vox_stream_t *s);
/* For batch.c: a deferred stream whose prompt embeddings are queued and not prefilled (1, with its
 * decoder and those embeddings: backend [L-1, dim]), or 0; vox_streams_step prefills several such
 * streams in one forward, then calls vox_stream_prefilled (ms: the stream's share of that time). */
int vox_stream_prefill_ready(vox_stream_t *s, vox_decoder_t **d, const float **emb);
void vox_stream_prefilled(vox_stream_t *s, double ms);
/* For serve mode: whether vox_streams_step has work for this deferred stream now (held encoder rows,
 * a prompt to prefill or a ready position). */
int vox_stream_steppable(const vox_stream_t *s);
/* Positions queued and not yet decided, or encoder rows held (0 once EOS is seen). */
int64_t vox_stream_pending(const vox_stream_t *s);
#endif
