/* mel.c — streaming log-mel spectrogram; see mel.h for the exact definition.
 *
 * Numerics: the FFT runs in double precision (a mixed-radix decimation-in-time FFT over the
 * factors of n_fft, 400 = 2·2·2·2·5·5), so the result is at least as accurate as the float32
 * torch reference; the filter bank is built in double exactly as the Slaney formulas say and
 * applied over each filter's non-zero bin range only.
 *
 * Threads: frames only read immutable state and the sample buffer, so a large batch (an offline
 * file pushed at once) is split over up to min(cores, 16) threads, each with its own scratch; the
 * result is bit-identical to computing the frames one by one.
 *
 * Buffering: `buf` holds the signal from absolute sample index `base` on. Frame t covers
 * signal indices [t*hop - n_fft/2, t*hop + n_fft/2); indices < 0 reflect to -i, indices >= N
 * (known only at finish) reflect to 2(N-1) - i. Samples no later frame can need are dropped.
 */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include "mel.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

typedef struct {
    double re, im;
} cplx;

/* Per-thread working memory of one frame's computation. */
typedef struct {
    cplx *in, *out; /* [n_fft] */
    double *power;  /* [n_bins] */
} frame_scratch;

/* Frames computed in one go below this count stay on the calling thread (streaming pushes). */
#define MEL_PARALLEL_MIN_FRAMES 256
#define MEL_MAX_THREADS         16

struct vox_mel {
    int n_mels, hop, n_fft, n_bins; /* n_bins = n_fft/2 + 1 */
    double log_floor;               /* global_log_mel_max - 8 */
    double *window;                 /* [n_fft] periodic Hann */
    double *filters;                /* [n_mels, n_bins] Slaney-normalised triangles */
    int *f_lo, *f_hi;               /* non-zero bin range [lo, hi) of each filter */
    cplx *twiddle;                  /* [n_fft] e^{-2πik/n_fft} */
    int factors[32], n_factors;
    int n_threads; /* frames are computed on up to this many threads */

    float *buf;
    size_t buf_len, buf_cap; /* samples [base, base + buf_len) */
    size_t base;             /* absolute index of buf[0] */
    size_t n_total;          /* samples pushed so far */
    size_t next_frame;       /* index of the next frame to compute */
    int finished;

    float *ready;
    size_t ready_len, ready_cap; /* computed frames not yet taken, [k, n_mels] */
};

/* ---- Slaney mel scale (linear below 1 kHz, logarithmic above) ---- */
static double hz_to_mel(double hz) {
    const double logstep = 27.0 / log(6.4);
    return hz < 1000.0 ? 3.0 * hz / 200.0 : 15.0 + log(hz / 1000.0) * logstep;
}
static double mel_to_hz(double mel) {
    const double logstep = log(6.4) / 27.0;
    return mel < 15.0 ? 200.0 * mel / 3.0 : 1000.0 * exp(logstep * (mel - 15.0));
}

/* Triangular filters between consecutive mel points, each scaled to unit area
 * (Slaney norm: 2 / (f_{m+2} - f_m)), over the FFT bin frequencies linspace(0, sr/2, n_bins). */
static int build_filters(struct vox_mel *m, double sample_rate) {
    int n_pts = m->n_mels + 2;
    double *pts = malloc(sizeof(double) * (size_t)n_pts);
    if (!pts) return -1;
    double mel_lo = hz_to_mel(0.0), mel_hi = hz_to_mel(sample_rate / 2.0);
    for (int i = 0; i < n_pts; i++) pts[i] = mel_to_hz(mel_lo + (mel_hi - mel_lo) * i / (n_pts - 1));
    for (int f = 0; f < m->n_mels; f++) {
        double lo = pts[f], mid = pts[f + 1], hi = pts[f + 2];
        double enorm = 2.0 / (hi - lo);
        m->f_lo[f] = m->n_bins;
        m->f_hi[f] = 0;
        for (int b = 0; b < m->n_bins; b++) {
            double hz = (sample_rate / 2.0) * b / (m->n_bins - 1);
            double down = (hz - lo) / (mid - lo), up = (hi - hz) / (hi - mid);
            double v = fmax(0.0, fmin(down, up)) * enorm;
            m->filters[(size_t)f * m->n_bins + b] = v;
            if (v > 0) {
                if (b < m->f_lo[f]) m->f_lo[f] = b;
                m->f_hi[f] = b + 1;
            }
        }
        if (m->f_hi[f] == 0) m->f_lo[f] = 0;
    }
    free(pts);
    return 0;
}

