/* resample.c — streaming band-limited resampler (Kaiser-windowed sinc, polyphase), any rate pair.
 *
 * Output sample j sits at input time t_j = j · in_rate / out_rate (exact integer arithmetic, no
 * drift over hours of audio). Its value is Σ_i x[i] · h(t_j − i) over the 2·hw input samples
 * around t_j, with
 *   h(x) = 2·fc · sinc(2·fc·x) · kaiser(x / half_width),   fc = 0.95 · min(in, out) / 2 / in
 * (cutoff in cycles per input sample, 5% below the Nyquist frequency of the lower rate) and 32
 * zero crossings of the sinc on each side. The kernel is symmetric (zero phase: no delay) and
 * its DC gain is 1. It is precomputed as a polyphase table: row r holds the 2·hw taps for the
 * fractional position r / R. With R = the reduced out_rate (when <= 1024) every output uses one
 * exact row, e.g. 160 rows for 44.1 -> 16 kHz; otherwise R = 1024 rows and the output blends
 * the two nearest rows linearly (kernel error ~1e-7). Samples before the first input and after
 * the last (at flush) count as zero. Output does not depend on how the input is chunked. */
#include "audio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ZERO_CROSSINGS 32
#define MAX_ROWS       1024
#define KAISER_BETA    8.0 /* ~ -80 dB stop band with 32 zero crossings */

struct vox_resampler {
    uint64_t in_rate, out_rate; /* reduced by their gcd */
    int hw;                     /* taps on each side of t_j */
    int rows;                   /* R: table rows cover fractional positions r / R, r = 0 .. R */
    float *table;               /* [(R + 1), 2·hw]: row r, tap k -> h((hw − 1 − k) + r / R) */
    float *buf;                 /* input samples buf_base .. buf_base + buf_n − 1 */
    size_t buf_n, buf_cap;
    uint64_t buf_base; /* absolute index of buf[0] */
    uint64_t n_in;     /* input samples seen so far */
    uint64_t next_out; /* index j of the next output sample */
};

