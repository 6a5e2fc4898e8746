/* stream.c — see stream.h for the pipeline and the schedule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "decoder.h"
#include "encoder.h"
#include "mel.h"
#include "stream.h"

struct vox_stream {
    const vox_model_t *m;
    vox_stream_opts o;
    vox_token_fn cb;
    void *user;
    vox_mel_t *mel;
    vox_encoder_t enc;
    vox_adapter_t ad;
    vox_decoder_t dec;
    int delay_tokens;
    int chunk;           /* encoder positions per push at most: VOX_STREAM_CHUNK, or VOX_DEFER_CHUNK */
    float *frames;       /* host [2*chunk, n_mels] mel frames taken for one encoder call */
    float *q;            /* backend [qcap, dim]: audio embeddings not yet decoded */
    int qcap, qcount;    /* rows held; row 0 is decoder position qbase */
    int64_t qbase, next; /* next: next decoder position to run (L-1 after prefill) */
    int prefilled, done, flushed;
    int padded;            /* the left padding is in the mel */
    int enc_held, enc_ran; /* deferred streams: conv stem rows held for vox_streams_step, those run */
    size_t n_samples;
    int64_t n_audio;
    int32_t *tokens;
    size_t n_tokens, cap_tokens;
    float *step_ms;
    size_t cap_step; /* [n_tokens]: wall ms of each step (token on the host) */
    vox_stream_timings t;
    double t0;
    float *d_mel;
    size_t n_mel, cap_mel; /* dumps (host) */
    float *d_emb;
    size_t n_emb, cap_emb;
    float *d_log;
    size_t n_log, cap_log;
    vox_spec_stats spec; /* speculation: k, guess, counts */
};

