/* serve.c — many streams over one loaded model (see serve.h for the framing and the events).
 *
 * One thread: read whatever frames stdin has (without blocking while some stream has work), then
 * one round of serve_step over the streams, and again; only the round's mel work (each stream's
 * samples into its mel) is spread over a pool of worker threads. Audio waits per stream as s16 samples
 * until its turn; while more than PENDING_CAP samples wait in total, stdin is not read (the pipe
 * pushes back on the client), so memory stays bounded whatever the client sends. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio.h"
#include "batch.h"
#include "cpu_pool.h"
#include "decoder.h"
#include "events.h"
#include "json.h"
#include "serve.h"

#define TURN_SAMPLES (4 * VOX_SAMPLES_PER_TOKEN)    /* samples one stream is fed per turn (320 ms) */
#define PENDING_CAP  ((size_t)30 * VOX_SAMPLE_RATE) /* waiting samples, all streams, before stdin pauses */
#define MEL_THREADS  16                             /* the most threads of the round's mel work */

typedef struct serve serve_t;

typedef struct {
    uint32_t id;
    serve_t *srv;
    vox_stream_t *s;
    vox_stream_opts o;
    int L; /* prompt length: step k is decoder position L-1+k */
    int16_t *pcm;
    size_t head, n_pcm, cap_pcm; /* waiting samples pcm[head..n_pcm) */
    int has_odd;
    unsigned char odd;             /* low byte of a sample split between two frames */
    int finishing, ended, flushed; /* flushed: batched streams wait for their last positions */
    size_t n_fed, n_tok;
    size_t turn_n; /* samples pushed into the stream's mel this round (push_audio), 0: none */
    int turn_rc;   /* and the push's result, turn_err its error */
    vox_error_t turn_err;
    double last_progress, t_open;
    vox_utf8_carry carry; /* a UTF-8 character split between two token events */
} sstream;

struct serve {
    const vox_model_t *m;
    vox_serve_opts o;
    int in_fd, eof; /* the frames' input, and whether it has ended */
    FILE *out;
    sstream **st;
    size_t n_st, cap_st;
    size_t rr;          /* round-robin start of the next turn */
    size_t pending;     /* waiting samples over all streams */
    vox_batch_t *batch; /* one decoder forward per step for every ready stream, or NULL */
    vox_pool_t *pool;   /* the round's mel work, or NULL (one core, or no threads): on this thread */
    size_t rounds;      /* serve_step calls; the wall ms in frames, mel, turns and batched steps (--debug) */
    double ms_frames, ms_open, ms_mel, ms_feed, ms_steps; /* ms_open: of ms_frames, in opening streams */
};

/* ---------------- frames ---------------- */

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

long vox_serve_frame_parse(const unsigned char *buf, size_t n, vox_serve_frame *f, vox_error_t *err) {
    if (n < 1) return 0;
    char t = (char)buf[0];
    if (t != 'O' && t != 'A' && t != 'F' && t != 'C')
        return vox_fail(err, VOX_EUSAGE,
                        "serve: unknown frame type byte 0x%02x. Frames start with O, A, F or C "
                        "(see engine/README.md, serve mode)",
                        buf[0]);
    if (n < VOX_SERVE_HEADER) return 0;
    uint32_t len = le32(buf + 5);
    if (len > VOX_SERVE_MAX_PAYLOAD)
        return vox_fail(err, VOX_EUSAGE,
                        "serve: frame payload of %u bytes is over the limit of %u. Send audio in "
                        "smaller frames",
                        len, VOX_SERVE_MAX_PAYLOAD);
    if (n - VOX_SERVE_HEADER < len) return 0;
    f->type = t;
    f->stream = le32(buf + 1);
    f->len = len;
    f->payload = buf + VOX_SERVE_HEADER;
    return (long)(VOX_SERVE_HEADER + len);
}