/* Recursive mixed-radix DIT FFT of n points read from in[0], in[stride], ...; writes out[0..n)
 * in natural order. tw_step = n_fft / n maps this level's twiddle W_n^j to twiddle[j * tw_step]. */
static void fft_rec(const struct vox_mel *m, const cplx *in, size_t stride, cplx *out, int n, const int *fac,
                    int tw_step) {
    int p = fac[0], sub = n / p;
    if (sub == 1) {
        for (int q = 0; q < p; q++) out[q] = in[(size_t)q * stride];
    } else {
        for (int q = 0; q < p; q++)
            fft_rec(m, in + (size_t)q * stride, stride * (size_t)p, out + q * sub, sub, fac + 1, tw_step * p);
    }
    /* Butterflies: X[k + r*sub] = Σ_q W_n^{qk} · W_p^{qr} · Y_q[k]. */
    cplx t[32];
    for (int k = 0; k < sub; k++) {
        for (int q = 0; q < p; q++) {
            cplx y = out[q * sub + k], w = m->twiddle[(size_t)((q * k) % n) * tw_step];
            t[q].re = y.re * w.re - y.im * w.im;
            t[q].im = y.re * w.im + y.im * w.re;
        }
        for (int r = 0; r < p; r++) {
            double re = 0, im = 0;
            for (int q = 0; q < p; q++) {
                cplx w = m->twiddle[(size_t)((q * r * sub) % n) * tw_step];
                re += t[q].re * w.re - t[q].im * w.im;
                im += t[q].re * w.im + t[q].im * w.re;
            }
            out[r * sub + k].re = re;
            out[r * sub + k].im = im;
        }
    }
}

vox_mel_t *vox_mel_new(const vox_params_t *p) {
    struct vox_mel *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->n_mels = p->n_mels;
    m->hop = p->hop_length;
    m->n_fft = p->window_size;
    m->n_bins = m->n_fft / 2 + 1;
    m->log_floor = p->global_log_mel_max - 8.0;
    m->window = malloc(sizeof(double) * (size_t)m->n_fft);
    m->filters = calloc((size_t)m->n_mels * m->n_bins, sizeof(double));
    m->f_lo = malloc(sizeof(int) * (size_t)m->n_mels);
    m->f_hi = malloc(sizeof(int) * (size_t)m->n_mels);
    m->twiddle = malloc(sizeof(cplx) * (size_t)m->n_fft);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    m->n_threads = cores < 1 ? 1 : cores > MEL_MAX_THREADS ? MEL_MAX_THREADS : (int)cores;
    if (!m->window || !m->filters || !m->f_lo || !m->f_hi || !m->twiddle ||
        build_filters(m, (double)p->sampling_rate) != 0) {
        vox_mel_free(m);
        return NULL;
    }
    for (int i = 0; i < m->n_fft; i++) {
        m->window[i] = 0.5 - 0.5 * cos(2.0 * M_PI * i / m->n_fft); /* periodic Hann */
        m->twiddle[i].re = cos(-2.0 * M_PI * i / m->n_fft);
        m->twiddle[i].im = sin(-2.0 * M_PI * i / m->n_fft);
    }
    /* Factor n_fft into small primes (radix 4 first would be faster; primes keep it simple). */
    int n = m->n_fft;
    for (int f = 2; n > 1 && m->n_factors < 32;) {
        if (n % f == 0) {
            m->factors[m->n_factors++] = f;
            n /= f;
        } else
            f++;
    }
    if (n != 1 || m->n_factors == 0) {
        vox_mel_free(m);
        return NULL;
    }
    for (int i = 0; i < m->n_factors; i++)
        if (m->factors[i] > 32) {
            vox_mel_free(m);
            return NULL;
        } /* butterfly scratch is 32 */
    return m;
}