/* Make room for `need` elements of `elem` bytes in *p (doubling). */
static int grow(void *pp, size_t *cap, size_t need, size_t elem) {
    void **p = pp;
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return VOX_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int oom(vox_error_t *err) {
    return vox_fail(err, VOX_ENOMEM, "out of host memory while transcribing. Use a machine with more RAM");
}

int vox_stream_new(const vox_model_t *m, const vox_stream_opts *o, vox_token_fn cb, void *user, vox_stream_t **out,
                   vox_error_t *err) {
    *out = NULL;
    vox_stream_t *s = calloc(1, sizeof *s);
    if (!s) return oom(err);
    s->t0 = vox_now_ms();
    s->m = m;
    s->o = *o;
    s->cb = cb;
    s->user = user;
    s->delay_tokens = o->delay_ms / 80;
    vox_backend_t *be = m->be;
    s->chunk = o->defer ? VOX_DEFER_CHUNK : VOX_STREAM_CHUNK;
    s->spec.k = o->speculate > 0 ? o->speculate : be->ops->spec_k;
    if (s->spec.k > VOX_MAX_SPEC) s->spec.k = VOX_MAX_SPEC;
    s->spec.cur = s->spec.k;
    int rc = vox_encoder_init(&s->enc, m, s->chunk, err);
    if (!rc) rc = vox_adapter_init(&s->ad, m, s->chunk, err);
    if (!rc) rc = vox_decoder_init(&s->dec, m, s->delay_tokens, s->spec.k, err);
    if (rc) {
        vox_stream_free(s);
        return rc;
    }
    s->spec.guess = o->guess ? o->guess : m->tok.streaming_pad;
    if (s->spec.guess < 0 || s->spec.guess >= m->p.vocab_size) {
        vox_stream_free(s);
        return vox_fail(err, VOX_EUSAGE,
                        "the speculation guess %d is not a token of this model (0..%d). Pass a token id below %d",
                        o->guess, m->p.vocab_size - 1, m->p.vocab_size);
    }
    int g = m->p.downsample_factor;
    s->qcap = s->dec.L - 1 + (s->chunk + g - 1) / g;
    s->q = be->ops->alloc(be, (size_t)s->qcap * m->p.dim);
    s->mel = vox_mel_new(&m->p);
    s->frames = malloc((size_t)2 * s->chunk * m->p.n_mels * sizeof(float));
    if (!s->q || !s->mel || !s->frames) {
        vox_stream_free(s);
        return be->err.code ? vox_model_error(be, be->err.code, err) : oom(err);
    }
    *out = s;
    return 0;
}

/* Left padding: 32 tokens of silence, pushed by the stream itself before its first samples (in the
 * first push, not at open: a server's pushes run on worker threads, its opens on the serving one). */
static int left_pad(vox_stream_t *s) {
    if (s->padded) return 0;
    float *zeros = calloc((size_t)VOX_LEFT_PAD_TOKENS * VOX_SAMPLES_PER_TOKEN, sizeof(float));
    if (!zeros) return VOX_ENOMEM;
    int rc = vox_mel_push(s->mel, zeros, (size_t)VOX_LEFT_PAD_TOKENS * VOX_SAMPLES_PER_TOKEN);
    free(zeros);
    s->padded = rc == 0;
    return rc;
}

static int emit(vox_stream_t *s, int token, int64_t pos) {
    if (!s->o.drop_tokens) {
        if (grow(&s->tokens, &s->cap_tokens, s->n_tokens + 1, sizeof *s->tokens)) return VOX_ENOMEM;
        s->tokens[s->n_tokens] = token;
    }
    if (s->n_tokens == 0) s->t.first_token = vox_now_ms() - s->t0;
    s->n_tokens++;
    if (s->cb) s->cb(s->user, token, pos);
    if (token == s->m->tok.eos && !s->o.ignore_eos) s->done = 1;
    return 0;
}

/* The token decided at position s->next: its step time, its logits row (dumps), the token. */
static int record(vox_stream_t *s, int token, const float *logits, double ms, vox_error_t *err) {
    vox_backend_t *be = s->m->be;
    if (!s->o.drop_tokens) {
        if (grow(&s->step_ms, &s->cap_step, s->n_tokens + 1, sizeof *s->step_ms)) return oom(err);
        s->step_ms[s->n_tokens] = (float)ms;
    }
    if (s->o.dump && (s->o.dump_steps < 0 || s->n_log < (size_t)s->o.dump_steps)) {
        size_t V = (size_t)s->m->p.vocab_size;
        if (grow(&s->d_log, &s->cap_log, (s->n_log + 1) * V, sizeof(float))) return oom(err);
        int rc = be->ops->download(be, s->d_log + s->n_log * V, logits, V * sizeof(float));
        if (rc) return vox_model_error(be, rc, err);
        s->n_log++;
    }
    s->next++;
    s->spec.decided++;
    if (token == s->m->tok.streaming_pad) s->spec.pad++;
    if (emit(s, token, s->next - 1)) return oom(err);
    return 0;
}

/* Decide the next ready position(s): one step, or with speculation one forward of k rows whose
 * rows after the first guess spec.guess; rows are kept up to and including the first output that
 * is not the guess (every later row was built on a guess that did not happen), so the tokens are
 * plain greedy decoding's, whatever k is. Each kept token is charged the forward's time divided by
 * the rows kept. k follows the guesses (spec.cur): halved after a forward that kept fewer rows
 * than it computed (speech: the next rows are likely words too), doubled up to spec.k after one
 * that kept them all (silence), so a stream whose guesses fail soon steps one row at a time. */
static void count_forward(vox_spec_stats *sp, int k, int a) {
    sp->forwards++;
    sp->rows += (size_t)k;
    sp->accepted[a]++;
}
/* held: every guess of the forward held (a step: its token is the guess, so the next one would). */
static void adapt(vox_spec_stats *sp, int k, int held) {
    if (!held)
        sp->cur = sp->cur > 1 ? sp->cur / 2 : 1;
    else if (k == sp->cur)
        sp->cur = 2 * sp->cur < sp->k ? 2 * sp->cur : sp->k;
}

static int decide(vox_stream_t *s, vox_error_t *err) {
    vox_backend_t *be = s->m->be;
    int dim = s->m->p.dim, V = s->m->p.vocab_size;
    int64_t ready = s->qbase + s->qcount - s->next;
    int k = ready < s->spec.cur ? (int)ready : s->spec.cur, rc;
    const float *emb = s->q + (size_t)(s->next - s->qbase) * dim;
    double t = vox_now_ms();
    if (k == 1) {
        int token;
        rc = vox_decoder_step(&s->dec, emb, s->next, &token);
        if (rc) return vox_model_error(be, rc, err);
        count_forward(&s->spec, 1, 1);
        adapt(&s->spec, 1, token == s->spec.guess);
        return record(s, token, s->dec.b.logits, vox_now_ms() - t, err);
    }
    int32_t out[VOX_MAX_SPEC];
    rc = vox_decoder_forward(&s->dec, emb, s->next, k, s->spec.guess, out);
    int a = 1;
    while (a < k && out[a - 1] == s->spec.guess) a++;
    if (!rc) rc = vox_decoder_accept(&s->dec, a);
    if (rc) return vox_model_error(be, rc, err);
    double ms = (vox_now_ms() - t) / a;
    count_forward(&s->spec, k, a);
    adapt(&s->spec, k, a == k);
    for (int i = 0; i < a && !s->done; i++) TRY(record(s, out[i], s->dec.b.logits + (size_t)i * V, ms, err));
    return 0;
}

/* Run the decoder over every queued embedding (prefill first, once L-1 of them exist). */
static int decode_queued(vox_stream_t *s, vox_error_t *err) {
    vox_backend_t *be = s->m->be;
    int L = s->dec.L, rc = 0;
    if (!s->prefilled) {
        if (s->qcount < L - 1 || s->done || s->o.defer) return 0; /* deferred: vox_streams_step prefills */
        double t = vox_now_ms();
        rc = vox_decoder_prefill(&s->dec, s->q);
        be->ops->sync(be); /* (timing only) */
        s->t.prefill += vox_now_ms() - t;
        if (rc) return vox_model_error(be, rc, err);
        s->prefilled = 1;
        s->next = L - 1;
    }
    if (s->o.defer) return 0; /* vox_streams_step decides the positions */
    double t = vox_now_ms();
    while (!s->done && s->next < s->qbase + s->qcount)
        if ((rc = decide(s, err)) != 0) break;
    s->t.decode += vox_now_ms() - t;
    if (rc) return rc;
    /* Everything queued is decoded (or no longer needed after EOS). */
    s->qbase += s->qcount;
    s->qcount = 0;
    return 0;
}

/* Room for `more` rows at the end of the queue. Only deferred streams keep rows across calls:
 * decided rows are dropped and the buffer grows when the backlog needs it. */
static int queue_room(vox_stream_t *s, int more, vox_error_t *err) {
    if (s->qcount + more <= s->qcap) return 0;
    vox_backend_t *be = s->m->be;
    size_t row = (size_t)s->m->p.dim * sizeof(float);
    int64_t drop = s->prefilled ? (s->done ? s->qcount : s->next - s->qbase) : 0;
    int keep = s->qcount - (int)drop, cap = s->qcap;
    while (keep + more > cap) cap *= 2;
    float *q = be->ops->alloc(be, (size_t)cap * s->m->p.dim);
    if (!q) return vox_model_error(be, VOX_ENOMEM, err);
    if (keep > 0 && be->ops->copy(be, q, s->q + (size_t)drop * s->m->p.dim, (size_t)keep * row)) {
        be->ops->free(be, q);
        return vox_model_error(be, be->err.code, err);
    }
    be->ops->free(be, s->q);
    s->q = q;
    s->qcap = cap;
    s->qbase += drop;
    s->qcount = keep;
    return 0;
}

/* n new encoder outputs (a push, or the part of a held push run so far) are in the adapter's slot:
 * the adapter, the queue, decoding. */
static int encoded(vox_stream_t *s, int n_enc, vox_error_t *err) {
    const vox_model_t *m = s->m;
    vox_backend_t *be = m->be;
    int dim = m->p.dim, n_emb, rc;
    double t = vox_now_ms();
    float *dst = s->q + (size_t)s->qcount * dim;
    rc = vox_adapter_push(&s->ad, n_enc, dst, &n_emb);
    if (!s->o.defer) be->ops->sync(be); /* (timing only: deferred streams keep the queue going) */
    s->t.adapter += vox_now_ms() - t;
    if (rc) return vox_model_error(be, rc, err);
    if (s->o.dump && n_emb > 0) {
        if (grow(&s->d_emb, &s->cap_emb, (s->n_emb + n_emb) * dim, sizeof(float))) return oom(err);
        rc = be->ops->download(be, s->d_emb + s->n_emb * dim, dst, (size_t)n_emb * dim * sizeof(float));
        if (rc) return vox_model_error(be, rc, err);
        s->n_emb += n_emb;
    }
    s->qcount += n_emb;
    s->n_audio += n_emb;
    return decode_queued(s, err);
}

/* Take ready mel frames through encoder + adapter into the queue, decoding as we go. A deferred
 * stream stops at the first push with encoder rows and holds them (enc_held) for vox_streams_step,
 * which runs the layers of many streams' held rows in one pass and then pumps on. */
static int pump(vox_stream_t *s, vox_error_t *err) {
    const vox_model_t *m = s->m;
    vox_backend_t *be = m->be;
    int nm = m->p.n_mels, rc;
    while (!s->enc_held) {
        if (s->done && !s->o.dump) return 0; /* after EOS only the dumps need more audio */
        double t = vox_now_ms();
        size_t k = vox_mel_take(s->mel, s->frames, (size_t)2 * s->chunk);
        s->t.mel += vox_now_ms() - t;
        if (k == 0) return 0;
        if (s->o.dump) {
            if (grow(&s->d_mel, &s->cap_mel, (s->n_mel + k) * nm, sizeof(float))) return oom(err);
            memcpy(s->d_mel + s->n_mel * nm, s->frames, k * nm * sizeof(float));
            s->n_mel += k;
        }
        int n_enc;
        TRY(queue_room(s, (s->chunk + m->p.downsample_factor - 1) / m->p.downsample_factor, err));
        t = vox_now_ms();
        rc = vox_encoder_stem(&s->enc, s->frames, (int)k, &n_enc);
        if (!rc && n_enc > 0 && s->o.defer) {
            s->t.encoder += vox_now_ms() - t;
            s->enc_held = n_enc;
            return 0;
        }
        if (!rc) rc = vox_encoder_run(&s->enc, n_enc, vox_adapter_slot(&s->ad));
        if (!s->o.defer) be->ops->sync(be); /* (timing only) */
        s->t.encoder += vox_now_ms() - t;
        if (rc) return vox_model_error(be, rc, err);
        TRY(encoded(s, n_enc, err));
    }
    return 0;
}

int vox_stream_held(vox_stream_t *s, vox_encoder_t **e, int *from, float **out) {
    if (!s->enc_held || (s->done && !s->o.dump)) return 0;
    *e = &s->enc;
    *from = s->enc_ran;
    *out = vox_adapter_slot(&s->ad); /* the rows run so far went through the adapter */
    return s->enc_held - s->enc_ran;
}

int vox_stream_encoded(vox_stream_t *s, int rows, double ms, vox_error_t *err) {
    s->t.encoder += ms;
    s->enc_ran += rows;
    TRY(encoded(s, rows, err)); /* their whole tokens are queued now, the push's rest may wait a step */
    if (s->enc_ran < s->enc_held) return 0;
    s->enc_held = s->enc_ran = 0;
    return pump(s, err);
}

int vox_stream_is_prefilled(const vox_stream_t *s) { return s->prefilled; }

int vox_stream_push(vox_stream_t *s, const float *x, size_t n, vox_error_t *err) {
    if (s->flushed) return vox_fail(err, VOX_EINTERNAL, "samples fed after flush. This is a bug; please report it");
    s->n_samples += n;
    if (s->done && !s->o.dump) return 0;
    double t = vox_now_ms();
    int rc = left_pad(s);
    if (!rc) rc = vox_mel_push(s->mel, x, n);
    s->t.mel += vox_now_ms() - t;
    return rc ? oom(err) : 0;
}

int vox_stream_pump(vox_stream_t *s, vox_error_t *err) { return pump(s, err); }

int vox_stream_feed(vox_stream_t *s, const float *x, size_t n, vox_error_t *err) {
    TRY(vox_stream_push(s, x, n, err));
    return pump(s, err);
}

int vox_stream_flush(vox_stream_t *s, vox_error_t *err) {
    if (s->flushed) return 0;
    s->flushed = 1;
    if (s->n_samples < VOX_SAMPLES_PER_TOKEN)
        return vox_fail(err, VOX_EAUDIO,
                        "the audio is shorter than one token: %zu samples at 16 kHz, at least %d (80 ms) are needed. "
                        "Provide a longer recording",
                        s->n_samples, VOX_SAMPLES_PER_TOKEN);
    size_t pad = (VOX_SAMPLES_PER_TOKEN - s->n_samples % VOX_SAMPLES_PER_TOKEN) % VOX_SAMPLES_PER_TOKEN +
                 (size_t)(s->delay_tokens + 1 + VOX_RIGHT_PAD_TOKENS) * VOX_SAMPLES_PER_TOKEN;
    float *zeros = calloc(pad, sizeof(float));
    if (!zeros) return oom(err);
    double t = vox_now_ms();
    int rc = left_pad(s);
    if (!rc) rc = vox_mel_push(s->mel, zeros, pad);
    if (!rc) rc = vox_mel_finish(s->mel);
    s->t.mel += vox_now_ms() - t;
    free(zeros);
    if (rc) return oom(err);
    TRY(pump(s, err));
    if (!s->prefilled && !s->enc_held && s->qcount < s->dec.L - 1)
        return vox_fail(err, VOX_EINTERNAL,
                        "only %lld audio positions for a prompt of %d. This is a bug; please report it",
                        (long long)s->n_audio, s->dec.L);
    return 0;
}

int64_t vox_stream_first_pos(const vox_stream_t *s) { return s->dec.L - 1; }

void vox_stream_result_get(const vox_stream_t *s, vox_stream_result *r) {
    memset(r, 0, sizeof *r);
    r->tokens = s->tokens;
    r->n_tokens = s->n_tokens;
    r->step_ms = s->step_ms;
    r->n_samples = s->n_samples;
    r->n_audio = s->n_audio;
    r->t = s->t;
    r->mel = s->d_mel;
    r->n_mel = s->n_mel;
    r->embeds = s->d_emb;
    r->n_embeds = s->n_emb;
    r->logits = s->d_log;
    r->n_logits = s->n_log;
    r->spec = s->spec;
    r->kv_bytes = vox_decoder_kv_bytes(&s->dec);
}

/* A deferred stream's prompt embeddings are all queued and it is not prefilled yet. */
static int prompt_ready(const vox_stream_t *s) {
    return s->o.defer && !s->prefilled && !s->done && s->qcount >= s->dec.L - 1;
}

/* A prefilled stream has a queued position not decided yet. */
static int position_ready(const vox_stream_t *s) { return s->prefilled && !s->done && s->next < s->qbase + s->qcount; }

int vox_stream_ready(vox_stream_t *s, vox_decoder_t **d, const float **emb, int64_t *pos) {
    if (!position_ready(s)) return 0;
    *d = &s->dec;
    *emb = s->q + (size_t)(s->next - s->qbase) * s->m->p.dim;
    *pos = s->next;
    return 1;
}

int vox_stream_prefill_ready(vox_stream_t *s, vox_decoder_t **d, const float **emb) {
    if (!prompt_ready(s)) return 0;
    *d = &s->dec;
    *emb = s->q; /* nothing is dropped from the queue before the prefill: row 0 is position 0 */
    return 1;
}

void vox_stream_prefilled(vox_stream_t *s, double ms) {
    s->t.prefill += ms;
    s->prefilled = 1;
    s->next = s->dec.L - 1;
}

int vox_stream_decided(vox_stream_t *s, int token, const float *logits, double ms, vox_error_t *err) {
    s->t.decode += ms;
    count_forward(&s->spec, 1, 1);
    return record(s, token, logits, ms, err);
}

int vox_stream_steppable(const vox_stream_t *s) {
    return (!s->done && s->enc_held) || prompt_ready(s) || position_ready(s);
}

int64_t vox_stream_pending(const vox_stream_t *s) {
    if (s->done) return 0;
    if (s->enc_held) return s->enc_held - s->enc_ran; /* encoder rows held: positions will follow */
    return s->prefilled ? s->qbase + s->qcount - s->next : s->qcount;
}

void vox_stream_free(vox_stream_t *s) {
    if (!s) return;
    vox_backend_t *be = s->m->be;
    vox_decoder_free(&s->dec);
    vox_adapter_free(&s->ad);
    vox_encoder_free(&s->enc);
    if (s->q) be->ops->free(be, s->q);
    vox_mel_free(s->mel);
    free(s->frames);
    free(s->tokens);
    free(s->step_ms);
    free(s->d_mel);
    free(s->d_emb);
    free(s->d_log);
    free(s);
}

void vox_stream_stats_json(FILE *f, const vox_stream_result *r) {
    const vox_spec_stats *sp = &r->spec;
    fprintf(f,
            ",\"speculation\":{\"k\":%d,\"guess\":%d,\"forwards\":%zu,\"decided\":%zu,\"rows\":%zu,"
            "\"accepted_per_forward\":%.4f,\"accepted\":[",
            sp->k, sp->guess, sp->forwards, sp->decided, sp->rows,
            sp->forwards ? (double)sp->decided / (double)sp->forwards : 0.0);
    for (int a = 1; a <= sp->k; a++) fprintf(f, "%s%zu", a > 1 ? "," : "", sp->accepted[a]);
    fprintf(f, "],\"pad_rate\":%.4f},\"kv_mb\":%.3f", sp->decided ? (double)sp->pad / (double)sp->decided : 0.0,
            (double)r->kv_bytes / (1024.0 * 1024.0));
}