int vox_serve_open_parse(const unsigned char *p, size_t n, vox_stream_opts *o, vox_error_t *err) {
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')) i++;
    if (i == n) return 0;
    vox_error_t jerr = {0, ""};
    vox_json *j = vox_json_parse((const char *)p, n, "open options", &jerr);
    if (!j) { /* keep the parser's problem (with the byte offset), not its advice about model files */
        char *fix = strstr(jerr.msg, "). ");
        if (fix) fix[1] = 0;
        return vox_fail(err, VOX_EUSAGE, "%s. Send a JSON object like {\"delay_ms\":480} in the open frame", jerr.msg);
    }
    int rc = 0;
    if (j->type != VOX_JSON_OBJECT)
        rc =
            vox_fail(err, VOX_EUSAGE, "open options must be a JSON object like {\"delay_ms\":480}. Fix the open frame");
    for (const vox_json *c = j->type == VOX_JSON_OBJECT ? j->child : NULL; c && !rc; c = c->next) {
        if (!strcmp(c->key, "delay_ms")) {
            double d = c->number;
            if (c->type != VOX_JSON_NUMBER || d < 80 || d > VOX_DELAY_MS_MAX || d != (double)(int)d || (int)d % 80)
                rc = vox_fail(err, VOX_EUSAGE,
                              "open options: delay_ms must be a multiple of 80 from 80 to %d. Fix the "
                              "open frame",
                              VOX_DELAY_MS_MAX);
            else
                o->delay_ms = (int)d;
        } else if (!strcmp(c->key, "ignore_eos")) {
            if (c->type != VOX_JSON_BOOL)
                rc = vox_fail(err, VOX_EUSAGE,
                              "open options: ignore_eos must be true or "
                              "false. Fix the open frame");
            else
                o->ignore_eos = c->number != 0;
        } else {
            rc = vox_fail(err, VOX_EUSAGE, "open options: unknown key '%.64s'. Use delay_ms or ignore_eos", c->key);
        }
    }
    vox_json_free(j);
    return rc;
}

/* ---------------- events (written by events.c; ready / opened / closed are serve mode's own) ---------------- */

/* id < 0: the error belongs to no stream (framing): "stream": null. */
static void ev_error(FILE *f, long long id, const vox_error_t *e) {
    vox_error_t x = *e;
    if (!x.code) x.code = VOX_EINTERNAL;
    if (!x.msg[0]) snprintf(x.msg, sizeof x.msg, "unexpected failure. This is a bug; please report it");
    vox_events_error(f, id < 0 ? VOX_EVENTS_STREAM_NULL : (long)id, &x);
}

static void ev_simple(FILE *f, const char *type, uint32_t id) {
    vox_events_begin(f, type, (long)id);
    vox_events_end(f);
}

static void ev_ready(const serve_t *S) {
    const vox_model_t *m = S->m;
    vox_backend_t *be = m->be;
    const char *dev = be->ops->device_name(be);
    vox_events_begin(S->out, "ready", VOX_EVENTS_STREAM_NULL);
    fprintf(S->out, ",\"version\":\"%s\",\"backend\":\"%s\",\"device\":", VOX_VERSION, be->ops->name);
    vox_json_write_string(S->out, (const unsigned char *)dev, strlen(dev));
    fprintf(S->out,
            ",\"sample_rate\":%d,\"delay_ms\":%d,\"max_payload\":%u,\"load_ms\":%.1f,\"model\":{\"dim\":%d,"
            "\"n_layers\":%d,\"enc_n_layers\":%d,\"vocab_size\":%d,\"sliding_window\":%d}",
            VOX_SAMPLE_RATE, S->o.delay_ms, VOX_SERVE_MAX_PAYLOAD, S->o.load_ms, m->p.dim, m->p.n_layers,
            m->p.enc_n_layers, m->p.vocab_size, m->p.sliding_window);
    vox_events_end(S->out);
}