void vox_mel_free(vox_mel_t *m) {
    if (!m) return;
    free(m->window);
    free(m->filters);
    free(m->f_lo);
    free(m->f_hi);
    free(m->twiddle);
    free(m->buf);
    free(m->ready);
    free(m);
}

/* Sample at absolute signal index i (may be negative or >= N: reflection). */
static double sample_at(const struct vox_mel *m, long long i) {
    long long n = (long long)m->n_total;
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i; /* only reached after finish */
    if (i < 0) i = 0;                /* degenerate very short input */
    return m->buf[(size_t)i - m->base];
}

static int scratch_init(const struct vox_mel *m, frame_scratch *sc) {
    sc->in = malloc(sizeof(cplx) * (size_t)m->n_fft);
    sc->out = malloc(sizeof(cplx) * (size_t)m->n_fft);
    sc->power = malloc(sizeof(double) * (size_t)m->n_bins);
    return sc->in && sc->out && sc->power ? 0 : VOX_ENOMEM;
}
static void scratch_free(frame_scratch *sc) {
    free(sc->in);
    free(sc->out);
    free(sc->power);
}

/* A mel bin of energy e, as the model sees it. */
static float mel_value(const struct vox_mel *m, double e) {
    double x = log10(fmax(e, 1e-10));
    x = fmax(x, m->log_floor);
    return (float)((x + 4.0) / 4.0);
}

/* One frame t into out[n_mels]. Reads only immutable state and the sample buffer, so frames can
 * be computed on several threads at once, each with its own scratch, with identical results. A frame
 * of zeros (the stream's left padding, the flush's right padding, digital silence) skips the FFT and
 * the filters: its power, so every bin's energy, is exactly 0 either way (every product and sum of the
 * FFT of zeros is a zero), so its bins are mel_value(0), the bits the computation gives. */
static void compute_frame(const struct vox_mel *m, frame_scratch *sc, size_t t, float *out) {
    long long start = (long long)t * m->hop - m->n_fft / 2;
    int silent = 1;
    for (int i = 0; i < m->n_fft; i++) {
        double s = sample_at(m, start + i);
        silent &= s == 0.0;
        sc->in[i].re = s * m->window[i];
        sc->in[i].im = 0.0;
    }
    if (silent) {
        float v = mel_value(m, 0.0);
        for (int f = 0; f < m->n_mels; f++) out[f] = v;
        return;
    }
    fft_rec(m, sc->in, 1, sc->out, m->n_fft, m->factors, 1);
    for (int b = 0; b < m->n_bins; b++) sc->power[b] = sc->out[b].re * sc->out[b].re + sc->out[b].im * sc->out[b].im;
    for (int f = 0; f < m->n_mels; f++) {
        const double *w = m->filters + (size_t)f * m->n_bins;
        double e = 0.0;
        for (int b = m->f_lo[f]; b < m->f_hi[f]; b++) e += w[b] * sc->power[b];
        out[f] = mel_value(m, e);
    }
}

typedef struct {
    const struct vox_mel *m;
    size_t t0, t1; /* frames [t0, t1) */
    float *out;    /* row of frame t0 */
    int rc;
} frame_job;

static void *run_frames(void *arg) {
    frame_job *j = arg;
    frame_scratch sc;
    j->rc = scratch_init(j->m, &sc);
    for (size_t t = j->t0; t < j->t1 && !j->rc; t++)
        compute_frame(j->m, &sc, t, j->out + (t - j->t0) * (size_t)j->m->n_mels);
    scratch_free(&sc);
    return NULL;
}

/* Frames [t0, t1) appended to the ready queue; large batches (offline input) are split over
 * threads, small ones (streaming) stay on this thread. */
