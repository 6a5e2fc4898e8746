/* cpu_kernels.c — BF16 GEMV, BF16->F32 conversion, softmax exp (AVX2+FMA and scalar).
 * BF16 is the top 16 bits of an f32, so widening is a zero-extend and a 16-bit shift. The
 * GEMV keeps four accumulators per input row (32 weights per iteration) so that the FMA
 * latency does not cap the bandwidth at n = 1, and sums every input row the same way whatever
 * the row count (rows are independent: bitwise the same result alone or in a batch). */
#include "cpu_kernels.h"

#include <immintrin.h>
#include <math.h>
#include "vox.h"

int vox_cpu_has_avx2_fma(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* ---------------- scalar ---------------- */

static void gemv_bf16_scalar(const uint16_t *W, int in, const float *x, int nx, float *y, int ldy, int r0, int r1,
                             const float *b, int acc) {
    for (int r = r0; r < r1; r++) {
        const uint16_t *w = W + (size_t)r * in;
        for (int j = 0; j < nx; j++) {
            const float *xj = x + (size_t)j * in;
            float s = 0.0f;
            for (int k = 0; k < in; k++) s += vox_bf16_to_f32(w[k]) * xj[k];
            if (b) s += b[r];
            float *out = y + (size_t)j * ldy + r;
            *out = acc ? *out + s : s;
        }
    }
}

/* ---------------- AVX2 + FMA ---------------- */

#define TGT __attribute__((target("avx2,fma")))

TGT static inline __m256 load_bf16x8(const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

TGT static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* One weight row against one input row: 4 accumulators over 32 weights per iteration (enough
 * FMA chains for the bandwidth at n = 1, where the decoder spends its time). */
TGT static inline float row_x1(const uint16_t *w, int in, const float *x) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int k = 0;
    for (; k + 32 <= in; k += 32) {
        a0 = _mm256_fmadd_ps(load_bf16x8(w + k), _mm256_loadu_ps(x + k), a0);
        a1 = _mm256_fmadd_ps(load_bf16x8(w + k + 8), _mm256_loadu_ps(x + k + 8), a1);
        a2 = _mm256_fmadd_ps(load_bf16x8(w + k + 16), _mm256_loadu_ps(x + k + 16), a2);
        a3 = _mm256_fmadd_ps(load_bf16x8(w + k + 24), _mm256_loadu_ps(x + k + 24), a3);
    }
    for (; k + 8 <= in; k += 8) a0 = _mm256_fmadd_ps(load_bf16x8(w + k), _mm256_loadu_ps(x + k), a0);
    float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; k < in; k++) s += vox_bf16_to_f32(w[k]) * x[k];
    return s;
}

/* One weight row against two input rows, each summed exactly as row_x1 sums it (same
 * accumulators, same order, same tail): a row's result never depends on the other rows of the
 * call, so a k-row decoder forward gives each row the bits of a single step. */
TGT static inline void row_x2(const uint16_t *w, int in, const float *x, const float *z, float *sx, float *sz) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int k = 0;
    for (; k + 32 <= in; k += 32) {
        __m256 w0 = load_bf16x8(w + k), w1 = load_bf16x8(w + k + 8);
        __m256 w2 = load_bf16x8(w + k + 16), w3 = load_bf16x8(w + k + 24);
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + k), a0);
        b0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(z + k), b0);
        a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + k + 8), a1);
        b1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(z + k + 8), b1);
        a2 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(x + k + 16), a2);
        b2 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(z + k + 16), b2);
        a3 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(x + k + 24), a3);
        b3 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(z + k + 24), b3);
    }
    for (; k + 8 <= in; k += 8) {
        __m256 w0 = load_bf16x8(w + k);
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + k), a0);
        b0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(z + k), b0);
    }
    float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    float t = hsum(_mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3)));
    for (; k < in; k++) {
        s += vox_bf16_to_f32(w[k]) * x[k];
        t += vox_bf16_to_f32(w[k]) * z[k];
    }
    *sx = s;
    *sz = t;
}

TGT static void gemv_bf16_avx2(const uint16_t *W, int in, const float *x, int nx, float *y, int ldy, int r0, int r1,
                               const float *b, int acc) {
    for (int r = r0; r < r1; r++) {
        const uint16_t *w = W + (size_t)r * in;
        float bias = b ? b[r] : 0.0f, s[2];
        for (int j = 0; j < nx; j += 2) {
            int nb = nx - j < 2 ? 1 : 2;
            if (nb == 1)
                s[0] = row_x1(w, in, x + (size_t)j * in);
            else
                row_x2(w, in, x + (size_t)j * in, x + (size_t)(j + 1) * in, &s[0], &s[1]);
            for (int i = 0; i < nb; i++) {
                float v = s[i] + bias, *out = y + (size_t)(j + i) * ldy + r;
                *out = acc ? *out + v : v;
            }
        }
    }
}

TGT static void bf16_to_f32_avx2(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_bf16x8(src + i));
    for (; i < n; i++) dst[i] = vox_bf16_to_f32(src[i]);
}

/* exp(x) for x <= 0 (the softmax case; inputs are clamped at -87.3, where exp is ~1e-38). */
TGT static inline __m256 exp_avx2(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

TGT static double exp_sum_avx2(float *x, int n, float mx) {
    __m256 m = _mm256_set1_ps(mx), acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        _mm256_storeu_ps(x + i, v);
        acc = _mm256_add_ps(acc, v);
    }
    double s = hsum(acc);
    for (; i < n; i++) {
        x[i] = expf(x[i] - mx);
        s += x[i];
    }
    return s;
}

/* ---------------- dispatch ---------------- */

void vox_cpu_gemv_bf16(int avx2, const uint16_t *W, int in, const float *x, int nx, float *y, int ldy, int r0, int r1,
                       const float *b, int acc) {
    if (avx2)
        gemv_bf16_avx2(W, in, x, nx, y, ldy, r0, r1, b, acc);
    else
        gemv_bf16_scalar(W, in, x, nx, y, ldy, r0, r1, b, acc);
}

void vox_cpu_bf16_to_f32(int avx2, const uint16_t *src, float *dst, size_t n) {
    if (avx2) {
        bf16_to_f32_avx2(src, dst, n);
        return;
    }
    for (size_t i = 0; i < n; i++) dst[i] = vox_bf16_to_f32(src[i]);
}

double vox_cpu_exp_sum(int avx2, float *x, int n, float mx) {
    if (avx2) return exp_sum_avx2(x, n, mx);
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        s += x[i];
    }
    return s;
}