static void ev_progress(sstream *x) {
    vox_events_progress(x->srv->out, (long)x->id, (double)x->n_fed * 1000.0 / VOX_SAMPLE_RATE,
                        (double)VOX_MS_PER_TOKEN * (double)x->n_tok);
    x->last_progress = vox_now_ms();
}

static void on_token(void *user, int token, int64_t pos) {
    sstream *x = user;
    const vox_tokenizer_t *tok = &x->srv->m->tok;
    size_t len = 0;
    int control = vox_tokenizer_is_control(tok, token);
    const unsigned char *b = vox_tokenizer_bytes(tok, token, &len);
    x->n_tok++;
    vox_events_token(x->srv->out, (long)x->id, &x->carry, token, b, control ? 0 : len, control, pos,
                     pos - (int64_t)(x->L - 1));
}

static void ev_done(sstream *x) {
    const serve_t *S = x->srv;
    const vox_model_t *m = S->m;
    vox_backend_t *be = m->be;
    vox_stream_result r;
    vox_stream_result_get(x->s, &r);
    size_t n_text = 0, cap = 1;
    for (size_t i = 0; i < r.n_tokens; i++) {
        size_t len = 0;
        vox_tokenizer_bytes(&m->tok, r.tokens[i], &len);
        if (!vox_tokenizer_is_control(&m->tok, r.tokens[i])) cap += len;
    }
    unsigned char *text = malloc(cap);
    for (size_t i = 0; text && i < r.n_tokens; i++) {
        size_t len = 0;
        const unsigned char *b = vox_tokenizer_bytes(&m->tok, r.tokens[i], &len);
        if (vox_tokenizer_is_control(&m->tok, r.tokens[i])) continue;
        memcpy(text + n_text, b, len);
        n_text += len;
    }
    vox_run_summary sum = {
        .text = text ? text : (const unsigned char *)"",
        .n_text = text ? n_text : 0,
        .r = &r,
        .backend = be->ops->name,
        .device = be->ops->device_name(be),
        .gpu_mem_mb = strcmp(be->ops->name, "cpu") == 0 ? -1.0 : (double)be->ops->mem_used(be) / (1024.0 * 1024.0),
        .delay_ms = x->o.delay_ms,
        .threads = S->o.threads,
        .interrupted = 0,
        .load_ms = S->o.load_ms,
        .wall_ms = vox_now_ms() - x->t_open,
        .peak_rss_mb = vox_peak_rss_mb(),
        .params = &S->m->p,
    };
    vox_events_done(S->out, (long)x->id, &sum);
    free(text);
}

/* ---------------- streams ---------------- */

static sstream *find(const serve_t *S, uint32_t id) {
    for (size_t i = 0; i < S->n_st; i++)
        if (S->st[i]->id == id && !S->st[i]->ended) return S->st[i];
    return NULL;
}

static void stream_free(sstream *x) {
    vox_stream_free(x->s);
    free(x->pcm);
    free(x);
}

/* Mark x ended (removed after the current turn); its waiting samples no longer count. */
static void stream_end(serve_t *S, sstream *x) {
    S->pending -= x->n_pcm - x->head;
    x->head = x->n_pcm = 0;
    x->ended = 1;
}

static void stream_fail(serve_t *S, sstream *x, const vox_error_t *e) {
    ev_error(S->out, x->id, e);
    stream_end(S, x);
}

static void sweep(serve_t *S) {
    size_t k = 0;
    for (size_t i = 0; i < S->n_st; i++) {
        if (S->st[i]->ended)
            stream_free(S->st[i]);
        else
            S->st[k++] = S->st[i];
    }
    S->n_st = k;
}