static int emit_frames(struct vox_mel *m, size_t t0, size_t t1) {
    size_t n = t1 - t0, w = (size_t)m->n_mels;
    if (m->ready_len + n > m->ready_cap) {
        size_t cap = m->ready_cap ? m->ready_cap : 64;
        while (cap < m->ready_len + n) cap *= 2;
        float *r = realloc(m->ready, sizeof(float) * cap * w);
        if (!r) return VOX_ENOMEM;
        m->ready = r;
        m->ready_cap = cap;
    }
    float *out = m->ready + m->ready_len * w;
    int nt = n >= MEL_PARALLEL_MIN_FRAMES ? m->n_threads : 1;
    frame_job jobs[MEL_MAX_THREADS];
    pthread_t tid[MEL_MAX_THREADS];
    int started = 0, rc = 0;
    for (int i = 0; i < nt; i++) {
        size_t a = t0 + n * (size_t)i / (size_t)nt, b = t0 + n * (size_t)(i + 1) / (size_t)nt;
        jobs[i] = (frame_job){m, a, b, out + (a - t0) * w, 0};
        if (i > 0 && pthread_create(&tid[i], NULL, run_frames, &jobs[i]) == 0) {
            started |= 1 << i;
            continue;
        }
        if (i > 0) jobs[i].rc = -1; /* no thread: computed below on this one */
    }
    run_frames(&jobs[0]);
    for (int i = 1; i < nt; i++) {
        if (started & (1 << i))
            pthread_join(tid[i], NULL);
        else
            run_frames(&jobs[i]);
    }
    for (int i = 0; i < nt; i++)
        if (jobs[i].rc) rc = VOX_ENOMEM;
    if (rc) return rc;
    m->ready_len += n;
    return 0;
}

/* Compute every frame whose samples are all known; before finish frame t needs indices up to
 * t*hop + n_fft/2 - 1 and, for the left reflection, up to n_fft/2. */
static int drain(struct vox_mel *m) {
    size_t half = (size_t)m->n_fft / 2;
    size_t end = m->next_frame; /* frames [next_frame, end) can be computed now */
    if (m->finished) {
        end = m->n_total / (size_t)m->hop; /* the STFT's last frame is dropped */
        if (end < m->next_frame) end = m->next_frame;
    } else {
        for (;;) {
            size_t need = end * m->hop + half; /* samples needed: [0, need) */
            if (need < half + 1) need = half + 1;
            if (m->n_total < need) break;
            end++;
        }
    }
    if (end > m->next_frame) {
        int rc = emit_frames(m, m->next_frame, end);
        if (rc) return rc;
        m->next_frame = end;
    }
    /* Drop samples no later frame reads (keep [0, half] while frame 0's reflection needs them). */
    if (m->next_frame > 0 && !m->finished) {
        size_t keep_from = m->next_frame * m->hop;
        keep_from = keep_from > half ? keep_from - half : 0;
        if (keep_from > m->base && keep_from - m->base > m->buf_len / 2) {
            size_t drop = keep_from - m->base;
            memmove(m->buf, m->buf + drop, sizeof(float) * (m->buf_len - drop));
            m->buf_len -= drop;
            m->base = keep_from;
        }
    }
    return 0;
}

int vox_mel_push(vox_mel_t *m, const float *x, size_t n) {
    if (m->finished) return VOX_EINTERNAL;
    if (m->buf_len + n > m->buf_cap) {
        size_t cap = m->buf_cap ? m->buf_cap : 4096;
        while (cap < m->buf_len + n) cap *= 2;
        float *b = realloc(m->buf, sizeof(float) * cap);
        if (!b) return VOX_ENOMEM;
        m->buf = b;
        m->buf_cap = cap;
    }
    memcpy(m->buf + m->buf_len, x, sizeof(float) * n);
    m->buf_len += n;
    m->n_total += n;
    return drain(m);
}

int vox_mel_finish(vox_mel_t *m) {
    if (m->finished) return 0;
    m->finished = 1;
    return drain(m);
}

size_t vox_mel_take(vox_mel_t *m, float *out, size_t max) {
    size_t k = m->ready_len < max ? m->ready_len : max;
    size_t w = (size_t)m->n_mels;
    memcpy(out, m->ready, sizeof(float) * k * w);
    memmove(m->ready, m->ready + k * w, sizeof(float) * (m->ready_len - k) * w);
    m->ready_len -= k;
    return k;
}