/* Modified Bessel function of the first kind, order 0 (power series; converges fast for x < 30). */
static double bessel_i0(double x) {
    double sum = 1, term = 1, q = x * x / 4;
    for (int k = 1; k < 64 && term > 1e-12 * sum; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

static uint64_t gcd(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

vox_resampler_t *vox_resampler_new(int in_rate, int out_rate) {
    return vox_resampler_new_width(in_rate, out_rate, ZERO_CROSSINGS);
}

vox_resampler_t *vox_resampler_new_width(int in_rate, int out_rate, int zero_crossings) {
    if (in_rate <= 0 || out_rate <= 0 || zero_crossings <= 0) return NULL;
    vox_resampler_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    uint64_t g = gcd((uint64_t)in_rate, (uint64_t)out_rate);
    r->in_rate = (uint64_t)in_rate / g;
    r->out_rate = (uint64_t)out_rate / g;
    if (r->in_rate == r->out_rate) return r; /* identity: no table */
    const double pi = 3.14159265358979323846, i0b = bessel_i0(KAISER_BETA);
    double fc = 0.95 * 0.5 * (in_rate < out_rate ? 1.0 : (double)out_rate / in_rate);
    double half_width = zero_crossings / (2.0 * fc);
    r->hw = (int)ceil(half_width);
    r->rows = r->out_rate <= MAX_ROWS ? (int)r->out_rate : MAX_ROWS;
    int taps = 2 * r->hw;
    r->table = malloc((size_t)(r->rows + 1) * (size_t)taps * sizeof *r->table);
    if (!r->table) {
        free(r);
        return NULL;
    }
    for (int row = 0; row <= r->rows; row++)
        for (int k = 0; k < taps; k++) {
            double x = (r->hw - 1 - k) + (double)row / r->rows, u = fabs(x) / half_width;
            double s = x == 0 ? 1.0 : sin(pi * 2 * fc * x) / (pi * 2 * fc * x);
            double w = u >= 1 ? 0.0 : bessel_i0(KAISER_BETA * sqrt(1 - u * u)) / i0b;
            r->table[(size_t)row * (size_t)taps + (size_t)k] = (float)(2 * fc * s * w);
        }
    return r;
}

void vox_resampler_free(vox_resampler_t *r) {
    if (!r) return;
    free(r->table);
    free(r->buf);
    free(r);
}

static int grow(float **a, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    float *n = realloc(*a, c * sizeof *n);
    if (!n) return -1;
    *a = n;
    *cap = c;
    return 0;
}

/* Σ x[k] · h[k], four partial sums (the order is fixed, so results are reproducible). */
static double dot(const float *x, const float *h, int n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int k = 0;
    for (; k + 4 <= n; k += 4) {
        s0 += x[k] * h[k];
        s1 += x[k + 1] * h[k + 1];
        s2 += x[k + 2] * h[k + 2];
        s3 += x[k + 3] * h[k + 3];
    }
    for (; k < n; k++) s0 += x[k] * h[k];
    return (double)s0 + s1 + s2 + s3;
}

/* Emit every output whose taps are inside the input seen so far (when flushing: every output
 * up to the one at the last input's time, with zeros past the end). */
static size_t produce(vox_resampler_t *r, int flushing, float **out, size_t *out_cap, size_t *out_n) {
    const int taps = 2 * r->hw;
    size_t added = 0;
    for (;;) {
        uint64_t num = r->next_out * r->in_rate; /* t_j = num / out_rate */
        uint64_t ti = num / r->out_rate, rem = num % r->out_rate;
        if (flushing ? ti >= r->n_in : ti + (uint64_t)r->hw >= r->n_in) break;
        if (grow(out, out_cap, *out_n + 1)) return (size_t)-1;
        /* row position: rem / out_rate of the way between input samples */
        uint64_t pos = rem * (uint64_t)r->rows;
        int row = (int)(pos / r->out_rate);
        float f = (float)(pos % r->out_rate) / (float)r->out_rate; /* 0 when rows == out_rate */
        /* taps k cover inputs ti − hw + 1 + k; clip to the samples held (zeros elsewhere) */
        int64_t first = (int64_t)ti - r->hw + 1;
        int k0 = first < (int64_t)r->buf_base ? (int)((int64_t)r->buf_base - first) : 0;
        int k1 = first + taps > (int64_t)r->n_in ? (int)((int64_t)r->n_in - first) : taps;
        const float *x = r->buf + (first + k0 - (int64_t)r->buf_base);
        const float *h = r->table + (size_t)row * (size_t)taps + (size_t)k0;
        double acc = dot(x, h, k1 - k0);
        if (f > 0) acc = (1 - f) * acc + f * dot(x, h + taps, k1 - k0);
        (*out)[(*out_n)++] = (float)acc;
        r->next_out++;
        added++;
    }
    /* Drop input no future output can reach (below t_next − hw + 1). */
    uint64_t t_next = r->next_out * r->in_rate / r->out_rate;
    uint64_t keep_from = t_next + 1 > (uint64_t)r->hw ? t_next + 1 - (uint64_t)r->hw : 0;
    if (keep_from > r->buf_base) {
        size_t drop = (size_t)(keep_from - r->buf_base);
        if (drop > r->buf_n) drop = r->buf_n;
        memmove(r->buf, r->buf + drop, (r->buf_n - drop) * sizeof *r->buf);
        r->buf_n -= drop;
        r->buf_base += drop;
    }
    return added;
}

size_t vox_resampler_push(vox_resampler_t *r, const float *in, size_t n, float **out, size_t *out_cap, size_t *out_n) {
    if (r->in_rate == r->out_rate) { /* same rate: pass through untouched */
        if (grow(out, out_cap, *out_n + n)) return (size_t)-1;
        memcpy(*out + *out_n, in, n * sizeof *in);
        *out_n += n;
        return n;
    }
    if (grow(&r->buf, &r->buf_cap, r->buf_n + n)) return (size_t)-1;
    memcpy(r->buf + r->buf_n, in, n * sizeof *in);
    r->buf_n += n;
    r->n_in += n;
    return produce(r, 0, out, out_cap, out_n);
}

size_t vox_resampler_flush(vox_resampler_t *r, float **out, size_t *out_cap, size_t *out_n) {
    if (r->in_rate == r->out_rate) return 0;
    return produce(r, 1, out, out_cap, out_n);
}