static int stream_open(serve_t *S, const vox_serve_frame *fr, vox_error_t *e) {
    sstream *old = find(S, fr->stream);
    if (old) {
        vox_fail(e, VOX_EUSAGE, "stream %u is already open; the open frame ends it. Use a new stream id per stream",
                 fr->stream);
        stream_end(S, old);
        return e->code;
    }
    vox_stream_opts so = {
        .delay_ms = S->o.delay_ms, .ignore_eos = S->o.ignore_eos, .dump_steps = -1, .defer = S->batch != NULL};
    TRY(vox_serve_open_parse(fr->payload, fr->len, &so, e));
    if (S->n_st == S->cap_st) {
        size_t c = S->cap_st ? 2 * S->cap_st : 16;
        sstream **g = realloc(S->st, c * sizeof *g);
        if (!g) return vox_fail(e, VOX_ENOMEM, "out of host memory opening a stream. Close other streams");
        S->st = g;
        S->cap_st = c;
    }
    sstream *x = calloc(1, sizeof *x);
    if (!x) return vox_fail(e, VOX_ENOMEM, "out of host memory opening a stream. Close other streams");
    x->id = fr->stream;
    x->srv = S;
    x->o = so;
    x->L = 1 + VOX_LEFT_PAD_TOKENS + so.delay_ms / VOX_MS_PER_TOKEN;
    x->t_open = vox_now_ms();
    int rc = vox_stream_new(S->m, &so, on_token, x, &x->s, e);
    if (rc) {
        free(x);
        return rc;
    }
    S->st[S->n_st++] = x;
    ev_simple(S->out, "opened", x->id);
    return 0;
}

static int stream_audio(serve_t *S, sstream *x, const unsigned char *p, size_t n, vox_error_t *e) {
    if (x->finishing)
        return vox_fail(e, VOX_EUSAGE, "audio for stream %u after its finish frame. Send F only after the last audio",
                        x->id);
    size_t bytes = n + (size_t)x->has_odd, ns = bytes / 2;
    if (x->head > 0 && x->head == x->n_pcm) x->head = x->n_pcm = 0;
    if (x->n_pcm + ns > x->cap_pcm) {
        if (x->head) { /* slide the waiting samples to the front before growing */
            memmove(x->pcm, x->pcm + x->head, (x->n_pcm - x->head) * sizeof *x->pcm);
            x->n_pcm -= x->head;
            x->head = 0;
        }
        size_t c = x->cap_pcm ? x->cap_pcm : 4096;
        while (c < x->n_pcm + ns) c *= 2;
        int16_t *q = c > x->cap_pcm ? realloc(x->pcm, c * sizeof *q) : x->pcm;
        if (!q)
            return vox_fail(e, VOX_ENOMEM,
                            "out of host memory buffering audio for stream %u. Send audio no faster "
                            "than it is decoded",
                            x->id);
        x->pcm = q;
        x->cap_pcm = c > x->cap_pcm ? c : x->cap_pcm;
    }
    size_t i = 0;
    if (x->has_odd && n > 0) {
        x->pcm[x->n_pcm++] = (int16_t)(uint16_t)(x->odd | p[0] << 8);
        x->has_odd = 0;
        i = 1;
    }
    for (; i + 1 < n; i += 2) x->pcm[x->n_pcm++] = (int16_t)(uint16_t)(p[i] | p[i + 1] << 8);
    if (i < n) {
        x->odd = p[i];
        x->has_odd = 1;
    }
    S->pending += ns;
    return 0;
}

/* Handle one frame. Per-stream problems become that stream's error event. */
static void handle(serve_t *S, const vox_serve_frame *fr) {
    vox_error_t e = {0, ""};
    if (fr->type == 'O') {
        double t = vox_now_ms();
        if (stream_open(S, fr, &e)) ev_error(S->out, fr->stream, &e);
        S->ms_open += vox_now_ms() - t;
        return;
    }
    sstream *x = find(S, fr->stream);
    if (!x) {
        vox_fail(&e, VOX_EUSAGE, "no open stream %u for the %c frame. Open it first with an O frame", fr->stream,
                 fr->type);
        ev_error(S->out, fr->stream, &e);
        return;
    }
    if (fr->type == 'A') {
        if (stream_audio(S, x, fr->payload, fr->len, &e)) stream_fail(S, x, &e);
    } else if (fr->type == 'F') {
        x->finishing = 1;
    } else { /* 'C' */
        stream_end(S, x);
        ev_simple(S->out, "closed", x->id);
    }
}

/* The first half of a turn: x->turn_n (up to TURN_SAMPLES) of its waiting samples into its mel
 * (vox_stream_push: host work only, so the streams' pushes of a round run on the pool's threads at once). */
static void push_one(sstream *x) {
    float buf[TURN_SAMPLES];
    for (size_t i = 0; i < x->turn_n; i++) buf[i] = (float)x->pcm[x->head + i] / 32768.0f;
    x->turn_err = (vox_error_t){0, ""};
    x->turn_rc = vox_stream_push(x->s, buf, x->turn_n, &x->turn_err);
}
/* Thread t of n pushes the streams t, t + n, ... that have audio this round. */
static void push_part(void *ctx, int t, int n) {
    serve_t *S = ctx;
    for (size_t i = (size_t)t; i < S->n_st; i += (size_t)n)
        if (S->st[i]->turn_n) push_one(S->st[i]);
}
/* The pushes of a round, on the pool when several streams have audio. */
static void push_audio(serve_t *S) {
    size_t pushing = 0;
    for (size_t i = 0; i < S->n_st; i++) {
        sstream *x = S->st[i];
        size_t n = x->ended ? 0 : x->n_pcm - x->head;
        x->turn_n = n > TURN_SAMPLES ? TURN_SAMPLES : n;
        pushing += x->turn_n > 0;
    }
    if (pushing > 1 && S->pool)
        vox_pool_run(S->pool, push_part, S);
    else
        push_part(S, 0, 1);
}

/* One turn of x: the rest of its push this round (the stem, encoder and decoding it allows: feeding it),
 * or, when it is finishing and nothing waits, flush it and report it done. */
static void stream_turn(serve_t *S, sstream *x) {
    vox_error_t e = {0, ""};
    size_t n = x->turn_n; /* pushed by push_audio */
    x->turn_n = 0;
    if (n > 0) {
        x->head += n;
        S->pending -= n;
        x->n_fed += n;
        if (x->turn_rc || vox_stream_pump(x->s, &e)) {
            stream_fail(S, x, x->turn_rc ? &x->turn_err : &e);
            return;
        }
        if (vox_now_ms() - x->last_progress >= VOX_EVENTS_PROGRESS_MS) ev_progress(x);
        return;
    }
    if (!x->finishing || x->flushed) return;
    if (x->has_odd)
        vox_fail(&e, VOX_EAUDIO,
                 "stream %u finished after an odd number of audio bytes (s16le samples are 2 bytes). "
                 "Send whole samples",
                 x->id);
    else if (!vox_stream_flush(x->s, &e)) {
        x->flushed = 1;
        if (S->batch) return; /* done once serve_step has decided its last positions */
        ev_done(x);
        stream_end(S, x);
        return;
    }
    stream_fail(S, x, &e);
}

/* A/B switch (engine/README.md): -DVOX_SERVE_YIELD=0 decides every ready position before frames are
 * read again. */
#ifndef VOX_SERVE_YIELD
#define VOX_SERVE_YIELD 1
#endif

/* Whether the loop reads the input now: it has not ended and not too much audio waits. */
static int reading(const serve_t *S) { return !S->eof && S->pending < PENDING_CAP; }

/* Whether frames wait on the input that this loop would read now. */
static int frames_waiting(const serve_t *S) {
    if (!reading(S)) return 0;
    struct pollfd p = {S->in_fd, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
}

/* Batched decoding: decide the ready positions, one forward per step for all the streams that have
 * one (vox_streams_step), step after step until none is left or frames wait on the input: a stream
 * with many positions at once (its flush's padding, a client ahead of real time) then goes on in the
 * next rounds, and the other streams' audio is not held up behind it. Then the flushed streams with
 * nothing left are done. */
static void batch_steps(serve_t *S) {
    size_t n = S->n_st;
    vox_stream_t **v = malloc((n ? n : 1) * sizeof *v);
    sstream **who = malloc((n ? n : 1) * sizeof *who);
    int *status = malloc((n ? n : 1) * sizeof *status);
    vox_error_t *errs = malloc((n ? n : 1) * sizeof *errs);
    if (!v || !who || !status || !errs) {
        vox_error_t e = {0, ""};
        vox_fail(&e, VOX_ENOMEM, "out of host memory stepping the streams. Close some streams");
        for (size_t i = 0; i < n; i++)
            if (!S->st[i]->ended) stream_fail(S, S->st[i], &e);
        free(v);
        free(who);
        free(status);
        free(errs);
        return;
    }
    for (int decided = 1; decided > 0;) {
        int k = 0;
        for (size_t i = 0; i < n; i++)
            if (!S->st[i]->ended) {
                who[k] = S->st[i];
                v[k++] = S->st[i]->s;
            }
        vox_error_t e = {0, ""};
        if (k == 0) break;
        if (vox_streams_step(S->batch, v, k, status, errs, &decided, &e)) {
            for (int j = 0; j < k; j++) stream_fail(S, who[j], &e); /* the shared forward failed */
            break;
        }
        for (int j = 0; j < k; j++)
            if (status[j]) stream_fail(S, who[j], &errs[j]);
        if (VOX_SERVE_YIELD && frames_waiting(S)) break;
    }
    for (size_t i = 0; i < n; i++) {
        sstream *x = S->st[i];
        if (!x->ended && x->flushed && vox_stream_pending(x->s) == 0) {
            ev_done(x);
            stream_end(S, x);
        }
    }
    free(v);
    free(who);
    free(status);
    free(errs);
}

/* One round over the open streams, starting one further each round: every stream with waiting
 * audio or a pending finish gets one turn (feeding it: encoder and prefill, and its decoding unless
 * batched), then, batched, one decoder forward per step for all the streams with a ready position. */
static void serve_step(serve_t *S) {
    size_t n = S->n_st;
    double t0 = vox_now_ms();
    push_audio(S);
    double t = vox_now_ms();
    S->ms_mel += t - t0;
    for (size_t k = 0; k < n; k++) {
        sstream *x = S->st[(S->rr + k) % n];
        if (!x->ended) stream_turn(S, x);
    }
    double t2 = vox_now_ms();
    S->ms_feed += t2 - t;
    if (S->batch) batch_steps(S);
    S->ms_steps += vox_now_ms() - t2;
    S->rounds++;
    if (n) S->rr = (S->rr + 1) % n;
    sweep(S);
}

static int has_work(const serve_t *S) {
    for (size_t i = 0; i < S->n_st; i++) {
        const sstream *x = S->st[i];
        if (x->finishing || x->n_pcm > x->head || (S->batch && !x->ended && vox_stream_steppable(x->s))) return 1;
    }
    return 0;
}

int vox_serve_run(const vox_model_t *m, const vox_serve_opts *o, int in_fd, FILE *out, vox_error_t *err) {
    serve_t S;
    memset(&S, 0, sizeof S);
    S.m = m;
    S.o = *o;
    S.in_fd = in_fd;
    S.out = out;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 1) S.pool = vox_pool_new(cores < MEL_THREADS ? (int)cores : MEL_THREADS);
    size_t cap = VOX_SERVE_HEADER + VOX_SERVE_MAX_PAYLOAD, n_in = 0;
    /* Backends that take several streams per forward step all ready streams together (up to
     * ops->batch_rows per forward); the others keep each stream decoding its own positions as its
     * audio is fed. */
    if (m->be->ops->batch_rows > 1) {
        int brc = vox_batch_new(m, 0, &S.batch, err);
        if (brc) {
            vox_pool_free(S.pool);
            return brc;
        }
    }
    unsigned char *in = malloc(cap);
    if (!in) {
        vox_batch_free(S.batch);
        vox_pool_free(S.pool);
        return vox_fail(err, VOX_ENOMEM, "out of host memory starting serve mode. Free some memory and retry");
    }
    ev_ready(&S);
    int rc = 0, truncated = 0;
    while (!rc) {
        int work = has_work(&S);
        if (S.eof && !work) break;
        if (reading(&S)) {
            struct pollfd p = {in_fd, POLLIN, 0};
            int r = poll(&p, 1, work ? 0 : -1);
            if (r < 0 && errno != EINTR) {
                rc = vox_fail(err, VOX_EINTERNAL, "serve: poll on stdin failed: %s. This is a bug; please report it",
                              strerror(errno));
                break;
            }
            if (r > 0) {
                ssize_t got = read(in_fd, in + n_in, cap - n_in);
                if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                if (got <= 0) {
                    S.eof = 1;
                    for (size_t i = 0; i < S.n_st; i++) S.st[i]->finishing = 1;
                    if (n_in) { /* reported now; the open streams are still finished */
                        truncated = vox_fail(err, VOX_EUSAGE,
                                             "serve: stdin ended inside a frame (%zu bytes of it "
                                             "arrived). Send whole frames",
                                             n_in);
                        ev_error(out, -1, err);
                    }
                } else {
                    n_in += (size_t)got;
                    size_t off = 0;
                    vox_serve_frame fr;
                    long k;
                    double t = vox_now_ms();
                    while ((k = vox_serve_frame_parse(in + off, n_in - off, &fr, err)) > 0) {
                        handle(&S, &fr);
                        off += (size_t)k;
                    }
                    S.ms_frames += vox_now_ms() - t;
                    if (k < 0) rc = (int)k;
                    sweep(&S); /* streams ended by these frames (close, errors) are freed now */
                    memmove(in, in + off, n_in - off);
                    n_in -= off;
                }
            }
        }
        if (!rc && work) serve_step(&S);
    }
    if (rc) ev_error(out, -1, err);
    for (size_t i = 0; i < S.n_st; i++) stream_free(S.st[i]);
    free(S.st);
    free(in);
    if (m->be->debug) {
        fprintf(stderr,
                "voxtral: debug: serve: %zu rounds; wall ms: reading and handling frames %.0f (opening streams "
                "%.0f), the streams' mel (on %d threads) %.0f, feeding the streams (conv stem) %.0f, batched steps "
                "%.0f\n",
                S.rounds, S.ms_frames, S.ms_open, S.pool ? vox_pool_size(S.pool) : 1, S.ms_mel, S.ms_feed, S.ms_steps);
        vox_batch_stats st;
        if (S.batch) {
            vox_batch_stats_get(S.batch, &st);
            fprintf(stderr,
                    "voxtral: debug: serve: %zu batched decoder forwards, the widest of %d streams, %.0f ms; %zu "
                    "encoder passes, the widest of %d streams, and %zu pushes alone, %.0f ms (the passes' layers "
                    "%.0f, the rest each stream's adapter and next conv stem), %zu held rows cut at a step's "
                    "quota; %zu prefill forwards, the widest of %d streams, %.0f ms\n",
                    st.forwards, st.widest, st.dec_ms, st.enc_passes, st.enc_widest, st.enc_alone, st.enc_ms,
                    st.enc_run_ms, st.enc_quota_held, st.prefills, st.prefill_widest, st.prefill_ms);
        }
    }
    vox_batch_free(S.batch);
    vox_pool_free(S.pool);
    return rc ? rc : truncated;
}
